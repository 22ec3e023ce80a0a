"""The Alembic revisions on a fresh SQLite file and a fresh Postgres database: empty, and with
rows in every table, which every upgrade and downgrade must keep (issue 18)."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, delete, func, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.types import TypeEngine

from chalicelib import migrate as inlet_migrate
from chalicelib.db import Database, make_engine
from chalicelib.migrate import alembic_config
from chalicelib.models import Base, File, Run
from tests.support.databases import migrate, postgres_database

TABLES = set(Base.metadata.tables)

Row = dict[str, object]
# What the database must hold: table -> row id -> column -> value, for the columns it has now.
State = dict[str, dict[object, Row]]


def linear_revisions() -> list[str]:
    """The revisions, first to head."""
    script = ScriptDirectory.from_config(alembic_config())
    assert len(script.get_heads()) == 1, "these tests walk one line of revisions"
    return [script.revision for script in reversed(list(script.walk_revisions()))]


REVISIONS = linear_revisions()
T0 = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)
T1 = T0 + timedelta(minutes=5, seconds=7)
VERSION = "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY+MTRCxf3vjVBH40Nr8X8gdRQBpUMLUo"


def sample_rows(tag: str) -> dict[str, list[Row]]:
    """Rows for every table any revision has had (parents before children), with a value for
    every column any revision has had, so each revision gets the columns it has. Every column
    is non-null in at least one row. `tag` keeps unique columns unique from one call to the next.
    A revision that adds a table or a column fails `seed` until it is added here."""
    parent, child = uuid.uuid4(), uuid.uuid4()
    stored_file, failed_file = uuid.uuid4(), uuid.uuid4()
    return {
        "ingestion_runs": [
            {
                "id": parent,
                "type": "app_bundle",
                "label": f"{tag}: parent",
                "notes": "first upload",
                "status": "stored",
                "source": "api",
                "created_at": T0,
                "updated_at": T1,
                "stored_at": T1,
                "error_code": None,
                "error_message": None,
                "parent_run_id": None,
                "owner": "alice",
                "purged_at": None,
                "companion_key_sha256": "ab" * 32,
            },
            {
                "id": child,
                "type": "logs",
                "label": None,
                "notes": None,
                "status": "failed",
                "source": "bucket",
                "created_at": T1,
                "updated_at": T1,
                "stored_at": None,
                "error_code": "checksum_mismatch",
                "error_message": "sha256 differs",
                "parent_run_id": parent,
                "owner": None,
                "purged_at": T1,
                "companion_key_sha256": None,
            },
        ],
        "files": [
            {
                "id": stored_file,
                "run_id": parent,
                "name": "bundle.zip",
                "object_key": f"{tag}/bundle.zip",
                "size_bytes": 20 * 2**20,
                "content_type": "application/zip",
                "declared_sha256": "a" * 64,
                "sha256": "a" * 64,
                "etag": '"9b2cf535f27731c974343645a3985328-3"',
                "status": "stored",
                "multipart_upload_id": "mpu-1",
                "part_size": 8 * 2**20,
                "upload_completed_at": T1,
                "created_at": T0,
                "stored_at": T1,
                "checked_at": T1,
                "error_code": None,
                "error_message": None,
                "stored_size": 20 * 2**20,
                "sequencer": "0055AED6DCD90281E5",
                "version_id": VERSION,
            },
            {
                "id": failed_file,
                "run_id": child,
                "name": "app.log",
                "object_key": f"{tag}/app.log",
                "size_bytes": 0,
                "content_type": "text/plain",
                "declared_sha256": None,
                "sha256": None,
                "etag": None,
                "status": "failed",
                "multipart_upload_id": None,
                "part_size": None,
                "upload_completed_at": None,
                "created_at": T1,
                "stored_at": None,
                "checked_at": T1,
                "error_code": "checksum_mismatch",
                "error_message": "sha256 differs",
                "stored_size": None,
                "sequencer": None,
                "version_id": None,
            },
        ],
        "integrity_incidents": [
            {
                "id": uuid.uuid4(),
                "run_id": parent,
                "file_id": stored_file,
                "kind": "overwritten",
                "object_key": f"{tag}/bundle.zip",
                "recorded_version_id": VERSION,
                "other_version_id": "UIORUnfndfiufdisojhr398493jfdkjFJjkndnqUifhnw89493jJFJ",
                "detected_at": T1,
                "message": "another version was written over the key",
            },
            {
                "id": uuid.uuid4(),
                "run_id": child,
                "file_id": failed_file,
                "kind": "version_lost",
                "object_key": f"{tag}/app.log",
                "recorded_version_id": None,
                "other_version_id": None,
                "detected_at": T1,
                "message": "the recorded bytes are no longer in the bucket",
            },
        ],
        "run_events": [
            {
                "id": (event := uuid.uuid4()),
                "run_id": parent,
                "type": "run.stored",
                "occurred_at": T1,
                "payload": {"id": str(event), "type": "run.stored", "files": [{"name": "é 🎉"}]},
            }
        ],
        "event_deliveries": [
            {
                "event_id": event,
                "destination": "webhook:https://example.com/hooks/inlet",
                "attempts": 2,
                "next_attempt_at": T1,
                "claimed_until": T1,
                "delivered_at": T1,
                "last_error": "HTTP 503",
            }
        ],
        "dead_letters": [
            {
                "event_id": event,
                "destination": "eventbridge",
                "attempts": 12,
                "last_error": "AccessDenied",
                "died_at": T1,
            }
        ],
        "processing_results": [
            {
                "file_id": stored_file,
                "processor": "manifest",
                "run_id": parent,
                "status": "failed",
                "summary": {"format": "zip", "entries": 3},
                "error_code": "path_traversal",
                "error_message": "entry ../etc/passwd leaves the archive",
                "started_at": T0,
                "finished_at": T1,
            }
        ],
        "manifest_entries": [
            {
                "file_id": stored_file,
                "seq": 0,
                "path": "etc/nginx/nginx.conf",
                "kind": "file",
                "size_bytes": 1234,
                "sha256": "b" * 64,
            }
        ],
        "api_tokens": [
            {
                "id": uuid.uuid4(),
                "name": f"{tag}: ci",
                "owner": "alice",
                "token_hash": hashlib.sha256(f"{tag}: ci".encode()).hexdigest(),
                "created_at": T0,
                "last_used_at": T1,
                "revoked_at": None,
            },
            {
                "id": uuid.uuid4(),
                "name": f"{tag}: old",
                "owner": "bob",
                "token_hash": hashlib.sha256(f"{tag}: old".encode()).hexdigest(),
                "created_at": T0,
                "last_used_at": None,
                "revoked_at": T1,
            },
        ],
    }


def sql_type(value: object) -> TypeEngine[Any]:
    """The column type that binds and reads `value` alike on SQLite and Postgres."""
    if isinstance(value, uuid.UUID):
        return sa.Uuid()
    if isinstance(value, datetime):
        return sa.DateTime(timezone=True)
    if isinstance(value, dict):
        return sa.JSON()
    if isinstance(value, int):
        return sa.BigInteger()
    assert isinstance(value, str), value
    return sa.String()


COLUMN_TYPES = {
    table: {
        column: sql_type(next(v for row in rows if (v := row[column]) is not None))
        for column in rows[0]
    }
    for table, rows in sample_rows("types").items()
}


# Rows are told apart by their primary key: `id`, or these columns.
PRIMARY_KEYS = {
    "event_deliveries": ("event_id", "destination"),
    "dead_letters": ("event_id", "destination"),
    "processing_results": ("file_id", "processor"),
    "manifest_entries": ("file_id", "seq"),
}


def row_key(table: str, row: Mapping[Any, Any]) -> object:
    return tuple(row[column] for column in PRIMARY_KEYS.get(table, ("id",)))


def typed_table(name: str, columns: Iterable[str]) -> sa.TableClause:
    """Plain SQL on the columns a table has at some revision (the models describe head only)."""
    return sa.table(name, *(sa.column(column, COLUMN_TYPES[name][column]) for column in columns))


def schema(conn: Connection) -> dict[str, set[str]]:
    """The tables the database has now, with their columns."""
    found = inspect(conn)
    names = set(found.get_table_names()) - {"alembic_version"}
    return {table: {column["name"] for column in found.get_columns(table)} for table in names}


def normalized(value: object) -> object:
    """SQLite hands back timestamps without a zone (they are stored in UTC); Postgres with one."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


