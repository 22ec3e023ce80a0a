"""The OpenAPI 3.1 document, generated from the pydantic models in `schemas`."""

from __future__ import annotations

import functools
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from chalicelib import schemas as s
from chalicelib import webhook
from chalicelib.errors import ERROR_CODES
from chalicelib.http import COMPANION, RUN_COMPANION

REF = "#/components/schemas/{model}"
ERRORS = {
    "400": "Body is not a JSON object",
    "401": "Missing or wrong bearer token",
    "404": "No such run or file (`not_found`), or no manifest for it (`no_manifest`)",
    "409": "The run or file is in a state that refuses this: `run_not_pending`, `not_multipart`,"
    " `upload_completed`, `upload_gone`, `object_exists`, `checksum_conflict`, `file_pending`,"
    " `file_failed`, `file_lost`, `file_not_pending`, `upload_mismatch` (docs/contract.md)",
    "413": "File, file count or body over the configured limit",
    "415": "The body is not declared `Content-Type: application/json` (`unsupported_media_type`)",
    "422": "Well-formed but invalid request",
    "429": "Over a quota or rate limit of the caller's owner (`quota_exceeded`): nothing was"
    " created; the `Retry-After` header says in how many seconds to try again",
    "503": "Database or bucket unreachable",
}
RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again",
        "required": True,
        "schema": {"type": "integer", "minimum": 1},
    }
}
RUN_ID = {
    "name": "run_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "format": "uuid"},
}
FILE_ID = {
    "name": "file_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "format": "uuid"},
}

WAIT = {
    "name": "wait",
    "in": "query",
    "description": "Seconds to wait for the run to leave `pending` (at most"
    " INLET_MAX_WAIT_SECONDS, 20 by default); it answers as soon as it does, or when the time is"
    " up with the run still pending. 0 or absent: at once.",
    "schema": {"type": "integer", "minimum": 0, "maximum": 25, "default": 0},
}


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


# Every /v1 operation takes an API token but the webhook, which takes its own shared secret.
API_TOKEN: list[dict[str, list[str]]] = [{"apiToken": []}]
SECURITY_SCHEMES = {
    "apiToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "An API token (`python -m local.admin create-token NAME`);"
        " see docs/security.md",
    },
    "webhookSecret": {
        "type": "http",
        "scheme": "bearer",
        "description": "INLET_WEBHOOK_SECRET, as MinIO's webhook target sends it",
    },
}


def _operation(
    summary: str,
    response: type[BaseModel],
    status: str = "200",
    body: type[BaseModel] | None = None,
    params: list[dict[str, Any]] | None = None,
    errors: tuple[str, ...] = ("401", "404", "503"),
    security: list[dict[str, list[str]]] = API_TOKEN,
) -> dict[str, Any]:
    if body is not None:  # every body must be declared JSON (http.require_json)
        errors = tuple(sorted({*errors, "415"}))
    op: dict[str, Any] = {
        "summary": summary,
        "security": security,
        "responses": {
            status: {
                "description": "OK",
                "content": {"application/json": {"schema": _ref(response)}},
            },
            **{
                code: {
                    "description": ERRORS[code],
                    "content": {"application/json": {"schema": _ref(s.ErrorResponse)}},
                    **({"headers": RETRY_AFTER} if code == "429" else {}),
                }
                for code in errors
            },
        },
    }
    if body is not None:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref(body)}},
        }
    if params:
        op["parameters"] = params
    return op


# Companion's S3 routes (docs/uppy.md) answer in Companion's shapes, not the contract's; the
# same routes under a run's endpoint (RUN_COMPANION) take its key instead of a token.
ENDPOINT_KEY = {
    "name": "endpoint_key",
    "in": "path",
    "required": True,
    "description": "The key `POST /v1/companion/runs` gave the run's endpoint",
    "schema": {"type": "string"},
}
UPLOAD_ID = {"name": "upload_id", "in": "path", "required": True, "schema": {"type": "string"}}
PART_NUMBER = {
    "name": "part_number",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1, "maximum": 10_000},
}
KEY = {"name": "key", "in": "query", "required": True, "schema": {"type": "string"}}
COMPANION_ERROR = {
    "description": "Refused, as Companion refuses: `error` (and `message`, which Uppy shows)"
    " say why, `code` is the contract's (docs/contract.md)",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["error", "message", "code"],
                "properties": {n: {"type": "string"} for n in ("error", "message", "code")},
            }
        }
    },
}


def _companion(
    summary: str,
    answer: dict[str, Any],
    params: list[dict[str, Any]],
    body: type[BaseModel] | None = None,
    keyed: bool = False,
) -> dict[str, Any]:
    """An operation of Companion's S3 routes: `answer` is the JSON schema of its 200. `keyed`:
    on a run's endpoint, whose key is in the path (no token, no 401)."""
    # Each route creates a run or acts on one: the contract's refusals of both (415 with a body).
    errors = ("400", "404", "409", "413", "422", "429", "503") + (("415",) if body else ())
    # The token is checked before the route: the contract's 401.
    unauthorized = {
        "401": {
            "description": ERRORS["401"],
            "content": {"application/json": {"schema": _ref(s.ErrorResponse)}},
        }
    }
    op: dict[str, Any] = {
        "summary": summary,
        "security": [] if keyed else API_TOKEN,
        "parameters": [RUN_ID, ENDPOINT_KEY, *params] if keyed else params,
        "responses": {
            "200": {"description": "OK", "content": {"application/json": {"schema": answer}}},
            **({} if keyed else unauthorized),
            **dict.fromkeys(errors, COMPANION_ERROR),
        },
    }
    if body is not None:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref(body)}},
        }
    return op


