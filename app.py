"""Inlet's Lambda entry points: HTTP routes and middleware. All logic lives in `chalicelib/`."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

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

from chalicelib import (
    auth,
    db_secret,
    events,
    expiry,
    health,
    openapi,
    runs,
    sqs,
    telemetry,
    uploads,
    webhook,
)
from chalicelib.config import Settings
from chalicelib.db import Database
from chalicelib.http import api_view, around_request, json_response, parse_body, preflight
from chalicelib.schemas import CompleteRequest, CreateUploadRequest, SignPartsRequest
from chalicelib.storage import Storage, make_s3_client

Model = TypeVar("Model", CreateUploadRequest, SignPartsRequest, CompleteRequest)

app = Chalice(app_name="inlet", configure_logs=False)
# Bodies are parsed by `parse_body` whatever their declared type, so a wrong
# Content-Type gets the contract's JSON error rather than Chalice's 415.
ANY_BODY = ["*/*"]


# Built on first use and kept for the life of the process (one Lambda container).
@functools.cache
def settings() -> Settings:
    return Settings.from_env()


@functools.cache
def database() -> Database:
    return Database.from_url(db_secret.database_url(settings()))


@functools.cache
def storage() -> Storage:
    config = settings()
    # Clients may reach the bucket elsewhere than we do (docker compose): sign for their host.
    presigner = make_s3_client(config, public=True) if config.s3_public_endpoint_url else None
    return Storage(
        make_s3_client(config), config.inlet_bucket, config.inlet_presign_ttl, presigner=presigner
    )


def request() -> Request:
    assert app.current_request is not None
    return app.current_request


def body(model: type[Model]) -> Model:
    return parse_body(request(), model, settings().inlet_max_body_bytes)


def owner() -> str | None:
    """Whose runs this request may touch (None: authentication is off)."""
    return auth.owner_of(request(), settings())


@app.middleware("http")
def http_middleware(event: Request, get_response: Callable[[Request], Response]) -> Response:
    def guarded(event: Request) -> Response:
        return auth.guard(event, get_response, settings(), database)

    return around_request(event, guarded, settings().inlet_cors_origins)


@app.route("/health")
@api_view
def get_health() -> Response:
    result = health.check(database(), storage())
    return json_response(result, 200 if result.status == "ok" else 503)


@app.route("/v1/openapi.json")
@api_view
def get_openapi() -> Response:
    return json_response(openapi.document())


@app.route("/v1/uploads", methods=["POST"], content_types=ANY_BODY)
@api_view
def create_upload() -> Response:
    result = uploads.create_upload(
        database(), storage(), settings(), body(CreateUploadRequest), owner=owner()
    )
    return json_response(result, 201)


@app.route("/v1/uploads/{run_id}", methods=["DELETE"])
@api_view
def cancel_upload(run_id: str) -> Response:
    return json_response(uploads.cancel_run(database(), storage(), run_id, owner=owner()))


@app.route("/v1/uploads/{run_id}/files/{file_id}/parts", methods=["POST"], content_types=ANY_BODY)
@api_view
def sign_parts(run_id: str, file_id: str) -> Response:
    parts = body(SignPartsRequest)
    signed = uploads.sign_parts(database(), storage(), run_id, file_id, parts, owner=owner())
    return json_response(signed)


@app.route("/v1/uploads/{run_id}/files/{file_id}/parts", methods=["GET"])
@api_view
def list_parts(run_id: str, file_id: str) -> Response:
    return json_response(uploads.list_parts(database(), storage(), run_id, file_id, owner=owner()))


@app.route(
    "/v1/uploads/{run_id}/files/{file_id}/complete", methods=["POST"], content_types=ANY_BODY
)
@api_view
def complete_upload(run_id: str, file_id: str) -> Response:
    parts = body(CompleteRequest)
    file = uploads.complete_upload(database(), storage(), run_id, file_id, parts, owner=owner())
    return json_response(file)


@app.route("/v1/runs")
@api_view
def list_runs() -> Response:
    query = runs.RunFilter.from_query(request().query_params)
    return json_response(runs.list_runs(database(), query, owner=owner()))


@app.route("/v1/runs/{run_id}")
@api_view
def get_run(run_id: str) -> Response:
    return json_response(runs.get_run(database(), runs.parse_run_id(run_id), owner=owner()))


@app.middleware("sqs")
@app.middleware("scheduled")
def event_middleware(event: Any, get_response: Callable[[Any], Any]) -> Any:
    return telemetry.around_event(event, get_response)


# The queue name is read when Chalice packages the app (it wires the event source mapping).
@app.on_sqs_message(queue=Settings.from_env().inlet_events_queue, batch_size=10)
def handle_bucket_events(event: SQSEvent) -> dict[str, Any]:
    """Bucket notifications via SQS; failed records are reported so only they are retried."""
    process = functools.partial(events.process_object, database(), storage(), settings())
    return dict(sqs.handle_batch(event.to_dict(), process))


@app.schedule(Rate(15, unit=Rate.MINUTES))
def expire_pending_runs(event: CloudWatchEvent) -> None:
    ttl = timedelta(hours=settings().inlet_pending_ttl_hours)
    expiry.expire_runs(database(), storage(), ttl)


def cors_preflight(**_: str) -> Response:
    path = request().context["resourcePath"]
    return preflight(request(), settings().inlet_cors_origins, app.routes[path].keys())


# Browsers preflight every cross-origin call; answer for configured origins only.
for _path in list(app.routes):
    app.route(_path, methods=["OPTIONS"])(cors_preflight)


# Server to server (no browser preflight): MinIO's webhook target, authorized by a shared secret.
@app.route("/v1/bucket-events", methods=["POST"], content_types=ANY_BODY)
@api_view
def receive_bucket_events() -> Response:
    """Bucket notifications over HTTP (MinIO); the same processing as the SQS handler."""
    webhook.authorize(request().headers.get("authorization"), settings().inlet_webhook_secret)
    notification = parse_body(
        request(), webhook.BucketNotification, settings().inlet_max_body_bytes
    )
    return json_response(webhook.receive(database(), storage(), settings(), notification))


@app.authorizer(ttl_seconds=auth.GATEWAY_CACHE_SECONDS)
def token_authorizer(auth_request: AuthRequest) -> AuthResponse:
    """API Gateway's token check (INLET_AUTHORIZER=gateway): the same lookup as the middleware."""
    return auth.gateway_response(database(), auth_request.token)


# Read when Chalice packages the app: API Gateway runs the authorizer before every /v1 route.
if Settings.from_env().inlet_authorizer == "gateway":
    auth.attach_authorizer(app.routes, token_authorizer)


@app.lambda_function(name="migrate")
def migrate_database(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Deploy-time custom resource (infra/cdk): apply the migrations before the new code runs."""
    from chalicelib import migrate  # imported here: only this function needs Alembic

    return migrate.on_deploy_event(event, database)
