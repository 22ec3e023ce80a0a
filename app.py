"""Inlet's Lambda entry points: wiring only. Each view parses its input and makes one call into
the services (`chalicelib.service.Inlet`), built once per process.

All six functions load this module, so it imports only what wiring needs; a view imports what
only it uses, and `Inlet` builds each service on first use. On Lambda, the end of this module
imports what the running function's first invocation uses, and nothing else (ADR 006;
tests/deploy/test_package.py holds the lists).
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from chalice.app import (
    AuthRequest,
    AuthResponse,
    Chalice,
    CloudWatchEvent,
    Rate,
    Request,
    Response,
    SQSEvent,
)
from pydantic import BaseModel

from chalicelib.config import GATEWAY_CACHE_SECONDS, Settings, lambda_handler
from chalicelib.http import (
    COMPANION,
    RUN_COMPANION,
    api_view,
    around_request,
    json_response,
    parse_body,
    preflight,
)

if TYPE_CHECKING:
    from chalicelib.companion import Caller
    from chalicelib.service import Inlet

Model = TypeVar("Model", bound=BaseModel)

app = Chalice(app_name="inlet", configure_logs=False)
# Chalice lets every declared type through to the view, and `parse_body` accepts only
# `application/json` (`http.require_json`): any other type, or none (which Chalice would take for
# JSON), is the contract's 415 `unsupported_media_type` rather than Chalice's own 415 body.
ANY_BODY = ["*/*"]
# Companion's S3 routes (chalicelib/companion.py): an Uppy app's Companion URL is
# `<api>/v1/companion`. Under /v1, they take the same tokens as the rest of the API. A run
# declared for Uppy has the same routes under an endpoint of its own (RUN_COMPANION).
COMPANION_ROUTES = (
    "/params",
    "/multipart",
    "/multipart/{upload_id}",
    "/multipart/{upload_id}/batch",
    "/multipart/{upload_id}/{part_number}",
    "/multipart/{upload_id}/complete",
)
# The routes a browser calls: each gets an OPTIONS route that answers CORS preflights for the
# configured origins. `/v1/bucket-events` is server to server and gets none.
BROWSER_ROUTES = (
    "/health",
    "/v1/openapi.json",
    "/v1/uploads",
    "/v1/uploads/{run_id}",
    "/v1/uploads/{run_id}/files/{file_id}/parts",
    "/v1/uploads/{run_id}/files/{file_id}/complete",
    "/v1/runs",
    "/v1/runs/{run_id}",
    "/v1/runs/{run_id}/files/{file_id}/download",
    "/v1/runs/{run_id}/files/{file_id}/manifest",
    "/v1/limits",
    "/v1/companion/runs",
    *(f"{prefix}{path}" for prefix in (COMPANION, RUN_COMPANION) for path in COMPANION_ROUTES),
)


# Parsed once per process: the decorators below read it when Chalice packages the app.
@functools.cache
def settings() -> Settings:
    return Settings.from_env()


# Built on first use and kept for the life of the process (one Lambda container).
@functools.cache
def inlet() -> Inlet:
    from chalicelib.service import Inlet

    return Inlet.from_settings(settings())


def request() -> Request:
    assert app.current_request is not None
    return app.current_request


def body(model: type[Model]) -> Model:
    return parse_body(request(), model, settings().inlet_max_body_bytes)


def owner() -> str | None:
    """Whose runs this request may touch (None: authentication is off)."""
    from chalicelib import auth

    return auth.owner_of(request(), settings())


@app.middleware("http")
def http_middleware(event: Request, get_response: Callable[[Request], Response]) -> Response:
    from chalicelib import auth

    def guarded(event: Request) -> Response:
        return auth.guard(event, get_response, settings(), lambda: inlet().db)

    return around_request(event, guarded, settings().inlet_cors_origins)


@app.middleware("sqs")
@app.middleware("scheduled")
def event_middleware(event: Any, get_response: Callable[[Any], Any]) -> Any:
    from chalicelib import telemetry

    return telemetry.around_event(event, get_response)


@app.route("/health")
@api_view
def get_health() -> Response:
    result = inlet().health()
    return json_response(result, 200 if result.status == "ok" else 503)


@app.route("/v1/openapi.json")
@api_view
def get_openapi() -> Response:
    from chalicelib import openapi

    return json_response(openapi.document())


@app.route("/v1/uploads", methods=["POST"], content_types=ANY_BODY)
@api_view
def create_upload() -> Response:
    from chalicelib.schemas import CreateUploadRequest

    return json_response(inlet().uploads.create(body(CreateUploadRequest), owner()), 201)


@app.route("/v1/uploads/{run_id}", methods=["DELETE"])
@api_view
def cancel_upload(run_id: str) -> Response:
    cancelled = inlet().uploads.cancel(run_id, owner())
    inlet().publish_events()
    return json_response(cancelled)


@app.route("/v1/uploads/{run_id}/files/{file_id}/parts", methods=["POST"], content_types=ANY_BODY)
@api_view
def sign_parts(run_id: str, file_id: str) -> Response:
    from chalicelib.schemas import SignPartsRequest

    parts = body(SignPartsRequest)
    return json_response(inlet().uploads.sign_parts(run_id, file_id, parts, owner()))


@app.route("/v1/uploads/{run_id}/files/{file_id}/parts", methods=["GET"])
@api_view
def list_parts(run_id: str, file_id: str) -> Response:
    return json_response(inlet().uploads.list_parts(run_id, file_id, owner()))


@app.route(
    "/v1/uploads/{run_id}/files/{file_id}/complete", methods=["POST"], content_types=ANY_BODY
)
@api_view
def complete_upload(run_id: str, file_id: str) -> Response:
    from chalicelib.schemas import CompleteRequest

    parts = body(CompleteRequest)
    return json_response(inlet().uploads.complete(run_id, file_id, parts, owner()))


@app.route("/v1/runs")
@api_view
def list_runs() -> Response:
    return json_response(inlet().runs.page(request().query_params, owner()))


@app.route("/v1/runs/{run_id}")
@api_view
def get_run(run_id: str) -> Response:
    """With `?wait=SECONDS`, answers as soon as the run leaves `pending` (long-poll)."""
    return json_response(inlet().runs.get(run_id, owner(), request().query_params))


@app.route("/v1/runs/{run_id}/files/{file_id}/download")
@api_view
def download_file(run_id: str, file_id: str) -> Response:
    return json_response(inlet().downloads.link(run_id, file_id, owner()))


@app.route("/v1/runs/{run_id}/files/{file_id}/manifest")
@api_view
def get_manifest(run_id: str, file_id: str) -> Response:
    manifest = inlet().processing.manifest(run_id, file_id, request().query_params, owner())
    return json_response(manifest)


@app.route("/v1/limits")
@api_view
def get_limits() -> Response:
    return json_response(inlet().limits.of(owner()))


def companion_view(view: Callable[..., Response]) -> Callable[..., Response]:
    """`api_view`, with errors in Companion's shape (`{"error": "..."}`)."""
    answer = api_view(view)

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        from chalicelib.companion import companion_error

        return companion_error(answer(*args, **kwargs))

    return wrapper


