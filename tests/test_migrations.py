"""The Alembic revisions on a fresh SQLite file and a fresh Postgres database."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, delete, func, inspect, select
from sqlalchemy.exc import IntegrityError

from chalicelib.db import Database, make_engine
from chalicelib.models import Base, File, Run
from tests.conftest import _postgres_database, migrate

TABLES = set(Base.metadata.tables)


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database of each kind, not the session's."""
    if request.param == "sqlite":
        urls: Iterator[str] = iter([f"sqlite:///{tmp_path / 'migrations.db'}"])
    else:
        urls = _postgres_database()
    url = next(urls)
    engine = make_engine(url)
    yield engine
    engine.dispose()
    next(urls, None)  # drops the Postgres database


def url_of(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names()) - {"alembic_version"}


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
