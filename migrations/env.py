"""Alembic environment: the URL comes from Inlet's settings; SQLite gets batch mode for ALTERs."""

from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from logging.config import fileConfig
from typing import Any

from alembic import context
from alembic.runtime.migration import MigrationContext, MigrationInfo
from sqlalchemy import Connection, event

from chalicelib.config import Settings
from chalicelib.db import make_engine
from chalicelib.models import Base

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logging", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:  # handed in by tests or the dev runner
        _migrate(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or Settings.from_env().database_url
    engine = make_engine(url)
    with engine.connect() as conn:
        _migrate(conn)
    engine.dispose()


def _migrate(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    with _sqlite_foreign_keys_off(connection) if sqlite else nullcontext():
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=sqlite,
            compare_type=True,
            on_version_apply=_check_sqlite_foreign_keys_after if sqlite else None,
        )
        with context.begin_transaction():
            context.run_migrations()


# Why SQLite migrations run with foreign keys off (issue 18): SQLite cannot alter most of a
# table, so batch mode recreates it: CREATE _alembic_tmp_x, copy the rows, DROP TABLE x, rename.
# With foreign keys on (chalicelib/db.py turns them on for every connection), DROP TABLE first
# deletes every row, and ON DELETE CASCADE takes the rows that reference them along: recreating
# ingestion_runs emptied `files`. This is the procedure SQLite documents for altering a table
# (https://www.sqlite.org/lang_altertable.html#otheralter): foreign keys off, then
# `PRAGMA foreign_key_check` in their place, here before migrating (so that a violation found
# later is the migrations') and after every revision, failing loudly.
#
# SQLite ignores PRAGMA foreign_keys inside a transaction, so it is sent on the DBAPI connection
# before Alembic writes anything (the sqlite3 driver only opens a transaction on a write). Sent
# through SQLAlchemy it would autobegin a transaction, and Alembic would then take the connection
# for a caller's and never commit.


@contextmanager
def _sqlite_foreign_keys_off(connection: Connection) -> Iterator[None]:
    was_on = _pragma(connection, "foreign_keys") == [(1,)]
    if was_on:
        _pragma(connection, "foreign_keys=OFF")
        if _pragma(connection, "foreign_keys") != [(0,)]:
            raise RuntimeError(
                "cannot turn SQLite foreign keys off for the migrations: the connection handed to "
                "Alembic is in a transaction that has already written; hand it over before any write"
            )
    try:
        _check_sqlite_foreign_keys(connection, "before migrating")
        yield
    finally:
        if was_on:
            _sqlite_foreign_keys_back_on(connection)


def _check_sqlite_foreign_keys_after(  # Alembic passes these four by keyword
    ctx: MigrationContext, step: MigrationInfo, heads: Collection[Any], run_args: Mapping[str, Any]
) -> None:
    assert ctx.connection is not None
    direction = "upgrade" if step.is_upgrade else "downgrade"
    source = ", ".join(step.source_revision_ids) or "base"
    destination = ", ".join(step.destination_revision_ids) or "base"
    _check_sqlite_foreign_keys(ctx.connection, f"after {direction} {source} -> {destination}")


def _check_sqlite_foreign_keys(connection: Connection, when: str) -> None:
    broken = _pragma(connection, "foreign_key_check")
    if broken:
        rows = "; ".join(
            f"{table} rowid {rowid} -> {parent}" for table, rowid, parent, _ in broken[:10]
        )
        raise RuntimeError(
            f"SQLite foreign key violations {when}: {len(broken)} rows reference rows that do "
            f"not exist ({rows}); migrations run with foreign keys off and stop here instead"
        )


def _sqlite_foreign_keys_back_on(connection: Connection) -> None:
    _pragma(connection, "foreign_keys=ON")
    if _pragma(connection, "foreign_keys") == [(1,)]:
        return
    # Still inside the transaction of whoever handed the connection in (chalicelib.migrate):
    # turn them on when the connection goes back to its pool, once that transaction has ended,
    # so the app never gets a pooled connection without them.
    migrated = connection.connection.dbapi_connection
    assert migrated is not None
    restored = False

    def restore(dbapi_connection: Any, _record: Any) -> None:
        nonlocal restored
        if dbapi_connection is migrated and not restored:
            restored = True
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

    event.listen(connection.engine.pool, "checkin", restore)


def _pragma(connection: Connection, pragma: str) -> list[tuple[Any, ...]]:
    cursor = connection.connection.cursor()
    try:
        cursor.execute(f"PRAGMA {pragma}")
        return [tuple(row) for row in cursor.fetchall()]
    finally:
        cursor.close()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run against a database")
run_migrations()