def caller(endpoint: dict[str, str]) -> Caller:
    """Who calls a Companion route: the token's owner or, on a run's endpoint (`run_id` and
    `endpoint_key` in the path), the run the key opens."""
    from chalicelib.companion import Caller

    if not endpoint:
        return Caller(owner())
    return inlet().companion.endpoint_caller(endpoint["run_id"], endpoint["endpoint_key"])


@app.route("/v1/companion/runs", methods=["POST"], content_types=ANY_BODY)
@api_view
def declare_companion_run() -> Response:
    from chalicelib.schemas import CompanionRunRequest

    declared = inlet().companion.declare(body(CompanionRunRequest), owner())
    return json_response(declared, 201)


# Each view serves both prefixes: `endpoint` holds a run endpoint's path parameters.
@app.route(f"{COMPANION}/params")
@app.route(f"{RUN_COMPANION}/params")
@companion_view
def companion_params(**endpoint: str) -> Response:
    return json_response(inlet().companion.params(request().query_params, caller(endpoint)))


@app.route(f"{COMPANION}/multipart", methods=["POST"], content_types=ANY_BODY)
@app.route(f"{RUN_COMPANION}/multipart", methods=["POST"], content_types=ANY_BODY)
@companion_view
def companion_create_multipart(**endpoint: str) -> Response:
    from chalicelib.schemas import CompanionCreate

    created = inlet().companion.create_multipart(body(CompanionCreate), caller(endpoint))
    return json_response(created)


