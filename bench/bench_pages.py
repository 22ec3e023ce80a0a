"""`make bench-pages`: `GET /v1/runs` at any depth on Postgres, with and without filters, against
the query it replaced (the cursor as `created_at < :t OR (created_at = :t AND id < :id)`, which
Postgres applies as a filter), same database, same run. Not a test.

A fresh database on the running Postgres server gets `--runs` runs in one INSERT ... SELECT
(tests/support/databases.py, insert_runs: four owners, every type and status, one label in
1,000 holding `needle`), then ANALYZE. For each list (no filter, status, type, owner, their
combinations, a rare and a common label search) and each depth (the first page, the page half
way down, and the last page a client can walk to: cursors computed directly), the Runs service
is timed serving the page: p50 and p99 over `--rounds` calls, for the row-comparison cursor and
for the old OR form (the baseline; `--baseline-rounds` calls, it is slow half way down). "SQL
alone" is the page's query on an open connection: the floor for the service, which also opens a
session, checks the connection, sums the page's files and serializes. With `--http`, the first
and last pages are also fetched through `chalice local` (local/api_server.py), kept alive.

A million runs take minutes to insert: `--keep` leaves the database in place and prints its URL,
`--database-url URL` measures such a database again without inserting anything.

    .venv/bin/python bench/bench_pages.py [--runs 100000] [--rounds 300] [--baseline-rounds 20]
        [--http] [--keep | --database-url URL]
    # the issue's size: --runs 1000000
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
for _name, _value in {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
    "INLET_AUTH": "off",
}.items():
    os.environ.setdefault(_name, _value)

import requests  # noqa: E402
from sqlalchemy import Select, and_, func, or_, select  # noqa: E402

from chalicelib import runs as runs_module  # noqa: E402
from chalicelib.config import Settings  # noqa: E402
from chalicelib.db import Database  # noqa: E402
from chalicelib.models import Run  # noqa: E402
from chalicelib.runs import RunFilter, Runs, decode_cursor, like_pattern, page_query  # noqa: E402
from chalicelib.storage import make_s3_client  # noqa: E402
from local.processes import moto_server  # noqa: E402
from local.resources import ensure_upload_bucket  # noqa: E402
from tests.support.api import api_server  # noqa: E402
from tests.support.config import BUCKET, CORS_ORIGIN  # noqa: E402
from tests.support.databases import (  # noqa: E402
    RARE_LABEL_WORD,
    insert_runs,
    last_page_query,
    migrate,
    postgres_database,
)

GOAL_MS = 20.0
# What a client lists: (name, query string, owner); owner None is authentication off.
LISTS: list[tuple[str, dict[str, str], str | None]] = [
    ("all runs", {}, None),
    ("status=failed", {"status": "failed"}, None),
    ("type=single_conf", {"type": "single_conf"}, None),
    ("status+type", {"status": "failed", "type": "single_conf"}, None),
    ("owner", {}, "alice"),
    ("owner+status", {"status": "failed"}, "alice"),
    ("owner+type", {"type": "single_conf"}, "alice"),
    ("owner+status+type", {"status": "failed", "type": "single_conf"}, "alice"),
    (f"q={RARE_LABEL_WORD} (1 in 1,000)", {"q": RARE_LABEL_WORD}, None),
    ("q=nightly (almost all)", {"q": "nightly"}, None),
    (f"owner+q={RARE_LABEL_WORD}", {"q": RARE_LABEL_WORD}, "alice"),
]


def or_form_page_query(flt: RunFilter, owner: str | None) -> Select[Run]:
    """The baseline: chalicelib.runs.page_query as it was before issue 14."""
    query = select(Run).order_by(Run.created_at.desc(), Run.id.desc()).limit(flt.limit + 1)
    if owner is not None:
        query = query.where(Run.owner == owner)
    if flt.status:
        query = query.where(Run.status == flt.status)
    if flt.type:
        query = query.where(Run.type == flt.type)
    if flt.q:
        query = query.where(Run.label.ilike(like_pattern(flt.q), escape="\\"))
    if flt.cursor:
        created_at, run_id = decode_cursor(flt.cursor)
        query = query.where(
            or_(Run.created_at < created_at, and_(Run.created_at == created_at, Run.id < run_id))
        )
    return query


@contextmanager
def or_form() -> Iterator[None]:
    row_form = runs_module.page_query
    runs_module.page_query = or_form_page_query
    try:
        yield
    finally:
        runs_module.page_query = row_form


def interleaved(
    new: Callable[[], object], old: Callable[[], object], rounds: int, old_rounds: int
) -> tuple[list[float], list[float]]:
    """Milliseconds of `rounds` calls of `new` and `old_rounds` of `old`, taken in turns (so
    that both meet the same load on a shared machine), after one untimed call each."""
    new_ms: list[float] = []
    old_ms: list[float] = []
    new()
    old()
    for turn in range(rounds):
        for call, samples in ((new, new_ms), (old, old_ms)):
            if samples is old_ms and turn >= old_rounds:
                continue
            start = time.perf_counter()
            call()
            samples.append((time.perf_counter() - start) * 1000)
    return new_ms, old_ms


def p50_p99(samples: list[float]) -> tuple[float, float]:
    if len(samples) < 2:
        return samples[0], samples[0]
    return statistics.median(samples), statistics.quantiles(samples, n=100)[98]


def measure_lists(db: Database, rounds: int, baseline_rounds: int) -> None:
    service = Runs(db)
    print(
        "| list | page | Runs.page p50 / p99 ms | its SQL alone p50 ms | OR form (baseline) "
        "Runs.page p50 / p99 ms | its SQL alone p50 ms | baseline / new (p50) | "
        f"goal p99 < {GOAL_MS:.0f} ms |"
    )
    print("|---|---|---|---|---|---|---|---|")
    connection = db.engine.connect()  # "SQL alone": no session, pool or transaction around it
    for name, query, owner in LISTS:
        with db.session() as session:
            filtered = page_query(RunFilter.from_query(query), owner).order_by(None).limit(None)
            count = session.scalar(select(func.count()).select_from(filtered.subquery()))
            assert count is not None
            half = last_page_query(session, query, owner, count // 2)
            depths = [
                ("first", query),
                (f"middle ({count // 2:,} deep)", half),
                ("last", last_page_query(session, query, owner)),
            ]
        for depth, params in depths:
            flt = RunFilter.from_query(params)
            row, ors = page_query(flt, owner), or_form_page_query(flt, owner)

            def page(params: dict[str, str] = params, owner: str | None = owner) -> None:
                service.page(params, owner)

            def old_page(params: dict[str, str] = params, owner: str | None = owner) -> None:
                with or_form():
                    service.page(params, owner)

            def sql(statement: Select[Run]) -> Callable[[], object]:
                return lambda: connection.execute(statement).all()

            new, old = (p50_p99(ms) for ms in interleaved(page, old_page, rounds, baseline_rounds))
            new_sql, old_sql = (
                p50_p99(ms)[0] for ms in interleaved(sql(row), sql(ors), rounds, baseline_rounds)
            )
            verdict = "yes" if new[1] < GOAL_MS else "**no**"
            print(
                f"| {name} | {depth} | {new[0]:.2f} / {new[1]:.2f} | {new_sql:.2f} | "
                f"{old[0]:.2f} / {old[1]:.2f} | {old_sql:.2f} | {old[0] / new[0]:.1f}x | "
                f"{verdict} |"
            )
    connection.close()


def measure_http(url: str, db: Database, rounds: int) -> None:
    with db.session() as session:
        last = last_page_query(session, {"limit": "50"}, None)
    with moto_server() as s3:
        ensure_upload_bucket(make_s3_client(Settings(s3_endpoint_url=s3)), BUCKET, [CORS_ORIGIN])
        with api_server(url, s3, POWERTOOLS_LOG_LEVEL="ERROR") as base, requests.Session() as http:

            def get(params: dict[str, str]) -> Callable[[], object]:
                def call() -> None:
                    response = http.get(f"{base}/v1/runs", params=params, timeout=30)
                    assert response.status_code == 200, response.text

                return call

            first_ms, last_ms = interleaved(get({"limit": "50"}), get(last), rounds, rounds)
    print("\n| GET /v1/runs?limit=50 through chalice local, kept alive | p50 / p99 ms |")
    print("|---|---|")
    for page, samples in (("first page", first_ms), ("last page", last_ms)):
        p50, p99 = p50_p99(samples)
        print(f"| {page} | {p50:.2f} / {p99:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=300, help="calls timed per list and page")
    parser.add_argument("--baseline-rounds", type=int, default=20)
    parser.add_argument("--http", action="store_true", help="also through chalice local")
    given = parser.add_mutually_exclusive_group()
    given.add_argument("--keep", action="store_true", help="do not drop the database")
    given.add_argument("--database-url", help="a database filled by an earlier --keep run")
    args = parser.parse_args()

    databases = postgres_database()
    url = args.database_url or next(databases)
    try:
        db = Database.from_url(url)
        if not args.database_url:
            migrate(url)
            start = time.perf_counter()
            with db.engine.begin() as conn:
                insert_runs(conn, args.runs)
            elapsed = time.perf_counter() - start
            print(f"{args.runs:,} runs inserted and analyzed in {elapsed:.1f} s")
        with db.session() as session:
            print(f"{session.scalar(select(func.count()).select_from(Run)):,} runs in {url}")
        print(f"limit=50; {args.rounds} calls per cell ({args.baseline_rounds} for the baseline)\n")
        measure_lists(db, args.rounds, args.baseline_rounds)
        if args.http:
            measure_http(url, db, args.rounds)
        db.engine.dispose()
    finally:
        if not (args.keep or args.database_url):
            next(databases, None)  # drops the database


if __name__ == "__main__":
    main()
