"""Runs of many multipart files: their uploads are created in the bucket concurrently (bounded),
all or nothing; part URLs for the first parts of the run come with it, the rest on demand.
On SQLite and Postgres, against the moto server over HTTP."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError
from chalice.test import Client

import app as app_module
from chalicelib.config import Settings
from chalicelib.db import Database
from chalicelib.events import Outcome
from chalicelib.sqs import ObjectEvent
from chalicelib.storage import Storage, error_code
from tests.support.api import (
    THREE_PARTS,
    TWO_PARTS,
    assert_error,
    create_run,
    file_path,
    open_uploads,
    send,
    snapshot,
    spec,
    use_settings,
)
from tests.support.events import sha256

FAILING_CALL = 7


def upload_is_gone(storage: Storage, key: str, upload_id: str) -> bool:
    try:
        storage.client.list_parts(Bucket=storage.bucket, Key=key, UploadId=upload_id)
    except ClientError as exc:
        return error_code(exc) == "NoSuchUpload"
    return False


class Opened:
    """Wraps Storage.create_multipart: keeps every (key, upload id) it created."""

    def __init__(self, storage: Storage) -> None:
        self.real = storage.create_multipart
        self.uploads: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    def __call__(self, key: str, content_type: str) -> str:
        upload_id = self.real(key, content_type)
        with self.lock:
            self.uploads.append((key, upload_id))
        return upload_id


class FailingCall:
    """Wraps a Storage method: the `FAILING_CALL`th call raises. With `concurrent`, the first
    two calls wait for each other, so they must be in flight at once (one after the other,
    they would fail with BrokenBarrierError)."""

    def __init__(self, real: Callable[..., Any], *, concurrent: bool) -> None:
        self.real = real
        self.calls = 0
        self.lock = threading.Lock()
        self.together = threading.Barrier(2, timeout=30) if concurrent else None

    def __call__(self, *args: Any) -> Any:
        with self.lock:
            self.calls += 1
            number = self.calls
        if self.together and number <= 2:
            self.together.wait()
        if number == FAILING_CALL:
            raise ConnectionError("the bucket went away")
        return self.real(*args)


@pytest.mark.parametrize("method", ["create_multipart", "presign_put"])
def test_a_failure_midway_aborts_every_upload_opened(
    api: Client, db: Database, storage: Storage, monkeypatch: pytest.MonkeyPatch, method: str
) -> None:
    """20 multipart files (each followed by a small one when signing PUTs fails): the 7th
    creation fails while others are in flight, or the 7th PUT URL cannot be signed once every
    upload is open. No run exists, and every upload that was opened is aborted."""
    before, uploads = snapshot(db), open_uploads(storage)
    opened = Opened(storage)
    monkeypatch.setattr(storage, "create_multipart", opened)
    failing = FailingCall(getattr(storage, method), concurrent=method == "create_multipart")
    monkeypatch.setattr(storage, method, failing)
    files = []
    for index in range(20):
        files.append(spec(f"big-{index}.bin", TWO_PARTS))
        if method == "presign_put":
            files.append(spec(f"small-{index}.txt", 10))

    response = send(api, "POST", "/v1/uploads", {"type": "app_bundle", "files": files})

    assert_error(response, 500, "internal_error")
    assert failing.calls >= FAILING_CALL
    assert snapshot(db) == before
    assert open_uploads(storage) == uploads
    assert opened.uploads  # some were opened before the failure, or while it happened
    assert all(upload_is_gone(storage, key, upload_id) for key, upload_id in opened.uploads)


def test_part_urls_for_the_first_parts_of_the_run(api: Client, storage: Storage) -> None:
    """INLET_PARTS_BATCH (20) URLs with the run, for the first parts of the first files; every
    file's multipart upload is open in the bucket with the id the answer gives."""
    body = create_run(api, *[spec(f"f{i}.bin", THREE_PARTS) for i in range(10)])
    uploads = [f["upload"] for f in body["files"]]

    signed = [[p["part_number"] for p in upload["parts"]] for upload in uploads]
    assert signed == [[1, 2, 3]] * 6 + [[1, 2]] + [[]] * 3
    assert open_uploads(storage, body["run"]["id"]) == {
        (f["key"], f["upload"]["upload_id"]) for f in body["files"]
    }


