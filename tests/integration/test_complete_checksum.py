"""A multipart file may declare its sha256 at `complete` (hashed while its parts were on the
wire): verified exactly like one declared at creation. Real presigned uploads over HTTP to the
moto server, then the bucket-event handler; on SQLite and Postgres."""

from __future__ import annotations

import os
import uuid
from typing import Any

import pytest
import requests
from chalice.test import Client, HTTPResponse

import app as app_module
from chalicelib import openapi
from chalicelib.db import Database
from chalicelib.events import Outcome
from chalicelib.models import File
from chalicelib.sqs import ObjectEvent
from chalicelib.storage import Storage
from tests.support.api import (
    TWO_PARTS,
    assert_error,
    create_run,
    file_path,
    open_uploads,
    send,
    snapshot,
    spec,
)
from tests.support.events import sha256

DATA = os.urandom(TWO_PARTS)
OTHER = sha256(b"other bytes")


def send_parts(file: dict[str, Any], data: bytes) -> list[dict[str, object]]:
    """PUT every part through its presigned URL; the parts list a complete sends."""
    upload, parts = file["upload"], []
    size = upload["part_size"]
    assert [p["part_number"] for p in upload["parts"]] == list(range(1, upload["part_count"] + 1))
    for part in upload["parts"]:
        number = part["part_number"]
        put = requests.put(part["url"], data=data[(number - 1) * size : number * size], timeout=60)
        assert put.status_code == 200, put.text
        parts.append({"part_number": number, "etag": put.headers["ETag"]})
    return parts


def complete(api: Client, run_id: str, file_id: str, body: object) -> HTTPResponse:
    return send(api, "POST", file_path(run_id, file_id, "complete"), body)


def declared(db: Database, file_id: str) -> str | None:
    with db.session() as session:
        file = session.get(File, uuid.UUID(file_id))
        assert file is not None
        return file.declared_sha256


def handle_event(storage: Storage, key: str) -> Outcome:
    return app_module.inlet().events.process(ObjectEvent(storage.bucket, key))


def test_the_document_lists_sha256_at_complete() -> None:
    schemas = openapi.document()["components"]["schemas"]
    field = schemas["CompleteRequest"]["properties"]["sha256"]
    assert field["pattern"] == "^[0-9a-fA-F]{64}$"
    assert "sha256" not in schemas["CompleteRequest"].get("required", [])
    assert "checksum_conflict" in schemas["ErrorBody"]["properties"]["code"]["enum"]


@pytest.mark.parametrize(
    ("given", "outcome", "status", "error"),
    [
        (sha256(DATA).upper(), Outcome.STORED, "stored", None),
        (OTHER, Outcome.FAILED, "failed", "checksum_mismatch"),
    ],
    ids=["matching", "mismatch"],
)
def test_sha256_declared_at_complete_is_verified(
    api: Client,
    storage: Storage,
    given: str,
    outcome: Outcome,
    status: str,
    error: str | None,
) -> None:
    body = create_run(api, spec("big.bin", len(DATA)))
    run_id, file = body["run"]["id"], body["files"][0]
    assert file["declared_sha256"] is None

    parts = send_parts(file, DATA)
    response = complete(api, run_id, file["id"], {"parts": parts, "sha256": given})

    assert response.status_code == 200, response.body
    assert response.json_body["declared_sha256"] == given.lower()  # stored in lower case
    assert handle_event(storage, file["key"]) == outcome
    run = send(api, "GET", f"/v1/runs/{run_id}").json_body
    assert run["status"] == status
    (stored,) = run["files"]
    assert (stored["status"], stored["sha256"]) == (status, sha256(DATA))
    assert (stored["error"] or {}).get("code") == error


