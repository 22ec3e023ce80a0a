"""A few requests through a real `chalice local` process over HTTP, as browsers and curl do."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from chalicelib.db import Database
from tests.support.api import TWO_PARTS, api_server
from tests.support.config import CORS_ORIGIN

pytestmark = pytest.mark.http


@pytest.fixture(scope="session")
def server(
    database_url: str, migrated_db: Database, s3_endpoint: str, bucket_ready: None
) -> Iterator[str]:
    """`chalice local` on a free port over the session's database and bucket; its base URL."""
    cors = f"{CORS_ORIGIN}, http://second.example"
    with api_server(database_url, s3_endpoint, INLET_CORS_ORIGINS=cors) as base:
        yield base


def preflight(base: str, path: str, origin: str) -> requests.Response:
    headers = {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    return requests.options(f"{base}{path}", headers=headers, timeout=10)


def test_health(server: str) -> None:
    response = requests.get(f"{server}/health", timeout=10)
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"db": "ok", "storage": "ok"}}


def test_create_and_read_a_run(server: str, db: Database) -> None:
    body = {"type": "ds_etc", "files": [{"name": "a.bin", "size": TWO_PARTS}]}
    created = requests.post(f"{server}/v1/uploads", json=body, timeout=10)
    assert created.status_code == 201, created.text
    run = created.json()["run"]
    assert created.json()["files"][0]["upload"]["part_count"] == 2

    detail = requests.get(f"{server}/v1/runs/{run['id']}", timeout=10)
    assert detail.status_code == 200
    assert detail.json()["files"][0]["size_bytes"] == TWO_PARTS
    assert requests.delete(f"{server}/v1/uploads/{run['id']}", timeout=10).json()["status"] == (
        "cancelled"
    )


@pytest.mark.parametrize("origin", [CORS_ORIGIN, "http://second.example"])
def test_preflight_from_an_allowed_origin(server: str, origin: str) -> None:
    response = preflight(server, "/v1/uploads", origin)
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == origin
    assert response.headers["Access-Control-Expose-Headers"] == "ETag, Retry-After"
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert "content-type" in response.headers["Access-Control-Allow-Headers"].lower()


def test_preflight_from_another_origin_is_refused(server: str) -> None:
    response = preflight(server, "/v1/runs/{run_id}", "http://evil.example")
    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response.headers
    assert response.json()["error"]["code"] == "forbidden"


def test_cors_headers_on_a_real_get(server: str) -> None:
    allowed = requests.get(f"{server}/v1/runs", headers={"Origin": CORS_ORIGIN}, timeout=10)
    assert allowed.status_code == 200
    assert allowed.headers["Access-Control-Allow-Origin"] == CORS_ORIGIN
    assert allowed.headers["Access-Control-Expose-Headers"] == "ETag, Retry-After"
    refused = requests.get(
        f"{server}/v1/runs", headers={"Origin": "http://evil.example"}, timeout=10
    )
    assert refused.status_code == 200  # the browser, not the API, withholds the body
    assert "Access-Control-Allow-Origin" not in refused.headers


def test_errors_are_json(server: str) -> None:
    wrong_method = requests.put(f"{server}/v1/runs", timeout=10)
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"]["code"] == "method_not_allowed"
    bad_body = requests.post(
        f"{server}/v1/uploads",
        data=b"[1, 2]",
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert bad_body.status_code == 400
    assert bad_body.json()["error"]["code"] == "bad_request"
    unknown = requests.get(f"{server}/v1/nothing-here", timeout=10)
    # Like API Gateway, the local gateway answers unknown routes itself, before the app.
    assert unknown.status_code == 403
    assert unknown.headers["Content-Type"] == "application/json"
    assert unknown.json() == {"message": "Missing Authentication Token"}
