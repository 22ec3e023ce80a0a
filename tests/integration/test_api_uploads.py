"""Upload endpoints through Chalice's test client, on SQLite and Postgres, with a real bucket."""

from __future__ import annotations

import base64
import io
import json
import logging
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from chalice.test import Client
from sqlalchemy import select

from chalicelib.config import GiB, MiB, Settings
from chalicelib.db import Database
from chalicelib.logs import logger
from chalicelib.models import File, Run
from chalicelib.storage import Storage, make_s3_client
from tests.support.api import (
    THREE_PARTS,
    TWO_PARTS,
    assert_error,
    closed_url,
    create_run,
    file_path,
    open_uploads,
    send,
    snapshot,
    spec,
    upload_part,
    use_clients,
    use_settings,
)
from tests.support.config import BUCKET

DIGEST = "AB" * 32


def db_file(db: Database, file_id: str) -> File:
    with db.session() as session:
        file = session.get(File, uuid.UUID(file_id))
        assert file is not None
        return file


def test_create_run_with_single_and_multipart_files(
    api: Client, db: Database, storage: Storage
) -> None:
    small = spec("reports/etc.tgz", 1000, content_type="application/gzip", sha256=DIGEST)
    body = create_run(api, small, spec("big.bin", THREE_PARTS), label="prod SH", notes="first")

    run = body["run"]
    assert run["type"] == "app_bundle"
    assert (run["label"], run["notes"]) == ("prod SH", "first")
    assert (run["status"], run["source"], run["error"]) == ("pending", "api", None)
    assert (run["file_count"], run["total_bytes"]) == (2, 1000 + THREE_PARTS)
    assert run["created_at"].endswith("Z")
    put, multi = body["files"]
    for file in (put, multi):
        assert file["run_id"] == run["id"]
        assert (file["status"], file["sha256"], file["etag"], file["error"]) == (
            "pending",
            None,
            None,
            None,
        )
    assert put["key"] == f"runs/{run['id']}/{put['id']}/etc.tgz"
    assert (put["name"], put["content_type"]) == ("reports/etc.tgz", "application/gzip")
    assert put["declared_sha256"] == DIGEST.lower()
    assert put["upload"]["method"] == "PUT"
    # The declared sha256 is signed into the URL: the bucket refuses other bytes (base64, as S3);
    # so are the size and If-None-Match: * (tests/integration/test_bucket_refusals.py).
    assert put["upload"]["headers"] == {
        "Content-Disposition": "attachment",
        "Content-Type": "application/gzip",
        "If-None-Match": "*",
        "x-amz-checksum-sha256": base64.b64encode(bytes.fromhex(DIGEST)).decode(),
    }
    assert parse_qs(urlsplit(put["upload"]["url"]).query)["X-Amz-SignedHeaders"] == [
        "content-disposition;content-length;content-type;host;if-none-match;x-amz-checksum-sha256"
    ]
    assert f"/{BUCKET}/{put['key']}?" in put["upload"]["url"]
    assert put["upload"]["expires_at"].endswith("Z")

    upload = multi["upload"]
    assert multi["content_type"] == "application/octet-stream"
    assert (upload["method"], upload["part_size"], upload["part_count"]) == (
        "multipart",
        5 * MiB,
        3,
    )
    assert [p["part_number"] for p in upload["parts"]] == [1, 2, 3]
    assert all(f"uploadId={upload['upload_id']}" in p["url"] for p in upload["parts"])
    assert (multi["key"], upload["upload_id"]) in open_uploads(storage)

    stored = db_file(db, multi["id"])
    assert (stored.multipart_upload_id, stored.part_size) == (upload["upload_id"], 5 * MiB)
    assert db_file(db, put["id"]).multipart_upload_id is None


def test_blank_label_is_stored_as_null(api: Client) -> None:
    run = create_run(api, label="", notes="")["run"]
    assert (run["label"], run["notes"]) == (None, None)


@pytest.mark.parametrize(
    ("size", "method"),
    [(0, "PUT"), (5 * MiB, "PUT"), (TWO_PARTS, "multipart")],
    ids=["empty", "at-threshold", "above-threshold"],
)
def test_single_put_up_to_the_threshold(api: Client, size: int, method: str) -> None:
    file = create_run(api, spec(size=size))["files"][0]
    assert file["upload"]["method"] == method


