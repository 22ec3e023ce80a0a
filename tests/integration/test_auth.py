"""API tokens and owners: the token store, the middleware path (`INLET_AUTHORIZER=app`), and the
Chalice authorizer that API Gateway runs (`INLET_AUTHORIZER=gateway`)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError
from chalice.app import Request, Response
from chalice.test import Client, HTTPResponse
from sqlalchemy import event, select, update

import app as app_module
from chalicelib import auth, http, tokens
from chalicelib.config import Settings, page_config
from chalicelib.db import Database
from chalicelib.errors import Invalid, NotFound, TokenExists, Unauthorized
from chalicelib.events import BucketEvents
from chalicelib.models import ApiToken, Run
from chalicelib.storage import Storage
from local import stack
from tests.support.api import (
    JSON_HEADERS,
    TWO_PARTS,
    assert_error,
    closed_url,
    file_path,
    spec,
    use_clients,
    use_settings,
)
from tests.support.config import CORS_ORIGIN
from tests.support.events import put

UNKNOWN = "00000000-0000-4000-8000-000000000000"


def call(
    api: Client,
    method: str,
    path: str,
    token: str | None = None,
    body: object = None,
    **headers: str,
) -> HTTPResponse:
    """A request as `token`'s holder (None: no Authorization header)."""
    sent = dict(JSON_HEADERS, **headers)
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    raw = b"" if body is None else json.dumps(body).encode()
    return api.http.request(method, path, headers=sent, body=raw)


