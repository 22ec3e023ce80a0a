"""The plans Postgres makes for the runs list (issue 14): every page, the first and the deepest,
with or without filters, reads its index from the cursor on (an Index Cond), never by filtering
rows out. The plan is tested, not the time (bench/bench_pages.py measures that)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event

from chalicelib.db import Database
from chalicelib.runs import Runs
from tests.support.databases import (
    RARE_LABEL_WORD,
    insert_runs,
    last_page_query,
    migrate,
    postgres_database,
)

# Enough that a sequential scan and a sort would be the cheaper plan for a careless query.
RUNS = 30_000
OWNER = "alice"

PAGE = 50  # the default limit
Plan = dict[str, Any]
# The plan nodes that read an index's range: in its order, or as a bitmap of the rows in it.
INDEX_READS = {"Index Scan", "Index Only Scan", "Bitmap Index Scan"}


@pytest.fixture(scope="module")
def many_runs() -> Iterator[Database]:
    """A Postgres database of its own with RUNS runs, analyzed."""
    urls = postgres_database()
    url = next(urls)
    migrate(url)
    db = Database.from_url(url)
    with db.engine.begin() as conn:
        insert_runs(conn, RUNS)
    yield db
    db.engine.dispose()
    next(urls, None)


def plan_of_page(db: Database, query: dict[str, str], owner: str | None) -> Plan:
    """EXPLAIN of the statement `Runs.page` really sends for this list (captured on the way to
    the database), with the parameters it sent."""
    sent: list[tuple[str, Any]] = []

    def capture(_conn: object, _cursor: object, statement: str, parameters: Any, *_: Any) -> None:
        sent.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        Runs(db).page(query, owner)
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    statement, parameters = sent[0]  # the page; the file totals come after
    assert "FROM ingestion_runs" in statement, statement
    with db.engine.connect() as conn:
        explained = conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {statement}", parameters)
        plan: Plan = explained.scalar_one()[0]["Plan"]
    return plan


def nodes(plan: Plan) -> Iterator[Plan]:
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child)


def deepest(db: Database, query: dict[str, str], owner: str | None) -> dict[str, str]:
    with db.session() as session:
        return last_page_query(session, query, owner)


FILTERS = {
    "none": ({}, "ix_ingestion_runs_created"),
    "status": ({"status": "failed"}, "ix_ingestion_runs_status_created"),
    "type": ({"type": "single_conf"}, "ix_ingestion_runs_type_created"),
    "status+type": (
        {"status": "failed", "type": "single_conf"},
        "ix_ingestion_runs_status_type_created",
    ),
}
# With authentication on, every list is one owner's: the owner's column comes first.
OWNED = {
    "none": "ix_ingestion_runs_owner_created",
    "status": "ix_ingestion_runs_owner_status_created",
    "type": "ix_ingestion_runs_owner_type_created",
    "status+type": "ix_ingestion_runs_owner_status_type_created",
}


@pytest.mark.parametrize("depth", ["first", "deepest"])
@pytest.mark.parametrize("owner", [None, OWNER])
@pytest.mark.parametrize("filters", FILTERS)
def test_each_page_is_one_ordered_index_range(
    many_runs: Database, filters: str, owner: str | None, depth: str
) -> None:
    query, index = FILTERS[filters]
    if owner is not None:
        index = OWNED[filters]
    if depth == "deepest":
        query = deepest(many_runs, query, owner)
    plan = plan_of_page(many_runs, query, owner)

    [scan] = [n for n in nodes(plan) if n["Node Type"] in INDEX_READS]
    assert scan["Index Name"] == index, plan
    condition = scan.get("Index Cond", "")
    for column, value in [("owner", owner), *query.items()]:
        if column != "cursor" and value is not None:
            assert f"(({column})::text = '{value}'::text)" in condition
    if depth == "deepest":
        assert "ROW(created_at, id) < ROW(" in condition
    assert not [n for n in nodes(plan) if "Filter" in n], plan  # no row read to be thrown away
    if scan["Node Type"] == "Bitmap Index Scan":  # the rows of the range, then sorted:
        assert scan["Plan Rows"] <= 2 * PAGE, plan  # chosen when the range is a last page
    else:
        assert scan["Scan Direction"] == "Backward", plan  # newest first, in the index's order


@pytest.mark.parametrize("depth", ["first", "deepest"])
@pytest.mark.parametrize("owner", [None, OWNER])
def test_a_rare_label_term_is_found_by_its_trigrams(
    many_runs: Database, owner: str | None, depth: str
) -> None:
    """One run in 1,000 has the word: the trigram index finds those few at any depth (the
    cursor then sorts out only them, never the runs that do not match)."""
    query = {"q": RARE_LABEL_WORD, "limit": "5"}
    if depth == "deepest":
        query = deepest(many_runs, query, owner)
    plan = plan_of_page(many_runs, query, owner)
    [scan] = [n for n in nodes(plan) if n["Node Type"] in INDEX_READS]
    assert scan["Index Name"] == "ix_ingestion_runs_label_trgm", plan
    assert scan["Index Cond"] == f"((label)::text ~~* '%{RARE_LABEL_WORD}%'::text)"


@pytest.mark.parametrize("owner", [None, OWNER])
def test_a_common_label_term_walks_the_ordered_index(
    many_runs: Database, owner: str | None
) -> None:
    """Almost every run matches: reading the order's index from the cursor finds a page at
    once; the label is checked on the rows read (about one page's worth)."""
    query = deepest(many_runs, {"q": "nightly"}, owner)
    plan = plan_of_page(many_runs, query, owner)
    (scan,) = plan["Plans"]
    assert (scan["Node Type"], scan["Scan Direction"]) == ("Index Scan", "Backward")
    assert "ROW(created_at, id) < ROW(" in scan["Index Cond"]
    assert scan["Filter"] == "((label)::text ~~* '%nightly%'::text)"


def test_pages_are_planned_for_their_own_values(many_runs: Database) -> None:
    """A statement psycopg prepares (run 5 times on a connection, by default) gets one generic
    plan from Postgres for all values, which cannot know that an owner or status is rare: it
    reads the unfiltered index and filters them out row by row. The app prepares nothing, so
    each page is planned for its own values, as EXPLAIN shows above."""
    runs = Runs(many_runs)
    for query, owner in [({"status": "failed"}, OWNER), ({"q": RARE_LABEL_WORD}, None)]:
        deep = deepest(many_runs, query, owner)
        for _ in range(10):
            runs.page(query, owner)
            runs.page(deep, owner)
    with many_runs.engine.connect() as conn:  # the connection those pages used: one at a time
        assert conn.connection.dbapi_connection.prepare_threshold is None  # type: ignore[union-attr]
        prepared = conn.exec_driver_sql("SELECT statement FROM pg_prepared_statements")
        assert prepared.scalars().all() == []