def upload_file(api: Client, run_id: str, file: dict[str, Any], data: bytes) -> None:
    """Upload through presigned URLs over HTTP, signing on demand the parts the run came
    without, then complete."""
    upload = file["upload"]
    urls = {p["part_number"]: p["url"] for p in upload["parts"]}
    missing = [n for n in range(1, upload["part_count"] + 1) if n not in urls]
    if missing:
        answer = send(
            api, "POST", file_path(run_id, file["id"], "parts"), {"part_numbers": missing}
        )
        assert answer.status_code == 200, answer.body
        urls |= {p["part_number"]: p["url"] for p in answer.json_body["parts"]}
    size, parts = upload["part_size"], []
    for number in sorted(urls):
        chunk = data[(number - 1) * size : number * size]
        put = requests.put(urls[number], data=chunk, timeout=60)
        assert put.status_code == 200, put.text
        parts.append({"part_number": number, "etag": put.headers["ETag"]})
    done = send(api, "POST", file_path(run_id, file["id"], "complete"), {"parts": parts})
    assert done.status_code == 200, done.body


def test_a_run_of_20_files_is_stored_end_to_end(api: Client, storage: Storage) -> None:
    """20 multipart files uploaded over HTTP (the first parts with the run's URLs, the rest
    signed on demand), completed, their events handled: the run is stored, every sha256 right."""
    contents = [os.urandom(TWO_PARTS) for _ in range(20)]
    body = create_run(api, *[spec(f"f{i}.bin", len(data)) for i, data in enumerate(contents)])
    run_id = body["run"]["id"]

    for file, data in zip(body["files"], contents, strict=True):
        upload_file(api, run_id, file, data)
        event = ObjectEvent(storage.bucket, file["key"])
        assert app_module.inlet().events.process(event) == Outcome.STORED

    run = send(api, "GET", f"/v1/runs/{run_id}").json_body
    assert run["status"] == "stored"
    assert {f["name"]: f["sha256"] for f in run["files"]} == {
        f"f{i}.bin": sha256(data) for i, data in enumerate(contents)
    }
    assert not open_uploads(storage, run_id)


def test_a_run_of_200_files(
    api: Client, storage: Storage, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """200 multipart uploads open in the bucket with the run; its last file (which came without
    part URLs) is uploaded and completed; cancelling aborts the other 199."""
    use_settings(monkeypatch, settings, inlet_max_files_per_run=200)
    body = create_run(api, *[spec(f"f{i}.bin", TWO_PARTS) for i in range(200)])
    run_id, files = body["run"]["id"], body["files"]
    assert open_uploads(storage, run_id) == {(f["key"], f["upload"]["upload_id"]) for f in files}
    assert sum(len(f["upload"]["parts"]) for f in files) == settings.inlet_parts_batch

    data = os.urandom(TWO_PARTS)
    upload_file(api, run_id, files[-1], data)
    assert send(api, "DELETE", f"/v1/uploads/{run_id}").json_body["status"] == "cancelled"

    assert not open_uploads(storage, run_id)
    assert (
        storage.client.get_object(Bucket=storage.bucket, Key=files[-1]["key"])["Body"].read()
        == data
    )


def test_a_run_over_a_quota_creates_nothing_in_the_bucket(
    api: Client, storage: Storage, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Quotas are counted before the uploads are created (and again when the run is inserted,
    which decides): a multipart run over one is refused without a single bucket call."""
    use_settings(monkeypatch, settings, inlet_quota_pending_runs=1)
    create_run(api)
    opened = Opened(storage)
    monkeypatch.setattr(storage, "create_multipart", opened)

    body = {"type": "app_bundle", "files": [spec(f"f{i}.bin", TWO_PARTS) for i in range(20)]}
    assert_error(send(api, "POST", "/v1/uploads", body), 429, "quota_exceeded")
    assert opened.uploads == []