def seed(engine: Engine, state: State, tag: str) -> None:
    """Add sample rows to every table the database has now, as that revision defines it."""
    with engine.begin() as conn:
        tables_now = schema(conn)
        samples = sample_rows(tag)
        unknown = set(tables_now) - set(samples)
        assert not unknown, f"sample_rows has no rows for {sorted(unknown)}: add some"
        for table, rows in samples.items():
            if table not in tables_now:
                continue
            unknown = tables_now[table] - set(rows[0])
            assert not unknown, f"sample_rows lacks {table} columns {sorted(unknown)}: add them"
            for row in rows:
                kept = {
                    column: value for column, value in row.items() if column in tables_now[table]
                }
                conn.execute(sa.insert(typed_table(table, kept)).values(kept))
                state.setdefault(table, {})[row_key(table, row)] = kept


def check(engine: Engine, state: State, step: str) -> None:
    """Every row in `state` is still there with the same values, in every table the database has
    now. A column the revision does not have goes with its data; a column it adds holds whatever
    the migration gave it (its value is then expected to stay). A table the revision does not
    have goes with its rows; a table it adds starts empty."""
    with engine.connect() as conn:
        tables_now = schema(conn)
        for table in set(state) - set(tables_now):
            del state[table]
        for table, columns in sorted(tables_now.items()):
            unknown = columns - set(COLUMN_TYPES.get(table, {}))
            assert not unknown, f"sample_rows lacks {table} columns {sorted(unknown)}: add them"
            query = sa.select(typed_table(table, sorted(columns)))
            found = {row_key(table, row): dict(row) for row in conn.execute(query).mappings()}
            expected = state.setdefault(table, {})
            lost, gained = expected.keys() - found.keys(), found.keys() - expected.keys()
            assert not lost, f"after {step}, {table} lost {len(lost)} of its {len(expected)} rows"
            assert not gained, f"after {step}, {table} gained {len(gained)} rows"
            for key, row in expected.items():
                kept = {column: value for column, value in row.items() if column in columns}
                got = {column: normalized(found[key][column]) for column in kept}
                want = {column: normalized(value) for column, value in kept.items()}
                assert got == want, f"after {step}, {table} row {key} changed"
                expected[key] = {**found[key], **kept}


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database of each kind, not the session's."""
    if request.param == "sqlite":
        urls: Iterator[str] = iter([f"sqlite:///{tmp_path / 'migrations.db'}"])
    else:
        urls = postgres_database()
    url = next(urls)
    engine = make_engine(url)
    yield engine
    engine.dispose()
    next(urls, None)  # drops the Postgres database


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'migrations.db'}")
    yield engine
    engine.dispose()