def _strings(*names: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": list(names),
        "properties": {name: {"type": "string"} for name in names},
    }


def companion_paths(prefix: str = COMPANION) -> dict[str, Any]:
    """Companion's routes under `prefix`: the token's, or a run's endpoint (RUN_COMPANION)."""
    keyed = prefix == RUN_COMPANION
    metadata = {
        "name": "metadata[size]",
        "in": "query",
        "required": not keyed,
        "description": "The file's size in bytes (the app adds it to the file's meta; a"
        " declared file has its size); also `metadata[runId]`, `metadata[fileId]`,"
        " `metadata[sha256]`, `metadata[runType]`, `metadata[label]` (docs/uppy.md)",
        "schema": {"type": "integer", "minimum": 0},
    }
    query: list[dict[str, Any]] = [
        {"name": "filename", "in": "query", "required": True, "schema": {"type": "string"}},
        {"name": "type", "in": "query", "schema": {"type": "string"}},
        metadata,
    ]
    part_numbers = {
        "name": "partNumbers",
        "in": "query",
        "required": True,
        "description": "Comma-separated part numbers, e.g. `1,2,3`",
        "schema": {"type": "string"},
    }
    post = {
        "type": "object",
        "required": ["method", "url", "fields", "expires"],
        "properties": {
            "method": {"const": "POST"},
            "url": {"type": "string"},
            "fields": {"type": "object", "additionalProperties": {"type": "string"}},
            "expires": {"type": "integer"},
        },
    }
    parts = {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "PartNumber": {"type": "integer"},
                "ETag": {"type": "string"},
                "Size": {"type": "integer"},
            },
        },
    }
    signed = {
        "type": "object",
        "properties": {"url": {"type": "string"}, "expires": {"type": "integer"}},
    }
    batch = {
        "type": "object",
        "properties": {
            "presignedUrls": {"type": "object", "additionalProperties": {"type": "string"}}
        },
    }
    upload = [UPLOAD_ID, KEY]
    op = functools.partial(_companion, keyed=keyed)
    return {
        f"{prefix}/params": {
            "get": op("A presigned POST for a declared file, or a new run of one file", post, query)
        },
        f"{prefix}/multipart": {
            "post": op(
                "A multipart upload for a declared file, or a new run of one file",
                _strings("key", "uploadId", "bucket"),
                [],
                body=s.CompanionCreate,
            )
        },
        f"{prefix}/multipart/{{upload_id}}": {
            "get": op("The parts in the bucket", parts, upload),
            "delete": op(
                "Abort the upload: a run of one file is cancelled", {"type": "object"}, upload
            ),
        },
        f"{prefix}/multipart/{{upload_id}}/batch": {
            "get": op("Presigned URLs of parts", batch, [*upload, part_numbers])
        },
        f"{prefix}/multipart/{{upload_id}}/{{part_number}}": {
            "get": op("A presigned URL of one part", signed, [*upload, PART_NUMBER])
        },
        f"{prefix}/multipart/{{upload_id}}/complete": {
            "post": op(
                "Complete the upload (the run is stored once its bytes are verified)",
                _strings("location", "key", "bucket"),
                upload,
                body=s.CompanionComplete,
            )
        },
    }


