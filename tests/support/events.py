"""Helpers for the bucket-event tests: runs created through the upload code, objects put into
the bucket, the event S3 would send, the run read back as the API shows it, and waiting for
what a pump does in the background."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import quote_plus

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


def put(storage: Storage, key: str, data: bytes) -> ObjectEvent:
    """Store an object and return the event S3 sends for it (with the version it created, as
    S3 writes it into events of a versioned bucket; moto's events carry none)."""
    response = storage.client.put_object(Bucket=storage.bucket, Key=key, Body=data)
    etag = response["ETag"].strip('"')
    return ObjectEvent(
        storage.bucket, key, len(data), etag, response.get("VersionId"), "ObjectCreated:Put"
    )


def no_notifications(storage: Storage) -> None:
    """Switch the bucket's event notifications off, and check that none is left."""
    storage.client.put_bucket_notification_configuration(
        Bucket=storage.bucket, NotificationConfiguration={}
    )
    found = storage.client.get_bucket_notification_configuration(Bucket=storage.bucket)
    assert not any(key.endswith("Configurations") and value for key, value in found.items())


def incidents(db: Database, run_id: uuid.UUID | str) -> list[tuple[str, str | None, str | None]]:
    """(kind, recorded version, other version) of a run's incidents, as the API shows them."""
    return [
        (i.kind, i.recorded_version_id, i.other_version_id) for i in detail(db, run_id).incidents
    ]


def s3_record(
    bucket: str,
    key: str,
    name: str = "ObjectCreated:Put",
    *,
    size: int | None = None,
    etag: str | None = None,
    version_id: str | None = None,
    sequencer: str | None = "0062E99A88DC407460",
) -> dict[str, Any]:
    """One record of an S3 event notification, as S3 writes it (the key URL-encoded; a removal
    has no size or ETag). MinIO's records are the same with `s3:` before the name."""
    obj: dict[str, Any] = {"key": quote_plus(key)}
    for field, value in (
        ("size", size),
        ("eTag", etag),
        ("versionId", version_id),
        ("sequencer", sequencer),
    ):
        if value is not None:
            obj[field] = value
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": "us-east-1",
        "eventTime": "2026-11-30T12:00:00.000Z",
        "eventName": name,
        "s3": {"s3SchemaVersion": "1.0", "bucket": {"name": bucket}, "object": obj},
    }


def sqs_message(message_id: str, body: str) -> dict[str, Any]:
    """One message of the SQS event Lambda hands the handler, its body as given."""
    return {
        "messageId": message_id,
        "receiptHandle": f"receipt-{message_id}",
        "body": body,
        "attributes": {},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:inlet-events",
        "awsRegion": "us-east-1",
    }


def sqs_lambda_event(*records: dict[str, Any]) -> dict[str, Any]:
    """The SQS event Lambda hands the handler: one message per S3 record, each message body a
    notification (`{"Records": [record]}`) as S3 sends it to the queue."""
    return {
        "Records": [
            sqs_message(f"m{index}", json.dumps({"Records": [record]}))
            for index, record in enumerate(records)
        ]
    }


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