def url_of(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


def revision_of(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def differences(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))


def test_upgrade_downgrade_upgrade(engine: Engine) -> None:
    url = url_of(engine)
    migrate(url)
    assert tables(engine) == TABLES
    migrate(url, "base", "downgrade")
    assert tables(engine) == set()
    migrate(url)
    assert tables(engine) == TABLES
    indexes = {ix["name"] for ix in inspect(engine).get_indexes("ingestion_runs")}
    assert {"ix_ingestion_runs_status_created", "ix_ingestion_runs_type_created"} <= indexes


@pytest.mark.parametrize("start", REVISIONS[:-1])
def test_upgrading_to_head_keeps_rows(engine: Engine, start: str) -> None:
    url = url_of(engine)
    state: State = {}
    migrate(url, start)
    seed(engine, state, f"at {start}")
    migrate(url)
    check(engine, state, f"upgrade {start} -> head")
    assert revision_of(engine) == REVISIONS[-1]
    assert tables(engine) == TABLES


def test_downgrading_to_base_and_back_keeps_rows(engine: Engine) -> None:
    """Down one revision at a time and up again, adding rows at each revision on the way; then
    down and up in one run each. Only the first revision's downgrade (to no tables) drops rows."""
    url = url_of(engine)
    state: State = {}
    migrate(url)
    seed(engine, state, "head")
    assert {table for table, rows in state.items() if rows} == TABLES
    for newer, older in pairwise(reversed(REVISIONS)):
        migrate(url, older, "downgrade")
        assert revision_of(engine) == older
        check(engine, state, f"downgrade {newer} -> {older}")
        seed(engine, state, f"down at {older}")
    for older, newer in pairwise(REVISIONS):
        migrate(url, newer)
        check(engine, state, f"upgrade {older} -> {newer}")
        seed(engine, state, f"up at {newer}")
    migrate(url, REVISIONS[0], "downgrade")
    check(engine, state, f"downgrade head -> {REVISIONS[0]}")
    migrate(url)
    check(engine, state, f"upgrade {REVISIONS[0]} -> head")
    with engine.connect() as conn:
        counts = {
            t: conn.execute(select(func.count()).select_from(sa.table(t))).scalar_one()
            for t in TABLES
        }
    assert counts == {table: len(rows) for table, rows in state.items()}
    assert counts["files"] == 2 * (2 * len(REVISIONS) - 1)  # two per seed: none went missing
    migrate(url, "base", "downgrade")
    assert tables(engine) == set()


def test_a_connection_handed_to_alembic_keeps_rows_and_sqlite_foreign_keys(
    sqlite_engine: Engine,
) -> None:
    """chalicelib.migrate hands Alembic a connection inside its own transaction: SQLite's
    foreign keys must be off while the migrations run (or a downgrade empties `files`), and on
    again once that connection is back in the pool the app uses."""
    engine = sqlite_engine
    state: State = {}
    migrate(url_of(engine))
    seed(engine, state, "head")
    config = alembic_config()
    with engine.begin() as conn:
        handed_in = conn.connection.dbapi_connection
        config.attributes["connection"] = conn
        command.downgrade(config, REVISIONS[0])
    with engine.connect() as conn:
        assert conn.connection.dbapi_connection is handed_in  # the pool's one connection
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
    check(engine, state, f"downgrade head -> {REVISIONS[0]} in the caller's transaction")
    assert inlet_migrate.upgrade(Database(engine)) == REVISIONS[-1]
    check(engine, state, f"upgrade {REVISIONS[0]} -> head in the caller's transaction")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1


def test_sqlite_migrations_refuse_rows_that_break_a_foreign_key(sqlite_engine: Engine) -> None:
    """Migrations run with SQLite's foreign keys off, so they check them themselves; a file
    whose run is missing stops them before they change anything."""
    url = url_of(sqlite_engine)
    migrate(url, REVISIONS[0])
    orphan = sample_rows("orphan")["files"][0] | {"run_id": uuid.uuid4()}
    raw = sa.create_engine(url)  # without Inlet's PRAGMA foreign_keys=ON
    with raw.begin() as conn:
        kept = {column: orphan[column] for column in schema(conn)["files"]}
        conn.execute(sa.insert(typed_table("files", kept)).values(kept))
    raw.dispose()
    with pytest.raises(RuntimeError, match=r"foreign key.*before migrating.*files"):
        migrate(url)
    assert revision_of(sqlite_engine) == REVISIONS[0]
    assert tables(sqlite_engine) == {"ingestion_runs", "files"}


def test_models_match_the_migrations(engine: Engine) -> None:
    migrate(url_of(engine))
    assert differences(engine) == []


def test_an_empty_database_differs_from_the_models(engine: Engine) -> None:
    """The comparison above can see a difference: it is not vacuous."""
    assert len(differences(engine)) >= 2


@pytest.mark.parametrize(
    ("model", "column", "value"),
    [
        (Run, "status", "bogus"),
        (Run, "source", "email"),
        (File, "status", "bogus"),
        (File, "size_bytes", -1),
    ],
)
def test_check_constraints_hold(
    engine: Engine, model: type[Run | File], column: str, value: object
) -> None:
    migrate(url_of(engine))
    db = Database(engine)
    with db.session() as session:
        run = Run(id=uuid.uuid4(), type="app_bundle")
        session.add(run)
    if model is Run:
        bad: Run | File = Run(id=uuid.uuid4(), type="app_bundle")
    else:
        bad = File(run_id=run.id, name="a", object_key="k", size_bytes=1, content_type="a/b")
    setattr(bad, column, value)
    with pytest.raises(IntegrityError), db.session() as session:
        session.add(bad)


def test_deleting_a_run_deletes_its_files(engine: Engine) -> None:
    migrate(url_of(engine))
    db = Database(engine)
    run = Run(id=uuid.uuid4(), type="app_bundle")
    file = File(run_id=run.id, name="a", object_key="k", size_bytes=1, content_type="a/b")
    with db.session() as session:
        session.add_all([run, file])
    with engine.begin() as conn:
        conn.execute(delete(Run))
        assert conn.execute(select(func.count()).select_from(File)).scalar_one() == 0


def test_file_keys_are_unique_but_for_an_inbox_keys_versions(engine: Engine) -> None:
    """0004: each version of an inbox key is a file (a run) of its own; any other key, and an
    inbox key without versions, is one file."""
    migrate(url_of(engine))
    db = Database(engine)
    run = Run(id=uuid.uuid4(), type="app_bundle")
    with db.session() as session:
        session.add(run)

    def add(key: str, version: str | None) -> None:
        with db.session() as session:
            session.add(
                File(
                    run_id=run.id,
                    name="a",
                    object_key=key,
                    size_bytes=1,
                    content_type="a/b",
                    version_id=version,
                )
            )

    for key, version in [
        ("inbox/a", "v1"),
        ("inbox/a", "v2"),
        ("inbox/b", None),
        ("runs/r/f", None),
    ]:
        add(key, version)
    for key, version in [
        ("inbox/a", "v1"),
        ("inbox/b", None),
        ("runs/r/f", None),
        ("runs/r/f", "v9"),
    ]:
        with pytest.raises(IntegrityError):
            add(key, version)


def test_downgrading_refuses_an_inbox_key_with_several_versions(engine: Engine) -> None:
    url = url_of(engine)
    migrate(url)
    db = Database(engine)
    run = Run(id=uuid.uuid4(), type="app_bundle")
    files = [
        File(
            run_id=run.id,
            name="a",
            object_key="inbox/a",
            size_bytes=1,
            content_type="a/b",
            version_id=v,
        )
        for v in ("v1", "v2")
    ]
    with db.session() as session:
        session.add_all([run, *files])
    migrate(url, "0004", "downgrade")  # the later revisions first: SQLite commits each step
    with pytest.raises(RuntimeError, match="several files"):
        migrate(url, "0003", "downgrade")
    assert revision_of(engine) == "0004"
