"""Security over real HTTP: a `chalice local` process with authentication on, as deployed:
tokens, owners, security headers, CORS, the body cap, and the scope and lifetime of presigned
URLs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from chalicelib import tokens
from chalicelib.config import MiB, Settings
from chalicelib.db import Database
from tests.support.api import api_server
from tests.support.config import BUCKET, CORS_ORIGIN

pytestmark = pytest.mark.http

BODY_CAP = 4096
WEBHOOK_SECRET = "a-webhook-secret-of-some-length"
PRESIGN_TTL = 300


@pytest.fixture(scope="module")
def secured(
    database_url: str, migrated_db: Database, s3_endpoint: str, bucket_ready: None
) -> Iterator[str]:
    """`chalice local` with INLET_AUTH=required on a free port; its base URL."""
    with api_server(
        database_url,
        s3_endpoint,
        INLET_AUTH="required",
        INLET_MAX_BODY_BYTES=str(BODY_CAP),
        INLET_WEBHOOK_SECRET=WEBHOOK_SECRET,
        INLET_PRESIGN_TTL=str(PRESIGN_TTL),
    ) as base:
        yield base


@pytest.fixture
def token(db: Database) -> str:
    return tokens.create_token(db, "http-tests", "team-http")[1]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_security_headers(secured: str, token: str) -> None:
    response = requests.get(f"{secured}/v1/runs", headers=bearer(token), timeout=10)
    assert response.status_code == 200
    assert (
        response.headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
    )
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"
    # HSTS only where the request came over HTTPS (API Gateway says so in X-Forwarded-Proto).
    assert "Strict-Transport-Security" not in response.headers
    https = requests.get(
        f"{secured}/health", headers={"X-Forwarded-Proto": "https"}, timeout=10
    ).headers
    assert https["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_a_missing_token_is_a_json_401_the_page_can_read(secured: str) -> None:
    response = requests.get(f"{secured}/v1/runs", headers={"Origin": CORS_ORIGIN}, timeout=10)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="inlet"'
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "unauthorized"
    assert response.headers["Access-Control-Allow-Origin"] == CORS_ORIGIN
    assert response.headers["X-Frame-Options"] == "DENY"


def test_a_run_is_its_owners_over_http(secured: str, token: str, db: Database) -> None:
    body = {"type": "app_bundle", "files": [{"name": "a.txt", "size": 3}]}
    created = requests.post(f"{secured}/v1/uploads", json=body, headers=bearer(token), timeout=10)
    assert created.status_code == 201, created.text
    run_id = created.json()["run"]["id"]
    other = tokens.create_token(db, "stranger")[1]
    hidden = requests.get(f"{secured}/v1/runs/{run_id}", headers=bearer(other), timeout=10)
    assert hidden.status_code == 404
    mine = requests.get(f"{secured}/v1/runs/{run_id}", headers=bearer(token), timeout=10)
    assert mine.status_code == 200


def test_the_openapi_document_declares_the_tokens(secured: str, token: str) -> None:
    assert requests.get(f"{secured}/v1/openapi.json", timeout=10).status_code == 401
    document = requests.get(f"{secured}/v1/openapi.json", headers=bearer(token), timeout=10).json()
    assert set(document["components"]["securitySchemes"]) == {"apiToken", "webhookSecret"}
    assert document["paths"]["/v1/runs"]["get"]["security"] == [{"apiToken": []}]
    assert document["paths"]["/health"]["get"]["security"] == []


@pytest.mark.parametrize(
    ("path", "authorization"),
    [("/v1/uploads", "token"), ("/v1/bucket-events", f"Bearer {WEBHOOK_SECRET}")],
)
def test_bodies_over_the_cap_are_a_json_413(
    secured: str, token: str, path: str, authorization: str
) -> None:
    header = f"Bearer {token}" if authorization == "token" else authorization
    big = b'{"notes": "' + b"x" * BODY_CAP + b'"}'
    response = requests.post(
        f"{secured}{path}",
        data=big,
        headers={"Authorization": header, "Content-Type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
    assert str(BODY_CAP) in response.json()["error"]["message"]


def test_cors_for_configured_origins_only(secured: str) -> None:
    ask = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization",
    }
    allowed = requests.options(
        f"{secured}/v1/uploads", headers={**ask, "Origin": CORS_ORIGIN}, timeout=10
    )
    assert allowed.status_code == 204
    assert allowed.headers["Access-Control-Allow-Origin"] == CORS_ORIGIN
    assert "Authorization" in allowed.headers["Access-Control-Allow-Headers"]
    for origin in ("http://evil.example", "null", CORS_ORIGIN + ".evil.example"):
        refused = requests.options(
            f"{secured}/v1/uploads", headers={**ask, "Origin": origin}, timeout=10
        )
        assert refused.status_code == 403
        assert "Access-Control-Allow-Origin" not in refused.headers


def test_presigned_urls_name_one_server_chosen_key_and_expire_soon(
    secured: str, token: str
) -> None:
    body = {
        "type": "app_bundle",
        "files": [
            {"name": "dir/sub/odd name?.txt", "size": 3},
            {"name": "big.bin", "size": 5 * MiB + 1},
        ],
    }
    before = datetime.now(UTC).replace(microsecond=0)
    created = requests.post(f"{secured}/v1/uploads", json=body, headers=bearer(token), timeout=10)
    after = datetime.now(UTC)
    assert created.status_code == 201, created.text
    single, multi = created.json()["files"]
    urls = [single["upload"]["url"], *(p["url"] for p in multi["upload"]["parts"])]
    for file, url in [(single, urls[0])] + [(multi, u) for u in urls[1:]]:
        parts = urlsplit(url)
        assert parts.path == f"/{BUCKET}/{file['key']}"
        assert file["key"].startswith(f"runs/{file['run_id']}/{file['id']}/")
        query = parse_qs(parts.query)
        assert query["X-Amz-Expires"] == [str(PRESIGN_TTL)]
        assert "host" in query["X-Amz-SignedHeaders"][0]
    assert single["key"].endswith("/oddname.txt")
    # Signed while the request ran: the TTL after some moment of it, however long it took.
    expires = datetime.fromisoformat(single["upload"]["expires_at"])
    ttl = timedelta(seconds=PRESIGN_TTL)
    assert before + ttl <= expires <= after + ttl


def test_presigned_urls_live_15_minutes_by_default() -> None:
    assert Settings().inlet_presign_ttl == 900
