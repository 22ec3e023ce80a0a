"""Runs taken to `stored` as clients and the bucket do it: the bytes sent over HTTP to the
presigned URLs (a single PUT, or every part and then complete), then the bucket event handler's
verdict on each key."""

from __future__ import annotations

from typing import Any

import requests
from chalice.test import Client

from chalicelib.config import Settings
from chalicelib.db import Database
from chalicelib.events import BucketEvents, Outcome
from chalicelib.sqs import ObjectEvent
from chalicelib.storage import Storage
from tests.support.api import create_run, file_path, send, sha256, spec


def upload(file: dict[str, Any], data: bytes) -> None:
    """Send `data` as the client would: the PUT URL with its headers, or every part."""
    sent = file["upload"]
    if sent["method"] == "PUT":
        response = requests.put(sent["url"], data=data, headers=sent["headers"], timeout=60)
        assert response.status_code == 200, response.text
        return
    size = sent["part_size"]
    assert len(sent["parts"]) == sent["part_count"]
    for part in sent["parts"]:
        start = (part["part_number"] - 1) * size
        response = requests.put(part["url"], data=data[start : start + size], timeout=60)
        assert response.status_code == 200, response.text


def complete(api: Client, run_id: str, file: dict[str, Any]) -> None:
    """Complete a multipart upload with the parts the bucket lists."""
    listed = send(api, "GET", file_path(run_id, file["id"], "parts")).json_body["parts"]
    parts = [{"part_number": p["part_number"], "etag": p["etag"]} for p in listed]
    completed = send(api, "POST", file_path(run_id, file["id"], "complete"), {"parts": parts})
    assert completed.status_code == 200, completed.body


def verify(db: Database, storage: Storage, settings: Settings, key: str) -> Outcome:
    """What the bucket's event for `key` makes of it (the handler asks the bucket itself)."""
    return BucketEvents(db, storage, settings).process(ObjectEvent(storage.bucket, key))


def stored_run(
    api: Client, db: Database, storage: Storage, settings: Settings, files: dict[str, bytes]
) -> dict[str, Any]:
    """A run of these files (name: bytes), uploaded and verified: its detail, `stored`."""
    specs = [spec(name, len(data), sha256=sha256(data)) for name, data in files.items()]
    created = create_run(api, *specs)
    run_id = created["run"]["id"]
    for file, data in zip(created["files"], files.values(), strict=True):
        upload(file, data)
        if file["upload"]["method"] == "multipart":
            complete(api, run_id, file)
        verify(db, storage, settings, file["key"])
    run: dict[str, Any] = send(api, "GET", f"/v1/runs/{run_id}").json_body
    assert run["status"] == "stored", run
    return run
