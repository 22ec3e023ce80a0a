"""Shared helpers for the API tests: requests, contract checks, database and bucket snapshots."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from chalice.test import Client, HTTPResponse
from sqlalchemy import select, update

import app as app_module
from chalicelib.config import MiB, Settings
from chalicelib.db import Database
from chalicelib.models import File, Run
from chalicelib.service import Inlet
from chalicelib.storage import Storage
from local.processes import free_port, wait_until_ok
from local.stack import api_process
from tests.support.config import BUCKET, CORS_ORIGIN

JSON_HEADERS = {"Content-Type": "application/json"}
# Above the tests' 5 MiB multipart threshold: two parts, 5 MiB and 1 byte.
TWO_PARTS = 5 * MiB + 1
THREE_PARTS = 12 * MiB


def send(api: Client, method: str, path: str, body: object = None) -> HTTPResponse:
    """A request with a JSON body (bytes are sent as they are, None sends no body)."""
    if body is None:
        raw = b""
    elif isinstance(body, bytes):
        raw = body
    else:
        raw = json.dumps(body).encode()
    return api.http.request(method, path, headers=JSON_HEADERS, body=raw)


def spec(name: str = "data.bin", size: object = 10, **extra: object) -> dict[str, object]:
    return {"name": name, "size": size, **extra}


def create_run(api: Client, *files: dict[str, object], **fields: object) -> dict[str, Any]:
    """POST /v1/uploads (a single small file by default); asserts 201 and returns the body."""
    body = {"type": "app_bundle", "files": list(files) or [spec()], **fields}
    response = send(api, "POST", "/v1/uploads", body)
    assert response.status_code == 201, response.body
    result: dict[str, Any] = response.json_body
    return result


def file_path(run_id: str, file_id: str, action: str) -> str:
    return f"/v1/uploads/{run_id}/files/{file_id}/{action}"


def assert_error(response: HTTPResponse, status: int, code: str) -> dict[str, Any]:
    """The contract's error: the status, `{"error": {"code", "message", "details"}}` as JSON."""
    assert response.status_code == status, response.body
    assert response.headers["Content-Type"] == "application/json"
    body = response.json_body
    assert set(body) == {"error"}
    error: dict[str, Any] = body["error"]
    assert set(error) == {"code", "message", "details"}
    assert error["code"] == code
    assert isinstance(error["message"], str)
    assert error["message"]
    assert isinstance(error["details"], list)
    return error


def snapshot(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of both tables, in a stable order, to prove a request changed nothing."""
    tables: dict[str, list[tuple[Any, ...]]] = {}
    with db.session() as session:
        for model in (Run, File):
            rows = session.execute(select(model.__table__)).all()
            tables[model.__tablename__] = sorted((tuple(row) for row in rows), key=str)
    return tables


def open_uploads(storage: Storage, run_id: str = "") -> set[tuple[str, str]]:
    """(key, upload id) of the multipart uploads open in the bucket (for one run, or all)."""
    prefix = f"runs/{run_id}/" if run_id else ""
    pages = storage.client.get_paginator("list_multipart_uploads").paginate(
        Bucket=storage.bucket, Prefix=prefix
    )
    return {(u["Key"], u["UploadId"]) for page in pages for u in page.get("Uploads", [])}


def set_run_status(db: Database, run_id: str, status: str) -> None:
    """Put a run in a state the API cannot reach yet (stored, failed, expired)."""
    with db.session() as session:
        session.execute(update(Run).where(Run.id == uuid.UUID(run_id)).values(status=status))


def insert_run(
    db: Database, created_at: datetime, run_type: str = "app_bundle", status: str = "pending"
) -> str:
    """A run without files, with a chosen creation time; returns its id."""
    run = Run(id=uuid.uuid4(), type=run_type, status=status, created_at=created_at)
    run.updated_at = created_at
    with db.session() as session:
        session.add(run)
    return str(run.id)


# Two days before the test session started, on the hour: times from `at` are in the past, however
# long the suite runs, and relative to the same clock the code under test reads.
BASE_TIME = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=2)


def at(minute: int, second: int = 0) -> datetime:
    return BASE_TIME + timedelta(minutes=minute, seconds=second)


def upload_part(storage: Storage, key: str, upload_id: str, number: int, data: bytes) -> str:
    """Upload one part with boto3 (the tests of presigned URLs use plain HTTP); its ETag."""
    response = storage.client.upload_part(
        Bucket=storage.bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=data
    )
    return response["ETag"]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def use_settings(
    monkeypatch: pytest.MonkeyPatch, settings: Settings, **changes: object
) -> Settings:
    """Serve the app with some settings changed (validated like the environment would be)."""
    changed = Settings.model_validate(settings.model_dump() | changes)
    current = app_module.inlet()
    services = Inlet(changed, current.db, current.storage)
    monkeypatch.setattr(app_module, "settings", lambda: changed)
    monkeypatch.setattr(app_module, "inlet", lambda: services)
    return changed


def use_clients(
    monkeypatch: pytest.MonkeyPatch, db: Database | None = None, storage: Storage | None = None
) -> None:
    """Serve the app with another database or bucket (a broken one, to test failures)."""
    current = app_module.inlet()
    services = Inlet(current.settings, db or current.db, storage or current.storage)
    monkeypatch.setattr(app_module, "inlet", lambda: services)


def closed_url(prefix: str) -> str:
    """A URL on a local port nobody listens on (it was free a moment ago)."""
    return f"{prefix}127.0.0.1:{free_port()}/inlet"


def wait_healthy(
    base: str, process: subprocess.Popen[bytes], log: Path, seconds: float = 90
) -> None:
    """Wait for `base`/health to answer, or fail the test showing the server's log."""
    try:
        wait_until_ok(f"{base}/health", seconds, process)
    except RuntimeError as exc:
        pytest.fail(f"{exc}:\n{log.read_text(errors='replace')}")


@contextmanager
def api_server(database_url: str, s3_endpoint: str, **settings: str) -> Iterator[str]:
    """The API as `make dev` serves it, on a free port over this database and bucket (5 MiB
    parts), with `settings` (upper-case variables) on top; its base URL."""
    port = str(free_port())
    env = os.environ | {
        "DATABASE_URL": database_url,
        "S3_ENDPOINT_URL": s3_endpoint,
        "INLET_BUCKET": BUCKET,
        "INLET_CORS_ORIGINS": CORS_ORIGIN,
        "INLET_MULTIPART_THRESHOLD": str(5 * MiB),
        "INLET_PART_SIZE": str(5 * MiB),
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
    with api_process(env | settings, port) as process:
        base = f"http://127.0.0.1:{port}"
        wait_until_ok(f"{base}/health", 60, process)
        yield base