def test_declared_before_the_object_exists(
    api: Client, db: Database, storage: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The object's event can be handled before the complete request ends: the moment the
    bucket completes the object, another session already reads the declared sha256."""
    body = create_run(api, spec("big.bin", len(DATA)))
    run_id, file = body["run"]["id"], body["files"][0]
    parts = send_parts(file, DATA)
    seen: list[str | None] = []
    real = storage.complete_multipart

    def complete_and_look(*args: Any) -> str:
        etag = real(*args)
        seen.append(declared(db, file["id"]))  # what a handler would read now
        return etag

    monkeypatch.setattr(storage, "complete_multipart", complete_and_look)
    response = complete(api, run_id, file["id"], {"parts": parts, "sha256": OTHER})

    assert response.status_code == 200, response.body
    assert seen == [OTHER]


def test_a_different_sha256_than_declared_at_creation_is_a_conflict(
    api: Client, db: Database, storage: Storage
) -> None:
    body = create_run(api, spec("big.bin", len(DATA), sha256=sha256(DATA)))
    run_id, file = body["run"]["id"], body["files"][0]
    parts = send_parts(file, DATA)
    rows, uploads = snapshot(db), open_uploads(storage)

    conflict = complete(api, run_id, file["id"], {"parts": parts, "sha256": OTHER})

    error = assert_error(conflict, 409, "checksum_conflict")
    assert error["details"][0]["field"] == "sha256"
    assert snapshot(db) == rows
    assert open_uploads(storage) == uploads  # not completed
    same = complete(api, run_id, file["id"], {"parts": parts, "sha256": sha256(DATA).upper()})
    assert same.status_code == 200, same.body
    assert handle_event(storage, file["key"]) == Outcome.STORED


def test_a_retried_complete_is_idempotent(
    api: Client, db: Database, storage: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bucket completed the object and the answer was lost: the same complete again
    succeeds; with another sha256 it is a conflict; once recorded, it is `upload_completed`."""
    body = create_run(api, spec("big.bin", len(DATA)))
    run_id, file = body["run"]["id"], body["files"][0]
    parts = send_parts(file, DATA)
    real = storage.complete_multipart

    def complete_then_drop(*args: Any) -> str:
        real(*args)
        raise ConnectionError("the answer was lost")

    monkeypatch.setattr(storage, "complete_multipart", complete_then_drop)
    request = {"parts": parts, "sha256": sha256(DATA)}
    assert complete(api, run_id, file["id"], request).status_code == 500
    assert declared(db, file["id"]) == sha256(DATA)
    monkeypatch.setattr(storage, "complete_multipart", real)

    other = complete(api, run_id, file["id"], {"parts": parts, "sha256": OTHER})
    assert_error(other, 409, "checksum_conflict")
    again = complete(api, run_id, file["id"], request)
    assert again.status_code == 200, again.body
    assert again.json_body["declared_sha256"] == sha256(DATA)
    assert_error(complete(api, run_id, file["id"], request), 409, "upload_completed")
    assert handle_event(storage, file["key"]) == Outcome.STORED


def test_null_declares_nothing(api: Client, storage: Storage) -> None:
    body = create_run(api, spec("big.bin", len(DATA)))
    run_id, file = body["run"]["id"], body["files"][0]
    parts = send_parts(file, DATA)

    response = complete(api, run_id, file["id"], {"parts": parts, "sha256": None})

    assert response.status_code == 200, response.body
    assert response.json_body["declared_sha256"] is None
    assert handle_event(storage, file["key"]) == Outcome.STORED


@pytest.mark.parametrize(
    "value",
    ["ab" * 31, "zz" * 32, "ab" * 32 + "a", "", 7],
    ids=["short", "not-hex", "long", "empty", "number"],
)
def test_a_bad_sha256_is_422_naming_it(api: Client, db: Database, value: object) -> None:
    body = create_run(api, spec("big.bin", len(DATA)))
    run_id, file = body["run"]["id"], body["files"][0]
    parts = [{"part_number": n, "etag": f'"{n}"'} for n in (1, 2)]
    rows = snapshot(db)

    response = complete(api, run_id, file["id"], {"parts": parts, "sha256": value})

    error = assert_error(response, 422, "validation_error")
    assert [detail["field"] for detail in error["details"]] == ["sha256"]
    assert snapshot(db) == rows
