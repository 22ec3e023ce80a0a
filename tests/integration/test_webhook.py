"""`POST /v1/bucket-events`: MinIO's webhook target, on SQLite and Postgres with a real bucket.
MinIO cannot run here, so the bodies are built as MinIO builds them (internal/event: one record
per POST, `s3:`-prefixed event names, keys query-escaped), and the secret is checked both ways."""

from __future__ import annotations

import json
import os
from typing import Any
from urllib.parse import quote_plus

import pytest
from chalice.test import Client, HTTPResponse

import app as app_module
from chalicelib.config import Settings
from chalicelib.db import Database
from chalicelib.storage import Storage
from tests.support.api import (
    assert_error,
    closed_url,
    create_run,
    sha256,
    snapshot,
    spec,
    use_clients,
    use_settings,
)

PATH = "/v1/bucket-events"
SECRET = "minio-webhook-secret-for-tests"


@pytest.fixture
def webhook(monkeypatch: pytest.MonkeyPatch, api: Client, settings: Settings) -> Client:
    """The API with the webhook enabled."""
    use_settings(monkeypatch, settings, inlet_webhook_secret=SECRET)
    return api


def minio_record(
    bucket: str, key: str, size: int, etag: str, name: str = "s3:ObjectCreated:Put"
) -> dict[str, Any]:
    """One record as MinIO's webhook target sends it (the S3 event structure)."""
    return {
        "eventVersion": "2.0",
        "eventSource": "minio:s3",
        "awsRegion": "",
        "eventTime": "2026-11-27T12:00:00.000Z",
        "eventName": name,
        "userIdentity": {"principalId": "inlet-minio"},
        "requestParameters": {
            "principalId": "inlet-minio",
            "region": "",
            "sourceIPAddress": "172.18.0.1",
        },
        "responseElements": {
            "x-amz-id-2": "dd9025bab4ad464b049177c95eb6ebf374d3b3fd1af9251148b658df7ac2e3e8",
            "x-amz-request-id": "18C7F4B0A3E5D2A1",
            "x-minio-deployment-id": "6f1e7a1c-5b7e-4d5e-9d0c-2f6b3c1e8a90",
            "x-minio-origin-endpoint": "http://172.18.0.3:9000",
        },
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "inlet-runs",
            "bucket": {
                "name": bucket,
                "ownerIdentity": {"principalId": "inlet-minio"},
                "arn": f"arn:aws:s3:::{bucket}",
            },
            "object": {
                "key": quote_plus(key, safe=""),  # Go's url.QueryEscape: '/' -> %2F, ' ' -> '+'
                "size": size,
                "eTag": etag,
                "contentType": "application/octet-stream",
                "userMetadata": {"content-type": "application/octet-stream"},
                "sequencer": "187F2E4C1B3A9D00",
            },
        },
        "source": {"host": "172.18.0.1", "port": "", "userAgent": "MinIO (linux; amd64)"},
    }


def minio_body(*records: dict[str, Any]) -> dict[str, Any]:
    first = records[0]
    bucket, key = first["s3"]["bucket"]["name"], first["s3"]["object"]["key"]
    return {"EventName": first["eventName"], "Key": f"{bucket}/{key}", "Records": list(records)}


def post(api: Client, body: object, authorization: str | None = f"Bearer {SECRET}") -> HTTPResponse:
    headers = {"Content-Type": "application/json"}
    if authorization is not None:
        headers["Authorization"] = authorization
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return api.http.post(PATH, headers=headers, body=raw)


def stored_event(
    storage: Storage, key: str, data: bytes, name: str = "s3:ObjectCreated:Put"
) -> dict[str, Any]:
    """Put the object into the bucket; the record MinIO sends for it."""
    etag = storage.client.put_object(Bucket=storage.bucket, Key=key, Body=data)["ETag"]
    return minio_record(storage.bucket, key, len(data), etag.strip('"'), name)


def run_of(api: Client, run_id: str) -> dict[str, Any]:
    response = api.http.get(f"/v1/runs/{run_id}")
    assert response.status_code == 200, response.body
    body: dict[str, Any] = response.json_body
    return body


def test_uploaded_file_is_stored_through_the_webhook(webhook: Client, storage: Storage) -> None:
    data = os.urandom(5000)
    created = create_run(webhook, spec("etc.tgz", len(data), sha256=sha256(data)))
    run_id, file = created["run"]["id"], created["files"][0]
    body = minio_body(stored_event(storage, file["key"], data))

    response = post(webhook, body)

    assert response.status_code == 200, response.body
    assert response.json_body == {"processed": [{"key": file["key"], "outcome": "stored"}]}
    run = run_of(webhook, run_id)
    assert (run["status"], run["files"][0]["sha256"]) == ("stored", sha256(data))
    # MinIO delivers at least once: the same event again changes nothing.
    again = post(webhook, body)
    assert again.json_body == {"processed": [{"key": file["key"], "outcome": "duplicate"}]}


def test_multipart_completion_and_a_mismatch(webhook: Client, storage: Storage) -> None:
    data = os.urandom(3000)
    created = create_run(webhook, spec("a.bin", len(data)), spec("b.bin", len(data) + 1))
    good, bad = created["files"]
    body = minio_body(
        stored_event(storage, good["key"], data, "s3:ObjectCreated:CompleteMultipartUpload"),
        stored_event(storage, bad["key"], data),  # one byte short of what was declared
    )

    response = post(webhook, body)

    assert response.status_code == 200, response.body
    outcomes = [p["outcome"] for p in response.json_body["processed"]]
    assert outcomes == ["stored", "failed"]
    run = run_of(webhook, created["run"]["id"])
    assert run["status"] == "failed"
    errors = {f["key"]: f["error"] for f in run["files"]}
    assert errors[good["key"]] is None
    assert errors[bad["key"]]["code"] == "size_mismatch"