def test_only_the_first_batch_of_parts_is_signed(
    api: Client, monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    use_settings(monkeypatch, settings, inlet_parts_batch=2)
    upload = create_run(api, spec(size=THREE_PARTS))["files"][0]["upload"]
    assert upload["part_count"] == 3
    assert [p["part_number"] for p in upload["parts"]] == [1, 2]


def test_part_size_grows_to_fit_ten_thousand_parts(api: Client) -> None:
    upload = create_run(api, spec(size=50 * GiB))["files"][0]["upload"]
    assert upload["part_size"] == 6 * MiB
    assert upload["part_count"] == -(-50 * GiB // (6 * MiB))
    assert upload["part_count"] <= 10_000
    assert len(upload["parts"]) == 20


def test_sign_parts_on_demand_and_again(api: Client) -> None:
    body = create_run(api, spec(size=THREE_PARTS))
    run_id, file = body["run"]["id"], body["files"][0]
    path = file_path(run_id, file["id"], "parts")
    for _ in range(2):  # re-signing is allowed
        response = send(api, "POST", path, {"part_numbers": [3, 1]})
        assert response.status_code == 200, response.body
        parts = response.json_body["parts"]
        assert [p["part_number"] for p in parts] == [1, 3]
        assert "partNumber=3" in parts[1]["url"]
        assert f"uploadId={file['upload']['upload_id']}" in parts[1]["url"]


def test_list_parts_shows_what_the_bucket_holds(api: Client, storage: Storage) -> None:
    body = create_run(api, spec(size=TWO_PARTS))
    run_id, file = body["run"]["id"], body["files"][0]
    path = file_path(run_id, file["id"], "parts")
    assert send(api, "GET", path).json_body == {"parts": []}

    etag = upload_part(storage, file["key"], file["upload"]["upload_id"], 1, b"x" * 5 * MiB)
    response = send(api, "GET", path)
    assert response.status_code == 200
    assert response.json_body == {"parts": [{"part_number": 1, "etag": etag, "size": 5 * MiB}]}


def upload_both_parts(storage: Storage, file: dict[str, Any]) -> list[dict[str, object]]:
    key, upload_id = file["key"], file["upload"]["upload_id"]
    first = upload_part(storage, key, upload_id, 1, b"a" * 5 * MiB)
    second = upload_part(storage, key, upload_id, 2, b"b")
    return [{"part_number": 1, "etag": first}, {"part_number": 2, "etag": second}]


def test_complete_a_multipart_upload(api: Client, db: Database, storage: Storage) -> None:
    body = create_run(api, spec("a.bin", TWO_PARTS))
    run_id, file = body["run"]["id"], body["files"][0]
    parts = upload_both_parts(storage, file)

    response = send(api, "POST", file_path(run_id, file["id"], "complete"), {"parts": parts})
    assert response.status_code == 200, response.body
    done = response.json_body
    assert (done["id"], done["key"], done["size_bytes"]) == (file["id"], file["key"], TWO_PARTS)
    assert done["status"] == "pending"  # stored only once the bucket event is processed
    assert "upload" not in done
    assert db_file(db, file["id"]).upload_completed_at is not None
    info = storage.head(file["key"])
    assert info is not None
    assert info.size == TWO_PARTS
    assert not open_uploads(storage, run_id)


def test_cancel_aborts_open_uploads_and_is_idempotent(
    api: Client, db: Database, storage: Storage
) -> None:
    body = create_run(api, spec(size=1), spec(size=TWO_PARTS), spec(size=THREE_PARTS))
    run_id = body["run"]["id"]
    assert len(open_uploads(storage, run_id)) == 2

    first = send(api, "DELETE", f"/v1/uploads/{run_id}")
    assert first.status_code == 200, first.body
    run = first.json_body
    assert (run["id"], run["status"]) == (run_id, "cancelled")
    assert (run["file_count"], run["total_bytes"]) == (3, 1 + TWO_PARTS + THREE_PARTS)
    assert not open_uploads(storage, run_id)

    again = send(api, "DELETE", f"/v1/uploads/{run_id}")
    assert again.status_code == 200
    assert again.json_body == run
    with db.session() as session:
        assert session.scalars(select(Run.status)).all() == ["cancelled"]


def test_cancel_keeps_a_completed_upload(api: Client, storage: Storage) -> None:
    body = create_run(api, spec(size=TWO_PARTS))
    run_id, file = body["run"]["id"], body["files"][0]
    parts = upload_both_parts(storage, file)
    completed = send(api, "POST", file_path(run_id, file["id"], "complete"), {"parts": parts})
    assert completed.status_code == 200
    assert send(api, "DELETE", f"/v1/uploads/{run_id}").status_code == 200
    assert storage.head(file["key"]) is not None


def test_upload_aborted_behind_our_back_is_upload_gone(api: Client, storage: Storage) -> None:
    body = create_run(api, spec(size=TWO_PARTS))
    run_id, file = body["run"]["id"], body["files"][0]
    storage.abort_multipart(file["key"], file["upload"]["upload_id"])
    storage.abort_multipart(file["key"], file["upload"]["upload_id"])  # gone already: fine
    assert_error(send(api, "GET", file_path(run_id, file["id"], "parts")), 409, "upload_gone")


def client_error(code: str, status: int) -> ClientError:
    response = {
        "Error": {"Code": code, "Message": code},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return ClientError(response, "S3")  # type: ignore[arg-type]


# moto answers CompleteMultipartUpload of an aborted upload with a 500 (a KeyError), so the
# bucket's answers to a completion are simulated: S3 says NoSuchUpload.
@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (client_error("NoSuchUpload", 404), 409, "upload_gone"),
        (client_error("EntityTooSmall", 400), 422, "validation_error"),
        (client_error("AccessDenied", 403), 503, "unavailable"),
        (client_error("InternalError", 500), 503, "unavailable"),
    ],
    ids=["no-such-upload", "entity-too-small", "access-denied", "internal-error"],
)
def test_bucket_answers_to_complete(
    api: Client,
    db: Database,
    storage: Storage,
    monkeypatch: pytest.MonkeyPatch,
    error: ClientError,
    status: int,
    code: str,
) -> None:
    body = create_run(api, spec(size=TWO_PARTS))
    run_id, file = body["run"]["id"], body["files"][0]
    parts = upload_both_parts(storage, file)

    def refuse(*_: object) -> str:
        raise error

    monkeypatch.setattr(storage, "complete_multipart", refuse)
    before = snapshot(db)
    completed = send(api, "POST", file_path(run_id, file["id"], "complete"), {"parts": parts})
    assert_error(completed, status, code)
    assert snapshot(db) == before


def test_complete_over_an_object_at_the_key_is_object_exists(
    api: Client, db: Database, storage: Storage
) -> None:
    """The server completes with If-None-Match: *: an object that got to the key first (any
    writer but this upload) stays, and the upload stays open to cancel."""
    body = create_run(api, spec(size=TWO_PARTS))
    run_id, file = body["run"]["id"], body["files"][0]
    parts = upload_both_parts(storage, file)
    storage.client.put_object(Bucket=storage.bucket, Key=file["key"], Body=b"first")
    before = snapshot(db)

    completed = send(api, "POST", file_path(run_id, file["id"], "complete"), {"parts": parts})

    assert_error(completed, 409, "object_exists")
    assert snapshot(db) == before
    assert storage.client.get_object(Bucket=storage.bucket, Key=file["key"])["Body"].read() == (
        b"first"
    )
    assert (file["key"], file["upload"]["upload_id"]) in open_uploads(storage, run_id)


@pytest.mark.parametrize("answer", [None, "PreconditionFailed", "NoSuchUpload"])
def test_complete_retried_after_a_lost_commit_succeeds(
    api: Client,
    db: Database,
    storage: Storage,
    monkeypatch: pytest.MonkeyPatch,
    answer: str | None,
) -> None:
    """The bucket completed the upload, the answer or the commit was lost, the client asks
    again. The bucket now answers 412 (If-None-Match: the object is there) or NoSuchUpload
    (LocalStack; `answer` simulates each; None: whatever this store answers): the object at
    the key has the ETag these parts make, so the upload is recorded as completed."""
    body = create_run(api, spec(size=TWO_PARTS))
    run_id, file = body["run"]["id"], body["files"][0]
    parts = upload_both_parts(storage, file)
    numbered = [(int(str(p["part_number"])), str(p["etag"])) for p in parts]
    storage.complete_multipart(file["key"], file["upload"]["upload_id"], numbered)
    if answer:

        def refuse(*_: object) -> str:
            raise client_error(answer, 412 if answer == "PreconditionFailed" else 404)

        monkeypatch.setattr(storage, "complete_multipart", refuse)

    completed = send(api, "POST", file_path(run_id, file["id"], "complete"), {"parts": parts})

    assert completed.status_code == 200, completed.body
    assert db_file(db, file["id"]).upload_completed_at is not None
    again = send(api, "POST", file_path(run_id, file["id"], "complete"), {"parts": parts})
    assert_error(again, 409, "upload_completed")


def test_cancel_keeps_the_run_pending_when_the_bucket_fails(
    api: Client, db: Database, storage: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_id = create_run(api, spec(size=TWO_PARTS))["run"]["id"]
    broken = Storage(storage.client, "no-such-bucket", 60)
    use_clients(monkeypatch, storage=broken)
    assert_error(send(api, "DELETE", f"/v1/uploads/{run_id}"), 503, "unavailable")
    assert send(api, "GET", f"/v1/runs/{run_id}").json_body["status"] == "pending"

    use_clients(monkeypatch, storage=storage)  # a retry works
    assert send(api, "DELETE", f"/v1/uploads/{run_id}").json_body["status"] == "cancelled"
    assert not open_uploads(storage, run_id)


@pytest.mark.parametrize("abort_fails", [False, True], ids=["aborted", "abort-fails"])
def test_database_outage_leaves_no_upload_open(
    api: Client,
    db: Database,
    storage: Storage,
    monkeypatch: pytest.MonkeyPatch,
    abort_fails: bool,
) -> None:
    before, uploads_before = snapshot(db), open_uploads(storage)
    down = Database.from_url(closed_url("postgresql://postgres@"))
    use_clients(monkeypatch, db=down)
    if abort_fails:

        def refuse(*_: object) -> None:
            raise ConnectionError("bucket gone too")

        monkeypatch.setattr(storage, "abort_multipart", refuse)

    body = {"type": "app_bundle", "files": [spec(size=TWO_PARTS)]}
    assert_error(send(api, "POST", "/v1/uploads", body), 503, "unavailable")

    assert snapshot(db) == before
    # When the abort fails too, the bucket's lifecycle rule removes the upload later.
    assert len(open_uploads(storage) - uploads_before) == int(abort_fails)
    down.engine.dispose()


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (RuntimeError("secret stack detail"), 500, "internal_error"),
        (client_error("InvalidArgument", 400), 500, "internal_error"),
        (client_error("NoSuchBucket", 404), 503, "unavailable"),
        (client_error("SlowDown", 503), 503, "unavailable"),
        (EndpointConnectionError(endpoint_url="http://s3"), 503, "unavailable"),
    ],
    ids=["bug", "client-error", "no-bucket", "slow-down", "unreachable"],
)
def test_unexpected_errors_are_json(
    api: Client,
    db: Database,
    storage: Storage,
    monkeypatch: pytest.MonkeyPatch,
    error: Exception,
    status: int,
    code: str,
) -> None:
    def fail(*_: object) -> None:
        raise error

    monkeypatch.setattr(storage, "presign_put", fail)
    before, uploads = snapshot(db), open_uploads(storage)
    body = {"type": "app_bundle", "files": [spec(), spec(size=TWO_PARTS)]}
    response = send(api, "POST", "/v1/uploads", body)
    assert "secret" not in assert_error(response, status, code)["message"]
    assert (snapshot(db), open_uploads(storage)) == (before, uploads)  # nothing left behind


