"""HTTP glue for the Chalice views: JSON bodies in, JSON responses and contract errors out,
CORS for configured origins, and one structured log line per request."""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable, Collection
from typing import Any, TypeVar

from chalice.app import Request, Response
from pydantic import BaseModel, ValidationError

from chalicelib.errors import (
    ApiError,
    BadRequest,
    Invalid,
    TooLarge,
    Unavailable,
    UnsupportedMediaType,
)
from chalicelib.logs import logger

Model = TypeVar("Model", bound=BaseModel)

SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # JSON only: nothing to run, embed or frame (X-Frame-Options for browsers without CSP 2).
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
}
# Sent only on requests that arrived over HTTPS (API Gateway sets X-Forwarded-Proto): browsers
# ignore it over plain HTTP, and local stacks have no certificate to pin anyone to.
HSTS = {"Strict-Transport-Security": "max-age=31536000; includeSubDomains"}
ALLOWED_REQUEST_HEADERS = "Authorization, Content-Type"
# The bucket's answers that mean "our side is broken", not "the client asked wrong".
STORAGE_OUTAGES = {"NoSuchBucket", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"}
# Companion's S3 routes (chalicelib/companion.py): under /v1, with a token, and under a run's own
# endpoint, whose key in the path stands for a token (docs/uppy.md).
COMPANION = "/v1/companion/s3"
RUN_ENDPOINT = "/v1/companion/runs/{run_id}/{endpoint_key}"
RUN_COMPANION = f"{RUN_ENDPOINT}/s3"


def json_response(body: BaseModel | dict[str, Any] | list[Any], status: int = 200) -> Response:
    text = body.model_dump_json() if isinstance(body, BaseModel) else json.dumps(body)
    return Response(body=text, status_code=status, headers={"Content-Type": "application/json"})


def _field(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def require_json(content_type: str | None) -> None:
    """415 unless the body is declared `application/json` (parameters allowed; a charset, if
    named, must be UTF-8, the only encoding of JSON: RFC 8259). A missing type is refused too:
    no body is taken for JSON on a guess, so a browser cannot send one without a CORS
    preflight (text/plain and forms are "simple" requests that skip it)."""
    if content_type is None or not content_type.strip():
        raise UnsupportedMediaType("the request has no Content-Type; send application/json")
    media_type, *parameters = content_type.split(";")
    charset = next(
        (
            value.strip().strip('"').lower()
            for name, _, value in (p.partition("=") for p in parameters)
            if name.strip().lower() == "charset"
        ),
        "utf-8",
    )
    if media_type.strip().lower() != "application/json" or charset not in ("utf-8", "utf8"):
        raise UnsupportedMediaType(
            f"Content-Type {content_type[:100]!a} is not accepted; send application/json"
        )


def parse_body(request: Request, model: type[Model], max_bytes: int) -> Model:
    """The request body as `model`: 415 unless it is declared JSON, 413 over `max_bytes`, 400
    when it is not a JSON object, 422 when it is invalid."""
    require_json(request.headers.get("content-type"))
    raw = request.raw_body or b""
    if len(raw) > max_bytes:
        raise TooLarge(f"request body is {len(raw)} bytes; the limit is {max_bytes}")
    if not raw.strip():
        raise BadRequest("request body must be a JSON object, and it is empty")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise BadRequest(f"request body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise BadRequest(f"request body must be a JSON object, not {type(data).__name__}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        details = [
            {"field": _field(err["loc"]) or None, "message": err["msg"]} for err in exc.errors()
        ]
        summary = "; ".join(f"{d['field'] or 'body'}: {d['message']}" for d in details[:3])
        raise Invalid(f"invalid request: {summary}", details) from None


def _as_api_error(exc: Exception) -> ApiError:
    if isinstance(exc, ApiError):
        return exc
    # Imported here: a function that never touched the bucket (or the database) does not load
    # their libraries for its error handling.
    from botocore.exceptions import BotoCoreError, ClientError
    from sqlalchemy.exc import DBAPIError, OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    from chalicelib.storage import error_code

    if isinstance(exc, OperationalError | PoolTimeout) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    ):
        return Unavailable("the database cannot be reached; try again shortly")
    if isinstance(exc, BotoCoreError):
        return Unavailable("the object store cannot be reached; try again shortly")
    if isinstance(exc, ClientError):
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 500))
        if status >= 500 or error_code(exc) in STORAGE_OUTAGES:
            return Unavailable(f"the object store failed ({error_code(exc) or status})")
    logger.exception("unhandled error")
    error = ApiError("an internal error occurred; it has been logged")
    return error