@pytest.fixture
def required(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> Settings:
    return use_settings(monkeypatch, settings, inlet_auth="required")


@pytest.fixture
def alice(db: Database) -> str:
    return tokens.create_token(db, "alice-laptop", "alice")[1]


@pytest.fixture
def bob(db: Database) -> str:
    return tokens.create_token(db, "bob")[1]


def create(api: Client, token: str | None, *files: dict[str, object]) -> dict[str, Any]:
    body = {"type": "app_bundle", "files": list(files) or [spec()]}
    response = call(api, "POST", "/v1/uploads", token, body)
    assert response.status_code == 201, response.body
    created: dict[str, Any] = response.json_body
    return created


def assert_401(response: HTTPResponse) -> None:
    assert_error(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="inlet"'


def assert_401_response(response: Response) -> None:
    """The same, for a Chalice response object (not through the test client)."""
    assert response.status_code == 401
    assert json.loads(response.body)["error"]["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="inlet"'


# --- the token store --------------------------------------------------------------------------


def test_a_token_is_stored_only_as_its_hash(db: Database) -> None:
    info, token = tokens.create_token(db, "ci")
    assert info.owner == "ci"
    assert token.startswith("inlet_")
    assert len(token) >= 40
    with db.session() as session:
        row = session.scalar(select(ApiToken))
        assert row is not None
        assert row.token_hash == tokens.hash_token(token)
        assert token not in {str(v) for v in row.__dict__.values()}
    assert tokens.authenticate(db, token) == tokens.Principal(owner="ci", token_name="ci")


def test_two_tokens_are_never_alike(db: Database) -> None:
    assert tokens.create_token(db, "a")[1] != tokens.create_token(db, "b")[1]


def test_token_names_are_unique_and_plain(db: Database) -> None:
    tokens.create_token(db, "ci")
    with pytest.raises(TokenExists):
        tokens.create_token(db, "ci", "someone-else")
    for bad in ("", "has space", "../x", "-dash-first", "x" * 65, "nul\x00"):
        with pytest.raises(Invalid):
            tokens.create_token(db, bad)
    with pytest.raises(Invalid):
        tokens.create_token(db, "ok", "bad owner")


@pytest.mark.parametrize(
    "presented",
    ["", "inlet_", "inlet_wrong", "nope", "inlet_" + "x" * 300, "Bearer inlet_x"],
)
def test_unknown_tokens_are_refused(db: Database, presented: str) -> None:
    tokens.create_token(db, "ci")
    with pytest.raises(Unauthorized):
        tokens.authenticate(db, presented)


def test_a_revoked_token_stops_working(db: Database) -> None:
    _, token = tokens.create_token(db, "ci")
    first = tokens.revoke_token(db, "ci")
    assert first.revoked_at is not None
    assert tokens.revoke_token(db, "ci").revoked_at == first.revoked_at
    with pytest.raises(Unauthorized):
        tokens.authenticate(db, token)
    with pytest.raises(NotFound):
        tokens.revoke_token(db, "nobody")


def test_last_use_is_recorded_at_most_once_a_minute(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, token = tokens.create_token(db, "ci")
    first = datetime.now(UTC).replace(microsecond=0)
    clock = [first]  # the token store's clock, moved by the test: no real minute to wait out
    monkeypatch.setattr(tokens, "utcnow", lambda: clock[0])

    def last_use() -> datetime | None:
        return tokens.list_tokens(db)[0].last_used_at

    tokens.authenticate(db, token)
    assert last_use() == first
    clock[0] = first + timedelta(seconds=59)
    tokens.authenticate(db, token)
    assert last_use() == first  # within the minute: not written again
    clock[0] = first + timedelta(minutes=1)
    tokens.authenticate(db, token)
    assert last_use() == first + timedelta(minutes=1)


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer abc", "abc"),
        ("bearer   abc  ", "abc"),
        ("BEARER abc", "abc"),
        ("Basic abc", None),
        ("Bearer", None),
        ("Bearer ", None),
        ("abc", None),
        ("", None),
        (None, None),
    ],
)
def test_bearer_token(header: str | None, token: str | None) -> None:
    assert http.bearer_token(header) == token


@pytest.mark.parametrize(
    ("path", "method", "needed"),
    [
        ("/v1/uploads", "POST", True),
        ("/v1/runs/{run_id}", "GET", True),
        ("/v1/openapi.json", "GET", True),
        ("/v1/uploads", "OPTIONS", False),
        ("/v1/bucket-events", "POST", False),
        ("/v1/companion/runs", "POST", True),
        ("/v1/companion/runs/{run_id}/{endpoint_key}/s3/params", "GET", False),
        ("/health", "GET", False),
    ],
)
def test_which_routes_need_a_token(path: str, method: str, needed: bool) -> None:
    assert auth.needs_token(path, method) is needed


def test_settings() -> None:
    assert Settings().inlet_auth == "required"
    assert Settings.from_env({"INLET_AUTH": "off"}).inlet_auth == "off"
    for bad in (
        {"INLET_AUTH": "maybe"},
        {"INLET_AUTHORIZER": "lambda"},
        {"INLET_AUTHORIZER": "gateway", "INLET_AUTH": "off"},
        {"INLET_INBOX_OWNER": "two words"},
    ):
        with pytest.raises(RuntimeError, match="invalid configuration"):
            Settings.from_env(bad)


# --- the middleware path ----------------------------------------------------------------------

PROTECTED = sorted(
    (path, method)
    for path, methods in app_module.app.routes.items()
    for method in methods
    if auth.needs_token(path, method)
)


def test_every_v1_route_but_the_webhook_and_run_endpoints_is_protected() -> None:
    """A run's Companion endpoint has its key in the path instead (test_companion.py)."""
    paths = {path for path, _ in PROTECTED}
    v1 = {p for p in app_module.app.routes if p.startswith("/v1/")}
    keyed = {p for p in v1 if p.startswith("/v1/companion/runs/{run_id}/{endpoint_key}/s3/")}
    assert len(keyed) == 6  # Uppy's Companion routes (7 operations on 6 paths)
    assert paths == v1 - {"/v1/bucket-events"} - keyed
    assert len(PROTECTED) == 19  # 12 of Inlet's own, 7 of Uppy's Companion routes


@pytest.mark.parametrize(("path", "method"), PROTECTED)
@pytest.mark.parametrize(
    "authorization", [None, "Bearer inlet_wrong", "Basic YTpi", "Bearer", "inlet_x"]
)
def test_no_valid_token_no_entry(
    api: Client, required: Settings, alice: str, path: str, method: str, authorization: str | None
) -> None:
    concrete = path.replace("{run_id}", UNKNOWN).replace("{file_id}", UNKNOWN)
    headers = dict(JSON_HEADERS)
    if authorization is not None:
        headers["Authorization"] = authorization
    response = api.http.request(method, concrete, headers=headers, body=b"{}")
    assert_401(response)


def test_a_revoked_token_is_refused_by_the_api(
    api: Client, required: Settings, db: Database, alice: str
) -> None:
    assert call(api, "GET", "/v1/runs", alice).status_code == 200
    tokens.revoke_token(db, "alice-laptop")
    assert_401(call(api, "GET", "/v1/runs", alice))


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The API's token cache, fresh, on a clock the test moves (seconds)."""
    now = [1000.0]
    monkeypatch.setattr(tokens, "CACHE", tokens.TokenCache(clock=lambda: now[0]))
    return now


@contextmanager
def token_lookups(db: Database) -> Iterator[list[str]]:
    """The statements sent to the database that read the token table."""
    sent: list[str] = []

    def capture(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if "FROM api_tokens" in statement:
            sent.append(statement)

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        yield sent
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)


def test_a_token_is_looked_up_once_while_the_cache_keeps_it(
    api: Client, required: Settings, db: Database, alice: str, clock: list[float]
) -> None:
    with token_lookups(db) as lookups:
        for _ in range(5):
            assert call(api, "GET", "/v1/runs", alice).status_code == 200
        assert len(lookups) == 1
        assert tokens.CACHE.get(tokens.hash_token(alice), 1) is not None  # kept by its hash
        assert tokens.CACHE.get(alice, 1) is None  # never by the token itself
        clock[0] += required.inlet_token_cache_seconds
        assert call(api, "GET", "/v1/runs", alice).status_code == 200
        assert len(lookups) == 2  # expired: looked up again


def test_a_token_revoked_elsewhere_stops_working_when_the_cache_expires(
    api: Client, required: Settings, db: Database, alice: str, clock: list[float]
) -> None:
    assert call(api, "GET", "/v1/runs", alice).status_code == 200
    with db.session() as session:  # as `local.admin revoke-token` does, from another process
        session.execute(update(ApiToken).values(revoked_at=datetime.now(UTC)))
    clock[0] += required.inlet_token_cache_seconds - 0.5
    assert call(api, "GET", "/v1/runs", alice).status_code == 200  # the documented delay
    clock[0] += 0.5
    assert_401(call(api, "GET", "/v1/runs", alice))


def test_a_cache_of_0_seconds_looks_every_token_up(
    api: Client, settings: Settings, monkeypatch: pytest.MonkeyPatch, db: Database, alice: str
) -> None:
    use_settings(monkeypatch, settings, inlet_auth="required", inlet_token_cache_seconds=0)
    with token_lookups(db) as lookups:
        for _ in range(3):
            assert call(api, "GET", "/v1/runs", alice).status_code == 200
    assert len(lookups) == 3


def test_unknown_tokens_take_no_room_in_the_cache(
    api: Client, required: Settings, db: Database, alice: str, clock: list[float]
) -> None:
    for n in range(20):
        assert_401(call(api, "GET", "/v1/runs", f"inlet_unknown{n}"))
    assert len(tokens.CACHE) == 0
    assert call(api, "GET", "/v1/runs", alice).status_code == 200
    assert len(tokens.CACHE) == 1
    with token_lookups(db) as lookups:
        assert_401(call(api, "GET", "/v1/runs", "inlet_unknown0"))
    assert len(lookups) == 1  # refused by the database every time, never from memory


def test_health_stays_open_and_says_nothing_sensitive(
    api: Client, required: Settings, storage: Storage
) -> None:
    response = call(api, "GET", "/health")
    assert response.status_code == 200
    assert response.json_body == {"status": "ok", "checks": {"db": "ok", "storage": "ok"}}
    for secret in (storage.bucket, required.database_url, str(required.s3_endpoint_url)):
        assert secret not in response.body.decode()


def test_the_webhook_keeps_its_own_secret(api: Client, required: Settings, alice: str) -> None:
    # No INLET_WEBHOOK_SECRET: the endpoint is off, whatever API token is sent.
    assert_error(call(api, "POST", "/v1/bucket-events", alice, {"Records": []}), 404, "not_found")


def test_preflight_needs_no_token(api: Client, required: Settings) -> None:
    headers = {"Origin": CORS_ORIGIN, "Access-Control-Request-Method": "POST"}
    response = api.http.options("/v1/uploads", headers=headers)
    assert response.status_code == 204
    assert "Authorization" in response.headers["Access-Control-Allow-Headers"]


def test_a_401_is_readable_by_the_page(api: Client, required: Settings) -> None:
    """CORS and security headers on the 401 too, so the page can show the message."""
    response = call(api, "GET", "/v1/runs", None, Origin=CORS_ORIGIN)
    assert_401(response)
    assert response.headers["Access-Control-Allow-Origin"] == CORS_ORIGIN
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"


def test_tokens_cannot_be_checked_without_the_database(
    api: Client, required: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    down = Database.from_url(closed_url("postgresql://postgres@"))
    use_clients(monkeypatch, db=down)
    assert_error(call(api, "GET", "/v1/runs", "inlet_anything"), 503, "unavailable")
    down.engine.dispose()


def test_a_database_that_cannot_be_built_is_a_503(
    api: Client, required: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On AWS the database's credentials come from Secrets Manager at first use: an unreachable
    secret is the same clean 503 as an unreachable database."""

    def unreachable() -> Database:
        raise EndpointConnectionError(endpoint_url="https://secretsmanager.example")

    monkeypatch.setattr(app_module, "inlet", unreachable)
    assert_error(call(api, "GET", "/v1/runs", "inlet_anything"), 503, "unavailable")


def test_runs_belong_to_the_token_owner(
    api: Client, required: Settings, db: Database, alice: str, bob: str
) -> None:
    created = create(api, alice, spec("big.bin", TWO_PARTS))
    run_id, file_id = created["run"]["id"], created["files"][0]["id"]
    with db.session() as session:
        run = session.get(Run, uuid.UUID(run_id))
        assert run is not None
        assert run.owner == "alice"

    # Bob cannot see it, sign it, complete it or cancel it: 404 as for a run that does not exist.
    parts = {"part_numbers": [1]}
    complete = {"parts": [{"part_number": 1, "etag": '"a"'}, {"part_number": 2, "etag": '"b"'}]}
    attempts = [
        ("GET", f"/v1/runs/{run_id}", None),
        ("POST", file_path(run_id, file_id, "parts"), parts),
        ("GET", file_path(run_id, file_id, "parts"), None),
        ("POST", file_path(run_id, file_id, "complete"), complete),
        ("DELETE", f"/v1/uploads/{run_id}", None),
    ]
    for method, path, body in attempts:
        hidden = assert_error(call(api, method, path, bob, body), 404, "not_found")
        missing = assert_error(
            call(api, method, path.replace(run_id, UNKNOWN), bob, body), 404, "not_found"
        )
        assert hidden["message"] == missing["message"].replace(UNKNOWN, run_id)
    listed = call(api, "GET", "/v1/runs", bob).json_body
    assert listed == {"items": [], "next_cursor": None}

    # Alice can do all of it.
    assert call(api, "GET", f"/v1/runs/{run_id}", alice).json_body["status"] == "pending"
    assert [r["id"] for r in call(api, "GET", "/v1/runs", alice).json_body["items"]] == [run_id]
    assert call(api, "POST", file_path(run_id, file_id, "parts"), alice, parts).status_code == 200
    assert call(api, "GET", file_path(run_id, file_id, "parts"), alice).status_code == 200
    cancelled = call(api, "DELETE", f"/v1/uploads/{run_id}", alice)
    assert cancelled.json_body["status"] == "cancelled"


def test_a_label_search_finds_only_the_owners_runs(
    api: Client, required: Settings, alice: str, bob: str
) -> None:
    body = {"type": "app_bundle", "label": "shared words", "files": [spec()]}
    mine = call(api, "POST", "/v1/uploads", alice, body).json_body["run"]["id"]
    call(api, "POST", "/v1/uploads", bob, body)
    for query in ("?q=shared", "?q=shared&status=pending", "?q=words&type=app_bundle"):
        listed = call(api, "GET", f"/v1/runs{query}", alice).json_body["items"]
        assert [run["id"] for run in listed] == [mine]


def test_two_tokens_of_one_owner_share_its_runs(
    api: Client, required: Settings, db: Database, alice: str
) -> None:
    second = tokens.create_token(db, "alice-ci", "alice")[1]
    run_id = create(api, alice)["run"]["id"]
    assert call(api, "GET", f"/v1/runs/{run_id}", second).status_code == 200


def test_runs_without_an_owner_show_only_with_auth_off(
    api: Client, db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch, alice: str
) -> None:
    """Runs made with authentication off (or before it existed) have no owner."""
    run_id = create(api, None)["run"]["id"]
    assert call(api, "GET", f"/v1/runs/{run_id}").status_code == 200
    use_settings(monkeypatch, settings, inlet_auth="required")
    assert_error(call(api, "GET", f"/v1/runs/{run_id}", alice), 404, "not_found")
    assert call(api, "GET", "/v1/runs", alice).json_body["items"] == []


def test_dropped_files_belong_to_the_inbox_owner(
    event_app: Client,
    event_settings: Settings,
    event_storage: Storage,
    db: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = use_settings(
        monkeypatch, event_settings, inlet_auth="required", inlet_inbox_owner="ops"
    )
    event = put(event_storage, f"inbox/app_bundle/{uuid.uuid4().hex}.tgz", b"dropped")
    BucketEvents(db, event_storage, settings).process(event)
    ops = tokens.create_token(db, "ops-reader", "ops")[1]
    other = tokens.create_token(db, "someone")[1]
    (run,) = call(event_app, "GET", "/v1/runs", ops).json_body["items"]
    assert (run["source"], run["status"]) == ("bucket", "stored")
    assert call(event_app, "GET", "/v1/runs", other).json_body["items"] == []


# --- the authorizer path (API Gateway) --------------------------------------------------------

METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/api/GET/v1/runs"


def authorizer_event(authorization: str) -> dict[str, str]:
    """What API Gateway hands a TOKEN authorizer."""
    return {"type": "TOKEN", "authorizationToken": authorization, "methodArn": METHOD_ARN}


def test_the_authorizer_allows_a_live_token(api: Client, alice: str) -> None:
    result = app_module.token_authorizer(authorizer_event(f"Bearer {alice}"), {})
    assert result["principalId"] == "alice"
    assert result["context"] == {"owner": "alice", "token_name": "alice-laptop"}
    (statement,) = result["policyDocument"]["Statement"]
    assert statement["Effect"] == "Allow"
    # Every route: API Gateway caches the answer per token, whichever route asked first.
    assert statement["Resource"] == [
        "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/api/*/*"
    ]


@pytest.mark.parametrize("authorization", ["", "Bearer inlet_wrong", "Basic YTpi", "inlet_x"])
def test_the_authorizer_answers_unauthorized(api: Client, alice: str, authorization: str) -> None:
    """API Gateway answers 401 when an authorizer fails with exactly `Unauthorized`."""
    with pytest.raises(auth.GatewayUnauthorized, match=r"^Unauthorized$"):
        app_module.token_authorizer(authorizer_event(authorization), {})


def test_the_authorizer_is_attached_to_protected_routes_only() -> None:
    routes = {
        "/v1/runs": {"GET": SimpleNamespace(authorizer=None), "OPTIONS": SimpleNamespace()},
        "/v1/bucket-events": {"POST": SimpleNamespace()},
        "/health": {"GET": SimpleNamespace()},
    }
    auth.attach_authorizer(routes, app_module.token_authorizer)  # type: ignore[arg-type]
    attached = {
        (path, method)
        for path, methods in routes.items()
        for method, entry in methods.items()
        if getattr(entry, "authorizer", None) is not None
    }
    assert attached == {("/v1/runs", "GET")}


@pytest.fixture
def gateway(api: Client, monkeypatch: pytest.MonkeyPatch, settings: Settings) -> Client:
    """The app as packaged with INLET_AUTHORIZER=gateway: Chalice's local gateway runs the
    authorizer before each protected route, as API Gateway does."""
    use_settings(monkeypatch, settings, inlet_auth="required", inlet_authorizer="gateway")
    for methods in app_module.app.routes.values():
        for entry in methods.values():
            monkeypatch.setattr(entry, "authorizer", entry.authorizer)  # restored afterwards
    auth.attach_authorizer(app_module.app.routes, app_module.token_authorizer)
    return api


def test_behind_the_gateway_runs_still_belong_to_their_owner(
    gateway: Client, alice: str, bob: str
) -> None:
    run_id = create(gateway, alice)["run"]["id"]
    assert call(gateway, "GET", f"/v1/runs/{run_id}", alice).status_code == 200
    assert_error(call(gateway, "GET", f"/v1/runs/{run_id}", bob), 404, "not_found")
    assert call(gateway, "GET", "/v1/runs", bob).json_body["items"] == []
    assert call(gateway, "GET", "/health").status_code == 200


def test_behind_the_gateway_a_missing_token_is_401(gateway: Client) -> None:
    # The gateway answers itself, before any function runs (AWS adds the contract's body
    # through a gateway response: docs/security.md).
    assert call(gateway, "GET", "/v1/runs").status_code == 401


def test_behind_the_gateway_a_wrong_token_fails_the_authorizer(gateway: Client) -> None:
    with pytest.raises(auth.GatewayUnauthorized):
        call(gateway, "GET", "/v1/runs", "inlet_wrong")


def test_in_gateway_mode_the_middleware_fails_closed() -> None:
    """A protected route that reached the function without an authorizer's principal (one
    deployed without the authorizer) is refused, not served to everyone, and without looking
    at the database (which is down here: a lookup would answer 503)."""
    settings = Settings(inlet_auth="required", inlet_authorizer="gateway")
    event = {
        "multiValueQueryStringParameters": None,
        "headers": {"authorization": "Bearer inlet_anything"},
        "pathParameters": None,
        "requestContext": {"httpMethod": "GET", "resourcePath": "/v1/runs"},
        "body": None,
        "stageVariables": None,
        "isBase64Encoded": False,
    }

    def view(_: Request) -> Response:
        raise AssertionError("the view must not run")

    down = Database.from_url(closed_url("postgresql://postgres@"))
    assert_401_response(auth.guard(Request(event), view, settings, lambda: down))
    down.engine.dispose()


# --- make dev ---------------------------------------------------------------------------------


def test_make_dev_runs_without_tokens_unless_told() -> None:
    assert stack.dev_environment({})["INLET_AUTH"] == "off"
    required = stack.dev_environment({"INLET_AUTH": "required"})
    assert required["INLET_AUTH"] == "required"
    assert "local.admin create-token" in stack.auth_banner(Settings.from_env(required))
    assert stack.auth_banner(Settings(inlet_auth="off")).startswith("off")


def test_the_page_is_told_when_a_token_is_required() -> None:
    assert page_config("http://x", auth_required=True)["authRequired"] is True
    assert "authRequired" not in page_config("http://x")