def test_dropped_file_with_a_space_becomes_a_run(
    webhook: Client, storage: Storage, db: Database
) -> None:
    data = b"dropped by mc cp"
    key = "inbox/app_bundle/prod etc.tgz"

    response = post(webhook, minio_body(stored_event(storage, key, data)))

    assert response.status_code == 200, response.body
    assert response.json_body["processed"] == [{"key": key, "outcome": "stored"}]
    (run,) = webhook.http.get("/v1/runs").json_body["items"]
    assert (run["type"], run["source"], run["status"]) == ("app_bundle", "bucket", "stored")


@pytest.mark.parametrize(
    "name",
    [
        "s3:ObjectCreated:PutTagging",  # MinIO files tag and retention changes under Created
        "s3:ObjectCreated:PutRetention",
        "s3:ObjectAccessed:Get",
    ],
)
def test_events_that_change_no_bytes_are_acknowledged_and_ignored(
    webhook: Client, storage: Storage, db: Database, name: str
) -> None:
    data = b"x" * 10
    file = create_run(webhook, spec("x.bin", len(data)))["files"][0]
    body = minio_body(stored_event(storage, file["key"], data, name))
    before = snapshot(db)

    response = post(webhook, body)

    assert (response.status_code, response.json_body) == (200, {"processed": []})
    assert snapshot(db) == before


def test_a_removal_is_a_hint_to_look_at_the_key(
    webhook: Client, storage: Storage, db: Database
) -> None:
    """The rule changed (issue 12): `s3:ObjectRemoved:Delete` used to be ignored like the
    events above. Removals are handled now (a delete over a stored file is an incident), and
    any event is only a hint to look at its key: here the bucket holds the uploaded object, so
    the file is verified, whatever the event's name says."""
    data = b"x" * 10
    created = create_run(webhook, spec("x.bin", len(data)))
    file = created["files"][0]
    body = minio_body(stored_event(storage, file["key"], data, "s3:ObjectRemoved:Delete"))

    response = post(webhook, body)

    assert response.json_body == {"processed": [{"key": file["key"], "outcome": "stored"}]}
    run = run_of(webhook, created["run"]["id"])
    assert (run["status"], run["files"][0]["sha256"], run["incidents"]) == (
        "stored",
        sha256(data),
        [],
    )


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Bearer wrong-secret-of-some-length",
        f"Bearer {SECRET}x",
        f"Bearer {SECRET[:-1]}",
        f"Basic {SECRET}",
        SECRET,  # the token without its scheme
        f"Bearer {SECRET.upper()}",
    ],
)
def test_missing_or_wrong_secret_is_401(
    webhook: Client, storage: Storage, db: Database, authorization: str | None
) -> None:
    data = b"unauthorized"
    file = create_run(webhook, spec("x.bin", len(data)))["files"][0]
    body = minio_body(stored_event(storage, file["key"], data))
    before = snapshot(db)

    response = post(webhook, body, authorization)

    assert_error(response, 401, "unauthorized")
    assert snapshot(db) == before


def test_scheme_is_case_insensitive(webhook: Client) -> None:
    body = {"EventName": "s3:ObjectAccessed:Get", "Key": "b/k", "Records": []}
    assert post(webhook, body, f"bearer {SECRET}").status_code == 200


def test_disabled_without_a_secret(api: Client, storage: Storage, db: Database) -> None:
    assert app_module.settings().inlet_webhook_secret is None
    data = b"nobody listens"
    file = create_run(api, spec("x.bin", len(data)))["files"][0]
    body = minio_body(stored_event(storage, file["key"], data))
    before = snapshot(db)

    for authorization in (f"Bearer {SECRET}", None):
        assert_error(post(api, body, authorization), 404, "not_found")
    assert snapshot(db) == before


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"not json", 400, "bad_request"),
        (b"[]", 400, "bad_request"),
        ({"EventName": "s3:ObjectCreated:Put"}, 422, "validation_error"),  # no Records
        ({"Records": "nope"}, 422, "validation_error"),
        ({"Records": [{"eventName": "s3:ObjectCreated:Put"}]}, 422, "validation_error"),
        ({"Records": [{"eventName": "s3:ObjectCreated:Put", "s3": {}}]}, 422, "validation_error"),
    ],
)
def test_malformed_bodies_are_refused(
    webhook: Client, db: Database, body: object, status: int, code: str
) -> None:
    before = snapshot(db)
    assert_error(post(webhook, body), status, code)
    assert snapshot(db) == before


def test_database_down_answers_503_so_minio_retries(
    monkeypatch: pytest.MonkeyPatch, webhook: Client, storage: Storage
) -> None:
    data = b"recorded on a later delivery"
    created = create_run(webhook, spec("late.bin", len(data)))
    body = minio_body(stored_event(storage, created["files"][0]["key"], data))
    down = Database.from_url(closed_url("postgresql://postgres@"))
    real = app_module.inlet().db
    use_clients(monkeypatch, db=down)

    assert_error(post(webhook, body), 503, "unavailable")
    down.engine.dispose()

    use_clients(monkeypatch, db=real)
    assert post(webhook, body).json_body["processed"][0]["outcome"] == "stored"
    assert run_of(webhook, created["run"]["id"])["status"] == "stored"