@app.route(f"{COMPANION}/multipart/{{upload_id}}")
@app.route(f"{RUN_COMPANION}/multipart/{{upload_id}}")
@companion_view
def companion_list_parts(upload_id: str, **endpoint: str) -> Response:
    query = request().query_params
    return json_response(inlet().companion.list_parts(upload_id, query, caller(endpoint)))


@app.route(f"{COMPANION}/multipart/{{upload_id}}/batch")
@app.route(f"{RUN_COMPANION}/multipart/{{upload_id}}/batch")
@companion_view
def companion_sign_batch(upload_id: str, **endpoint: str) -> Response:
    query = request().query_params
    return json_response(inlet().companion.sign_batch(upload_id, query, caller(endpoint)))


@app.route(f"{COMPANION}/multipart/{{upload_id}}/{{part_number}}")
@app.route(f"{RUN_COMPANION}/multipart/{{upload_id}}/{{part_number}}")
@companion_view
def companion_sign_part(upload_id: str, part_number: str, **endpoint: str) -> Response:
    query = request().query_params
    signed = inlet().companion.sign_part(upload_id, part_number, query, caller(endpoint))
    return json_response(signed)


@app.route(
    f"{COMPANION}/multipart/{{upload_id}}/complete", methods=["POST"], content_types=ANY_BODY
)
@app.route(
    f"{RUN_COMPANION}/multipart/{{upload_id}}/complete", methods=["POST"], content_types=ANY_BODY
)
@companion_view
def companion_complete(upload_id: str, **endpoint: str) -> Response:
    from chalicelib.schemas import CompanionComplete

    query, parts = request().query_params, body(CompanionComplete)
    done = inlet().companion.complete(upload_id, query, parts, caller(endpoint))
    return json_response(done)


@app.route(f"{COMPANION}/multipart/{{upload_id}}", methods=["DELETE"])
@app.route(f"{RUN_COMPANION}/multipart/{{upload_id}}", methods=["DELETE"])
@companion_view
def companion_abort(upload_id: str, **endpoint: str) -> Response:
    query = request().query_params
    aborted = inlet().companion.abort(upload_id, query, caller(endpoint))
    inlet().publish_events()
    return json_response(aborted)


def cors_preflight(**_: str) -> Response:
    path = request().context["resourcePath"]
    methods = [method for method in app.routes[path] if method != "OPTIONS"]
    return preflight(request(), settings().inlet_cors_origins, methods)


for _path in BROWSER_ROUTES:
    app.route(_path, methods=["OPTIONS"])(cors_preflight)


# Server to server (no browser preflight): MinIO's webhook target, authorized by a shared secret.
@app.route("/v1/bucket-events", methods=["POST"], content_types=ANY_BODY)
@api_view
def receive_bucket_events() -> Response:
    """Bucket notifications over HTTP (MinIO); the same processing as the SQS handler."""
    from chalicelib import webhook

    webhook.authorize(request().headers.get("authorization"), settings().inlet_webhook_secret)
    notification = parse_body(
        request(), webhook.BucketNotification, settings().inlet_max_body_bytes
    )
    result = inlet().events.from_webhook(notification)
    inlet().publish_events()
    return json_response(result)


