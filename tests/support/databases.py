"""Fresh databases for tests: a new database on the running Postgres server, migrated by Alembic."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from alembic import command

from chalicelib.migrate import alembic_config

PG_ADMIN_URL = os.environ.get("INLET_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def migrate(url: str, revision: str = "head", direction: str = "upgrade") -> None:
    getattr(command, direction)(alembic_config(url), revision)


def postgres_database() -> Iterator[str]:
    """Yields the URL of a new, empty database; drops it when resumed."""
    name = f"inlet_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"Postgres is unreachable at {PG_ADMIN_URL} (CI must test it): {exc}")
        pytest.skip(f"Postgres is unreachable at {PG_ADMIN_URL}: {exc}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
