"""Reading runs, health and the OpenAPI document through Chalice's test client, both databases."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
from chalice.test import Client

from chalicelib.db import Database
from chalicelib.storage import Storage
from tests.support.api import (
    THREE_PARTS,
    assert_error,
    at,
    closed_url,
    create_run,
    insert_run,
    send,
    set_run_status,
    spec,
    use_clients,
)
from tests.support.config import CORS_ORIGIN


def page(api: Client, query: str = "") -> dict[str, Any]:
    response = send(api, "GET", f"/v1/runs{query}")
    assert response.status_code == 200, response.body
    body: dict[str, Any] = response.json_body
    return body


def ids(body: dict[str, Any]) -> list[str]:
    return [run["id"] for run in body["items"]]


def walk(api: Client, query: str) -> list[str]:
    """Follow next_cursor to the end; every id seen, page after page."""
    seen: list[str] = []
    cursor = None
    while True:
        body = page(api, query + (f"&cursor={cursor}" if cursor else ""))
        seen += ids(body)
        cursor = body["next_cursor"]
        if cursor is None:
            return seen


def test_list_is_newest_first_with_totals(api: Client) -> None:
    older = create_run(api, spec(size=5), spec(size=7))["run"]
    newer = create_run(api, spec(size=THREE_PARTS))["run"]
    body = page(api)
    assert body["next_cursor"] is None
    assert ids(body) == [newer["id"], older["id"]]
    totals = [(r["file_count"], r["total_bytes"]) for r in body["items"]]
    assert totals == [(1, THREE_PARTS), (2, 12)]
    assert body["items"][1] == older


def test_a_run_without_files_counts_zero(api: Client, db: Database) -> None:
    run_id = insert_run(db, at(0))
    [run] = page(api)["items"]
    assert (run["id"], run["file_count"], run["total_bytes"]) == (run_id, 0, 0)
    assert run["created_at"] == at(0).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_filters_by_status_and_type(api: Client, db: Database) -> None:
    stored = insert_run(db, at(1), "ds_etc", "stored")
    pending = insert_run(db, at(2), "ds_etc")
    bundle = insert_run(db, at(3), "app_bundle", "stored")
    assert ids(page(api, "?status=stored")) == [bundle, stored]
    assert ids(page(api, "?type=ds_etc")) == [pending, stored]
    assert ids(page(api, "?status=stored&type=ds_etc")) == [stored]
    assert ids(page(api, "?status=cancelled")) == []
    assert ids(page(api, "?type=unknown_type")) == []
    assert ids(page(api, "?status=&type=")) == [bundle, pending, stored]  # empty means any


def test_keyset_pages_cover_every_run_once(api: Client, db: Database) -> None:
    # Three runs share one creation time: the id breaks the tie.
    created = [insert_run(db, at(minute)) for minute in (1, 2, 3, 3, 3, 4, 5)]
    first = page(api, "?limit=3")
    assert len(first["items"]) == 3
    assert first["next_cursor"]

    everything = walk(api, "?limit=3")
    assert len(everything) == len(set(everything)) == 7
    assert set(everything) == set(created)
    assert everything == ids(page(api, "?limit=200"))
    assert walk(api, "?limit=7") == everything
    assert page(api, "?limit=7")["next_cursor"] is None


def test_pages_are_stable_when_runs_are_added(api: Client, db: Database) -> None:
    for minute in range(1, 8):
        insert_run(db, at(minute))
    expected = ids(page(api))
    first = page(api, "?limit=3")
    newer = create_run(api)["run"]["id"]  # newest of all: belongs before the first page
    insert_run(db, at(0))  # oldest of all: belongs after the last page

    rest: list[str] = []
    cursor = first["next_cursor"]
    while cursor:
        body = page(api, f"?limit=3&cursor={cursor}")
        rest += ids(body)
        cursor = body["next_cursor"]
    assert ids(first) + rest[:4] == expected
    assert newer not in rest
    assert len(rest) == 5


def test_filtered_pagination(api: Client, db: Database) -> None:
    wanted = [insert_run(db, at(m), "ds_etc") for m in range(1, 6)]
    for minute in range(10, 15):
        insert_run(db, at(minute), "app_bundle")
    assert walk(api, "?type=ds_etc&limit=2") == wanted[::-1]


def test_search_finds_a_part_of_the_label_in_any_case(api: Client) -> None:
    nightly = create_run(api, label="Nightly ETL")["run"]["id"]
    weekly = create_run(api, label="weekly etl", notes="not searched")["run"]["id"]
    create_run(api, label="backup")
    create_run(api)  # no label: never matches
    assert ids(page(api, "?q=etl")) == [weekly, nightly]
    assert ids(page(api, "?q=NIGHTLY%20e")) == [nightly]
    assert ids(page(api, "?q=searched")) == []
    assert walk(api, "?q=ETL&limit=1") == [weekly, nightly]
    assert len(ids(page(api, "?q="))) == 4  # empty means any, as for status and type


def test_search_takes_wildcards_literally(api: Client) -> None:
    percent = create_run(api, label="100% done")["run"]["id"]
    underscore = create_run(api, label="a_b_c")["run"]["id"]
    backslash = create_run(api, label="C:\\temp")["run"]["id"]
    create_run(api, label="1000 done, axbxc, C:temp")
    assert ids(page(api, "?" + urlencode({"q": "0% d"}))) == [percent]
    assert ids(page(api, "?" + urlencode({"q": "a_b"}))) == [underscore]
    assert ids(page(api, "?" + urlencode({"q": ":\\t"}))) == [backslash]


@pytest.mark.parametrize("q", ["ab", "x" * 201, "tab\there", "bidi\u202e"])
def test_search_terms_are_3_to_200_printable_characters(api: Client, q: str) -> None:
    error = assert_error(
        send(api, "GET", "/v1/runs?" + urlencode({"q": q})), 422, "validation_error"
    )
    assert "q must be 3 to 200 printable characters" in error["message"]


def test_run_detail_lists_its_files(api: Client) -> None:
    created = create_run(api, spec("a.txt", 3), spec("b.bin", THREE_PARTS), label="two")
    run = created["run"]
    response = send(api, "GET", f"/v1/runs/{run['id']}")
    assert response.status_code == 200
    detail = response.json_body
    files = detail.pop("files")
    assert detail.pop("incidents") == []
    assert detail == run
    assert [f["name"] for f in files] == ["a.txt", "b.bin"]
    assert files[1] == {k: v for k, v in created["files"][1].items() if k != "upload"}


def test_run_detail_shows_state_and_unknown_runs_are_404(api: Client, db: Database) -> None:
    run_id = create_run(api)["run"]["id"]
    set_run_status(db, run_id, "failed")
    assert send(api, "GET", f"/v1/runs/{run_id}").json_body["status"] == "failed"
    unknown = "00000000-0000-4000-8000-000000000000"
    assert_error(send(api, "GET", f"/v1/runs/{unknown}"), 404, "not_found")


def test_health_ok(api: Client) -> None:
    response = send(api, "GET", "/health")
    assert response.status_code == 200
    assert response.json_body == {"status": "ok", "checks": {"db": "ok", "storage": "ok"}}


@pytest.mark.parametrize("broken", ["db", "storage"])
def test_health_503_names_the_failing_check(
    api: Client, storage: Storage, monkeypatch: pytest.MonkeyPatch, broken: str
) -> None:
    down = Database.from_url(closed_url("postgresql://postgres@"))
    if broken == "db":
        use_clients(monkeypatch, db=down)
    else:
        missing = Storage(storage.client, "no-such-bucket", 60)
        use_clients(monkeypatch, storage=missing)

    response = send(api, "GET", "/health")

    assert response.status_code == 503
    body = response.json_body
    assert body["status"] == "error"
    healthy = "storage" if broken == "db" else "db"
    assert body["checks"][healthy] == "ok"
    assert body["checks"][broken].startswith("error: ")
    down.engine.dispose()


def test_reads_are_503_when_the_database_is_down(
    api: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    down = Database.from_url(closed_url("postgresql://postgres@"))
    use_clients(monkeypatch, db=down)
    assert_error(send(api, "GET", "/v1/runs"), 503, "unavailable")
    unknown = "00000000-0000-4000-8000-000000000000"
    assert_error(send(api, "GET", f"/v1/runs/{unknown}"), 503, "unavailable")
    down.engine.dispose()


def test_openapi_document_is_served(api: Client) -> None:
    response = send(api, "GET", "/v1/openapi.json")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    document = response.json_body
    assert document["openapi"] == "3.1.0"
    assert "/v1/runs" in document["paths"]


def test_responses_carry_security_and_cors_headers(api: Client) -> None:
    response = api.http.get("/health", headers={"Origin": CORS_ORIGIN})
    assert response.headers["Access-Control-Allow-Origin"] == CORS_ORIGIN
    assert response.headers["Access-Control-Expose-Headers"] == "ETag, Retry-After"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    other = api.http.get("/health", headers={"Origin": "http://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers
    assert other.headers["Vary"] == "Origin"


def test_wrong_method_is_a_json_405(api: Client) -> None:
    response = send(api, "PUT", "/v1/runs")
    assert_error(response, 405, "method_not_allowed")
    assert response.headers["Allow"] == "GET, OPTIONS"


def test_preflight_in_process(api: Client) -> None:
    """Chalice's test client can preflight here because the app routes OPTIONS itself."""
    headers = {"Origin": CORS_ORIGIN, "Access-Control-Request-Method": "POST"}
    allowed = api.http.options("/v1/uploads/{run_id}/files/{file_id}/parts", headers=headers)
    assert allowed.status_code == 204
    assert allowed.headers["Access-Control-Allow-Origin"] == CORS_ORIGIN
    assert allowed.headers["Access-Control-Allow-Methods"] == "GET, OPTIONS, POST"
    refused = api.http.options("/v1/uploads", headers={**headers, "Origin": "http://evil.example"})
    assert_error(refused, 403, "forbidden")
    assert "Access-Control-Allow-Origin" not in refused.headers