# The queue name is read when Chalice packages the app (it wires the event source mapping).
@app.on_sqs_message(queue=settings().inlet_events_queue, batch_size=10)
def handle_bucket_events(event: SQSEvent) -> dict[str, Any]:
    """Bucket notifications via SQS; failed records are reported so only they are retried.
    Then the run events they committed are published (the scheduled job retries the rest)."""
    result = dict(inlet().events.from_queue(event.to_dict()))
    inlet().publish_events()
    return result


# Each stored run's event is sent to this queue (chalicelib/outbox.py); its processors read the
# run's files (archives: their manifest). One record at a time: an archive can take minutes.
@app.on_sqs_message(queue=settings().inlet_processing_queue, batch_size=1)
def process_stored_runs(event: SQSEvent) -> dict[str, Any]:
    """Run events of stored runs; a failed record is reported so only it is retried."""
    return dict(inlet().processing.from_queue(event.to_dict()))


# The scheduled job (docs/events.md): lost events, expiry, orphaned objects. Its name predates
# the first and last (the deployed function is ExpirePendingRuns).
@app.schedule(Rate(15, unit=Rate.MINUTES))
def expire_pending_runs(event: CloudWatchEvent) -> None:
    from chalicelib.maintenance import budget_seconds

    inlet().run_schedule(budget=budget_seconds(event.context))


@app.authorizer(ttl_seconds=GATEWAY_CACHE_SECONDS)
def token_authorizer(auth_request: AuthRequest) -> AuthResponse:
    """API Gateway's token check (INLET_AUTHORIZER=gateway): the same lookup as the middleware."""
    from chalicelib import auth

    return auth.gateway_response(inlet().db, auth_request.token)


# Read when Chalice packages the app: API Gateway runs the authorizer before every /v1 route.
if settings().inlet_authorizer == "gateway":
    from chalicelib.auth import attach_authorizer

    attach_authorizer(app.routes, token_authorizer)


@app.lambda_function(name="migrate")
def migrate_database(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Deploy-time custom resource (infra/): apply the migrations before the new code runs."""
    from chalicelib import migrate

    return migrate.on_deploy_event(event, lambda: inlet().db)


# Lambda runs this module's top level (its init) with a whole vCPU or more, and a handler with its
# memory's share of one (0.29 vCPU at 512 MB): on Lambda, each function imports here what its
# first invocation will use, and nothing only the others use (docs/adr/006-cold-start.md).
# Every function builds `Inlet`, which on AWS reads the database secret with boto3 and then talks
# to Postgres through psycopg.
LAMBDA_IMPORTS = (
    "chalicelib.service",
    "boto3",
    "psycopg",
    "sqlalchemy.dialects.postgresql.psycopg",
)
S3_CLIENT = "boto3.s3.inject"  # what boto3 imports when it creates an S3 client
FIRST_IMPORTS = {
    "app.app": (
        "chalicelib.auth",
        "chalicelib.uploads",
        "chalicelib.runs",
        "chalicelib.limits",
        S3_CLIENT,
    ),
    "app.token_authorizer": ("chalicelib.auth",),
    "app.handle_bucket_events": (
        "chalicelib.events",
        "chalicelib.outbox",
        "chalicelib.telemetry",
        S3_CLIENT,
    ),
    "app.process_stored_runs": ("chalicelib.processing", "chalicelib.telemetry", S3_CLIENT),
    "app.expire_pending_runs": ("chalicelib.maintenance", "chalicelib.telemetry", S3_CLIENT),
    "app.migrate_database": ("chalicelib.migrate",),
}
_handler = lambda_handler()
if _handler is not None:
    for _module in (*LAMBDA_IMPORTS, *FIRST_IMPORTS.get(_handler, ())):
        importlib.import_module(_module)