def error_response(exc: Exception) -> Response:
    """Any exception as the contract's JSON error response (an unexpected one is logged)."""
    error = _as_api_error(exc)
    if error.status < 500:
        logger.info("request refused", extra={"code": error.code, "reason": error.message})
    response = json_response(error.body(), error.status)
    response.headers.update(error.headers)
    return response


def api_view(view: Callable[..., Response]) -> Callable[..., Response]:
    """Turn any exception a view raises into the contract's JSON error response."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        try:
            return view(*args, **kwargs)
        except Exception as exc:  # every failure becomes JSON; never a stack trace
            return error_response(exc)

    return wrapper


def _chalice_error(response: Response) -> Response:
    """Chalice's own errors (unknown route, wrong method) in the contract's shape."""
    body = response.body
    if response.status_code >= 400 and isinstance(body, dict) and "Code" in body:
        code = {404: "not_found", 405: "method_not_allowed"}.get(response.status_code, "error")
        return Response(
            body=json.dumps(
                {"error": {"code": code, "message": body.get("Message", ""), "details": []}}
            ),
            status_code=response.status_code,
            headers={**response.headers, "Content-Type": "application/json"},
        )
    return response


def cors_headers(origin: str | None, allowed: Collection[str]) -> dict[str, str | list[str]]:
    if origin and (origin in allowed or "*" in allowed):
        return {
            "Access-Control-Allow-Origin": origin,
            # ETag: part uploads; Retry-After: a 429's wait, read by the page.
            "Access-Control-Expose-Headers": "ETag, Retry-After",
            "Vary": "Origin",
        }
    return {"Vary": "Origin"}


def preflight(
    request: Request, allowed_origins: Collection[str], methods: Collection[str]
) -> Response:
    origin = request.headers.get("origin")
    headers = cors_headers(origin, allowed_origins)
    if "Access-Control-Allow-Origin" not in headers:
        error = {
            "error": {
                "code": "forbidden",
                "message": f"origin {origin!r} is not allowed",
                "details": [],
            }
        }
        return Response(
            body=json.dumps(error),
            status_code=403,
            headers={**headers, "Content-Type": "application/json"},
        )
    headers |= {
        "Access-Control-Allow-Methods": ", ".join(sorted({*methods, "OPTIONS"})),
        "Access-Control-Allow-Headers": ALLOWED_REQUEST_HEADERS,
        "Access-Control-Max-Age": "600",
    }
    return Response(body="", status_code=204, headers=headers)


def around_request(
    request: Request, get_response: Callable[[Request], Response], allowed_origins: Collection[str]
) -> Response:
    """Correlate logs with the run (and the owner `auth.guard` adds), add CORS and security
    headers, and log the request once."""
    started = time.perf_counter()
    run_id = (request.uri_params or {}).get("run_id")
    if run_id:
        logger.append_keys(run_id=run_id)
    try:
        response = _chalice_error(get_response(request))
        response.headers.update(SECURITY_HEADERS)
        if request.headers.get("x-forwarded-proto") == "https":
            response.headers.update(HSTS)
        response.headers.update(cors_headers(request.headers.get("origin"), allowed_origins))
        logger.info(
            "request",
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )
        return response
    finally:
        logger.remove_keys(["run_id", "owner"])


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None."""
    scheme, _, token = (authorization or "").strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None
