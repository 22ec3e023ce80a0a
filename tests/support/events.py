"""Helpers for the bucket-event tests: runs created through the upload code, objects put into
the bucket, the event S3 would send, the run read back as the API shows it, and waiting for
what a pump does in the background."""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from chalicelib.config import Settings
from chalicelib.db import Database
from chalicelib.models import File, Run
from chalicelib.runs import Runs
from chalicelib.schemas import CreateUploadRequest, CreateUploadResponse, FileSpec, RunDetail
from chalicelib.sqs import ObjectEvent
from chalicelib.storage import Storage
from chalicelib.uploads import Uploads


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def create(
    db: Database,
    storage: Storage,
    settings: Settings,
    *files: bytes,
    declare_sha256: bool = True,
    sizes: list[int] | None = None,
) -> CreateUploadResponse:
    """A pending run with one file per content (declared size and sha256 from the content,
    unless told otherwise), exactly as `POST /v1/uploads` creates it."""
    specs = [
        FileSpec(
            name=f"file-{index}.bin",
            size=len(data) if sizes is None else sizes[index],
            sha256=sha256(data) if declare_sha256 else None,
        )
        for index, data in enumerate(files)
    ]
    request = CreateUploadRequest(type="app_bundle", files=specs)
    return Uploads(db, storage, settings).create(request, owner=None)


def put(storage: Storage, key: str, data: bytes, sequencer: str | None = None) -> ObjectEvent:
    """Store an object and return the event S3 sends for it."""
    etag = storage.client.put_object(Bucket=storage.bucket, Key=key, Body=data)["ETag"]
    return ObjectEvent(storage.bucket, key, len(data), etag.strip('"'), sequencer)


def detail(db: Database, run_id: uuid.UUID | str) -> RunDetail:
    return Runs(db).get(str(run_id), owner=None)


def row_counts(db: Database) -> tuple[int, int]:
    with db.session() as session:
        return (
            session.scalar(select(func.count()).select_from(Run)) or 0,
            session.scalar(select(func.count()).select_from(File)) or 0,
        )


def wait_until(
    done: Callable[[], bool], what: str, seconds: float = 120, every: float = 0.05
) -> None:
    """Return as soon as `done()` holds; fail the test if it has not within `seconds`. The bound
    is for a stuck test, not a measure of speed: a slow machine only takes longer to pass."""
    deadline = time.monotonic() + seconds
    while not done():
        if time.monotonic() >= deadline:
            pytest.fail(f"{what}: not within {seconds:.0f} s")
        time.sleep(every)