@functools.cache
def document() -> dict[str, Any]:
    body_errors = ("400", "401", "404", "409", "413", "422", "503")
    list_params = [
        {
            "name": "status",
            "in": "query",
            "schema": {
                "type": "string",
                # Empty means any status, as if the parameter were left out.
                "enum": ["", "pending", "stored", "failed", "cancelled", "expired"],
            },
        },
        {"name": "type", "in": "query", "schema": {"type": "string", "maxLength": 64}},
        {
            "name": "limit",
            "in": "query",
            "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50},
        },
        {"name": "cursor", "in": "query", "schema": {"type": "string"}},
        {
            "name": "q",
            "in": "query",
            "description": "Runs whose label contains this text, in any case: 3 to 200 "
            "printable characters (empty means any).",
            "schema": {"type": "string", "maxLength": 200, "pattern": "^$|^.{3,}$"},
        },
    ]
    manifest_params = [
        {
            "name": "limit",
            "in": "query",
            "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 200},
        },
        {"name": "cursor", "in": "query", "schema": {"type": "string"}},
    ]
    parts = "/v1/uploads/{run_id}/files/{file_id}/parts"
    paths: dict[str, Any] = {
        "/health": {
            "get": _operation("Database and bucket checks", s.Health, errors=("503",), security=[])
        },
        "/v1/openapi.json": {
            "get": {
                "summary": "This document",
                "security": API_TOKEN,
                "responses": {
                    "200": {
                        "description": "OK",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    },
                    "401": {
                        "description": ERRORS["401"],
                        "content": {"application/json": {"schema": _ref(s.ErrorResponse)}},
                    },
                },
            }
        },
        "/v1/uploads": {
            "post": _operation(
                "Create a pending run and presigned uploads for its files",
                s.CreateUploadResponse,
                "201",
                s.CreateUploadRequest,
                errors=("400", "401", "413", "422", "429", "503"),
            )
        },
        "/v1/companion/runs": {
            "post": _operation(
                "Declare a run for an Uppy app: its files and its own Companion endpoint",
                s.CompanionRunOut,
                "201",
                s.CompanionRunRequest,
                errors=("400", "401", "413", "422", "429", "503"),
            )
        },
        "/v1/uploads/{run_id}": {
            "delete": _operation(
                "Cancel a pending run",
                s.RunOut,
                params=[RUN_ID],
                errors=("401", "404", "409", "503"),
            )
        },
        parts: {
            "get": _operation(
                "Parts the bucket already holds (to resume)",
                s.ListPartsResponse,
                params=[RUN_ID, FILE_ID],
                errors=("401", "404", "409", "503"),
            ),
            "post": _operation(
                "Sign (or re-sign) part upload URLs",
                s.SignPartsResponse,
                body=s.SignPartsRequest,
                params=[RUN_ID, FILE_ID],
                errors=body_errors,
            ),
        },
        "/v1/uploads/{run_id}/files/{file_id}/complete": {
            "post": _operation(
                "Complete a multipart upload",
                s.FileOut,
                body=s.CompleteRequest,
                params=[RUN_ID, FILE_ID],
                errors=body_errors,
            )
        },
        "/v1/runs": {
            "get": _operation(
                "Runs, newest first", s.RunPage, params=list_params, errors=("401", "422", "503")
            )
        },
        "/v1/runs/{run_id}": {
            "get": _operation(
                "A run with its files; with `wait`, as soon as it leaves `pending`",
                s.RunDetail,
                params=[RUN_ID, WAIT],
                errors=("401", "404", "422", "503"),
            )
        },
        "/v1/runs/{run_id}/files/{file_id}/download": {
            "get": _operation(
                "A short-lived presigned GET of a stored file's recorded version",
                s.Download,
                params=[RUN_ID, FILE_ID],
                errors=("401", "404", "409", "503"),
            )
        },
        "/v1/runs/{run_id}/files/{file_id}/manifest": {
            "get": _operation(
                "An archive's manifest (its entries, paged), as the manifest processor read it",
                s.Manifest,
                params=[RUN_ID, FILE_ID, *manifest_params],
                errors=("401", "404", "422", "503"),
            )
        },
        "/v1/limits": {
            "get": _operation(
                "The caller's quotas and rate limits, with their use now (docs/security.md)",
                s.Limits,
                errors=("401", "503"),
            )
        },
        "/v1/bucket-events": {
            "post": _operation(
                "Bucket notifications from MinIO's webhook target (Bearer INLET_WEBHOOK_SECRET;"
                " 404 when no secret is configured)",
                webhook.BucketEventsResult,
                body=webhook.BucketNotification,
                errors=("400", "401", "404", "413", "422", "503"),
                security=[{"webhookSecret": []}],
            )
        },
        **companion_paths(),
        **companion_paths(RUN_COMPANION),
    }
    models: list[type[BaseModel]] = [
        s.Health,
        s.CreateUploadRequest,
        s.CreateUploadResponse,
        s.RunOut,
        s.SignPartsRequest,
        s.SignPartsResponse,
        s.ListPartsResponse,
        s.CompleteRequest,
        s.FileOut,
        s.RunPage,
        s.RunDetail,
        s.Limits,
        s.Download,
        s.Manifest,
        s.RunEvent,
        s.ErrorResponse,
        webhook.BucketNotification,
        webhook.BucketEventsResult,
        s.CompanionCreate,
        s.CompanionComplete,
        s.CompanionRunOut,
        s.CompanionRunRequest,
    ]
    _, definitions = models_json_schema(
        [(m, "validation" if issubclass(m, s.Request) else "serialization") for m in models],
        ref_template=REF,
    )
    schemas = definitions.get("$defs", {})
    # Clients branch on the code: list every one the API answers with.
    schemas["ErrorBody"]["properties"]["code"]["enum"] = list(ERROR_CODES)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Inlet",
            "version": "1",
            "description": "File ingestion: presigned uploads straight to the bucket, as runs.",
        },
        "paths": paths,
        # What Inlet sends to each INLET_EVENT_WEBHOOKS URL (docs/consumers.md).
        "webhooks": {
            "runEvent": {
                "post": {
                    "summary": "A run event, signed (header `Inlet-Signature`)",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _ref(s.RunEvent)}},
                    },
                    "responses": {"2XX": {"description": "Received; any other answer is retried"}},
                }
            }
        },
        "components": {
            "schemas": schemas,
            "securitySchemes": SECURITY_SCHEMES,
        },
    }
