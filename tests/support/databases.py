"""Fresh databases for tests: a new database on the running Postgres server, migrated by Alembic;
and many runs at once, for the tests and benchmarks of deep pages."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator, Mapping

import psycopg
import pytest
from alembic import command
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from chalicelib.migrate import alembic_config
from chalicelib.models import Run
from chalicelib.runs import RunFilter, encode_cursor, page_query

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


# What `insert_runs` makes: owners, run types and statuses in turn (one run in 10 is a
# `single_conf`, one in 7 `failed`); one label in 1,000 holds RARE_LABEL_WORD.
RUN_OWNERS = ("alice", "bob", "carol", "dave")
RUN_TYPES = ("ds_etc",) * 3 + ("instance_etc",) * 3 + ("app_bundle",) * 3 + ("single_conf",)
RUN_STATUSES = ("stored", "stored", "stored", "pending", "failed", "cancelled", "expired")
RARE_LABEL_WORD = "needle"


def insert_runs(conn: Connection, count: int) -> None:
    """`count` runs in one INSERT ... SELECT on Postgres (the ORM, a row at a time, would take
    minutes for a million): three created per second, so the id breaks ties; owner, type and
    status vary independently; labels are `nightly <n>`, one in 1,000 `needle <n>`."""
    conn.execute(
        text(
            """
            INSERT INTO ingestion_runs (id, type, label, status, source, created_at, updated_at,
                                        owner)
            SELECT gen_random_uuid(), types[1 + i % 10],
                   CASE WHEN i % 1000 = 0 THEN :rare ELSE 'nightly' END || ' ' || i,
                   statuses[1 + i % 7], 'api', t, t, owners[1 + (i / 4) % 4]
            FROM CAST(:types AS text[]) AS types, CAST(:statuses AS text[]) AS statuses,
                 CAST(:owners AS text[]) AS owners, generate_series(1, :count) AS i,
                 LATERAL (SELECT timestamptz '2025-01-01Z' + (i / 3) * interval '1 s') AS at(t)
            """
        ),
        {
            "count": count,
            "types": list(RUN_TYPES),
            "statuses": list(RUN_STATUSES),
            "owners": list(RUN_OWNERS),
            "rare": RARE_LABEL_WORD,
        },
    )
    conn.execute(text("ANALYZE ingestion_runs"))


def last_page_query(
    session: Session, query: Mapping[str, str], owner: str | None, older: int | None = None
) -> dict[str, str]:
    """`query` with the cursor that `older` runs of the list `GET /v1/runs?<query>` shows `owner`
    follow (default: one page, so the last page a client can walk to); `query` itself when the
    list is not that long."""
    flt = RunFilter.from_query(query)
    newest_first = page_query(flt, owner)
    oldest_first = newest_first.order_by(None).order_by(Run.created_at, Run.id)
    run = session.scalars(oldest_first.offset(older or flt.limit).limit(1)).first()
    return dict(query) if run is None else {**query, "cursor": encode_cursor(run)}
