"""Inlet's Lambda entry points: HTTP routes and middleware. All logic lives in `chalicelib/`."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

from chalice.app import Chalice, Request, Response

from chalicelib import health, openapi, runs, uploads
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
    return Database.from_url(settings().database_url)


@functools.cache
def storage() -> Storage:
    config = settings()
    return Storage(make_s3_client(config), config.inlet_bucket, config.inlet_presign_ttl)


def request() -> Request:
    assert app.current_request is not None
    return app.current_request


def body(model: type[Model]) -> Model:
    return parse_body(request(), model, settings().inlet_max_body_bytes)


@app.middleware("http")
def http_middleware(event: Request, get_response: Callable[[Request], Response]) -> Response:
    return around_request(event, get_response, settings().inlet_cors_origins)


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
    result = uploads.create_upload(database(), storage(), settings(), body(CreateUploadRequest))
    return json_response(result, 201)


@app.route("/v1/uploads/{run_id}", methods=["DELETE"])
@api_view
def cancel_upload(run_id: str) -> Response:
    return json_response(uploads.cancel_run(database(), storage(), run_id))


@app.route("/v1/uploads/{run_id}/files/{file_id}/parts", methods=["POST"], content_types=ANY_BODY)
@api_view
def sign_parts(run_id: str, file_id: str) -> Response:
    parts = body(SignPartsRequest)
    return json_response(uploads.sign_parts(database(), storage(), run_id, file_id, parts))


@app.route("/v1/uploads/{run_id}/files/{file_id}/parts", methods=["GET"])
@api_view
def list_parts(run_id: str, file_id: str) -> Response:
    return json_response(uploads.list_parts(database(), storage(), run_id, file_id))


@app.route(
    "/v1/uploads/{run_id}/files/{file_id}/complete", methods=["POST"], content_types=ANY_BODY
)
@api_view
def complete_upload(run_id: str, file_id: str) -> Response:
    parts = body(CompleteRequest)
    return json_response(uploads.complete_upload(database(), storage(), run_id, file_id, parts))


@app.route("/v1/runs")
@api_view
def list_runs() -> Response:
    query = runs.RunFilter.from_query(request().query_params)
    return json_response(runs.list_runs(database(), query))


@app.route("/v1/runs/{run_id}")
@api_view
def get_run(run_id: str) -> Response:
    return json_response(runs.get_run(database(), runs.parse_run_id(run_id)))


def cors_preflight(**_: str) -> Response:
    path = request().context["resourcePath"]
    return preflight(request(), settings().inlet_cors_origins, app.routes[path].keys())


# Browsers preflight every cross-origin call; answer for configured origins only.
for _path in list(app.routes):
    app.route(_path, methods=["OPTIONS"])(cors_preflight)