@pytest.mark.parametrize("outage", ["closed-endpoint", "missing-bucket"])
def test_bucket_outage_is_503(
    api: Client, db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch, outage: str
) -> None:
    if outage == "closed-endpoint":
        client = make_s3_client(
            settings.model_copy(update={"s3_endpoint_url": closed_url("http://")})
        )
        broken = Storage(client, BUCKET, 60)
    else:
        broken = Storage(make_s3_client(settings), "no-such-bucket", 60)
    use_clients(monkeypatch, storage=broken)
    before = snapshot(db)

    response = send(
        api, "POST", "/v1/uploads", {"type": "app_bundle", "files": [spec(size=TWO_PARTS)]}
    )

    assert_error(response, 503, "unavailable")
    assert snapshot(db) == before


@pytest.fixture
def logged() -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """Reads the JSON lines the app logged so far in the test (through Powertools' formatter)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    std_logger = logging.getLogger(logger.service)
    std_logger.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    std_logger.removeHandler(handler)


def test_one_structured_log_line_per_request_with_the_run_id(
    api: Client, logged: Callable[[], list[dict[str, Any]]]
) -> None:
    run_id = create_run(api)["run"]["id"]
    send(api, "GET", f"/v1/runs/{run_id}")
    send(api, "GET", "/health")
    lines = logged()

    requests = [line for line in lines if line["message"] == "request"]
    assert [(r["method"], r["path"], r["status"]) for r in requests] == [
        ("POST", "/v1/uploads", 201),
        ("GET", "/v1/runs/{run_id}", 200),
        ("GET", "/health", 200),
    ]
    assert all(isinstance(r["duration_ms"], float) for r in requests)
    assert [r.get("run_id") for r in requests] == [run_id, run_id, None]
    created = next(line for line in lines if line["message"] == "run created")
    assert (created["run_id"], created["service"]) == (run_id, "inlet")
