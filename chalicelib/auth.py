"""Who may call the API: bearer tokens on every `/v1` route (docs/security.md), but the webhook
(a shared secret) and a run's Companion endpoint (a key in its path, for one run's uploads).

Two places run the same check (`tokens.authenticate`), chosen by INLET_AUTHORIZER:
- `app` (default; `make dev`, docker compose, tests): the HTTP middleware calls `guard`, which
  looks the token up (or finds it looked up in the last INLET_TOKEN_CACHE_SECONDS) and puts the
  principal where API Gateway would: `context["authorizer"]`;
- `gateway` (AWS): API Gateway calls the Chalice authorizer (`gateway_response`) and caches its
  answer per token; `guard` then only reads the principal API Gateway attached, and refuses a
  protected request that has none (a route deployed without the authorizer fails closed).
Either way a view asks `owner_of(request)` whose runs it may touch.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from chalice.app import AuthResponse, ChaliceAuthorizer, Request, Response, RouteEntry

from chalicelib import tokens
from chalicelib.config import Settings
from chalicelib.db import Database
from chalicelib.errors import Unauthorized
from chalicelib.http import RUN_ENDPOINT, bearer_token, error_response
from chalicelib.logs import logger

# Has a shared secret of its own (MinIO's webhook target): chalicelib/webhook.py.
WEBHOOK_PATH = "/v1/bucket-events"


class GatewayUnauthorized(Exception):
    """Raised from the authorizer: the message `Unauthorized` makes API Gateway answer 401."""

    def __init__(self) -> None:
        super().__init__("Unauthorized")


def needs_token(path: str, method: str) -> bool:
    """Every `/v1` route but the webhook and a run's Companion endpoint; never a CORS preflight
    (browsers send no token)."""
    return (
        method != "OPTIONS"
        and path.startswith("/v1/")
        and path != WEBHOOK_PATH
        and not path.startswith(f"{RUN_ENDPOINT}/")
    )


def authenticate(db: Database, authorization: str | None, max_age: float = 0) -> tokens.Principal:
    """The principal of the header's token (`max_age`: see `tokens.authenticate`)."""
    token = bearer_token(authorization)
    if token is None:
        raise Unauthorized("this API needs a token: send `Authorization: Bearer <token>`")
    return tokens.authenticate(db, token, max_age)


def _attached(request: Request) -> tokens.Principal:
    """The principal API Gateway's authorizer attached to the request."""
    found = request.context.get("authorizer") or {}
    owner, name = found.get("owner"), found.get("token_name")
    if not isinstance(owner, str) or not owner or not isinstance(name, str):
        raise Unauthorized("this API needs a token: send `Authorization: Bearer <token>`")
    return tokens.Principal(owner=owner, token_name=name)


def guard(
    request: Request,
    get_response: Callable[[Request], Response],
    settings: Settings,
    database: Callable[[], Database],
) -> Response:
    """Pass the request on with its principal, or answer 401 (503 when tokens cannot be read).
    `database` is called only when a token must be looked up (building it may fail too)."""
    if settings.inlet_auth == "off" or not needs_token(request.path, request.method):
        return get_response(request)
    try:
        if settings.inlet_authorizer == "gateway":
            principal = _attached(request)
        else:
            principal = authenticate(
                database(), request.headers.get("authorization"), settings.inlet_token_cache_seconds
            )
    except Exception as exc:  # 401, or 503 with the database down: the contract's JSON either way
        return error_response(exc)
    request.context["authorizer"] = {"principalId": principal.owner, **principal.context()}
    logger.append_keys(owner=principal.owner)  # removed by `http.around_request`
    return get_response(request)


def owner_of(request: Request, settings: Settings) -> str | None:
    """Whose runs this request may touch; None (every run) when authentication is off."""
    if settings.inlet_auth == "off":
        return None
    return _attached(request).owner


def gateway_response(db: Database, authorization: str) -> AuthResponse:
    """The Chalice authorizer's answer: every route for a live token's owner, else 401. Never
    from the token cache: API Gateway caches this answer already, and asks again only when its
    own copy has expired, which is when a fresh lookup is due."""
    try:
        principal = authenticate(db, authorization)
    except Unauthorized:
        raise GatewayUnauthorized from None
    return AuthResponse(routes=["*"], principal_id=principal.owner, context=principal.context())


def attach_authorizer(
    routes: Mapping[str, Mapping[str, RouteEntry]], authorizer: ChaliceAuthorizer
) -> None:
    """Put the authorizer on every route that `needs_token` (INLET_AUTHORIZER=gateway)."""
    for path, methods in routes.items():
        for method, entry in methods.items():
            if needs_token(path, method):
                # Chalice's own type for this attribute leaves out its built-in authorizers.
                entry.authorizer = authorizer  # type: ignore[assignment]
