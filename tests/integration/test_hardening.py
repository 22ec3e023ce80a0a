"""Issue 13 through Chalice's test client on SQLite and Postgres: bodies only as JSON (415
otherwise), numbers in query strings of any length, one name policy for the API and for keys
dropped into `inbox/` (printable Unicode in, controls and bidirectional overrides out), and keys
no row can hold failing their adoption clearly instead of cycling to the dead-letter queue."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from chalice.test import Client, HTTPResponse
from sqlalchemy import select

import app as app_module
from chalicelib import openapi
from chalicelib.config import Settings
from chalicelib.db import Database
from chalicelib.events import UNSTORABLE_KEY, BucketEvents, Outcome
from chalicelib.models import Run
from chalicelib.sqs import ObjectEvent
from chalicelib.storage import Storage
from local.pump import Pump
from local.resources import EventQueue, make_sqs_client
from tests.support.api import (
    JSON_HEADERS,
    TWO_PARTS,
    assert_error,
    create_run,
    file_path,
    snapshot,
    spec,
    use_settings,
)
from tests.support.events import (
    detail,
    put,
    row_counts,
    s3_record,
    sqs_lambda_event,
    wait_until,
)
from tests.support.queues import queue_depth

SECRET = "webhook-secret-for-hardening"

# --- 1. JSON only ----------------------------------------------------------------------------

# Everything a browser may send cross-origin without a preflight, no type at all, and lookalikes.
NOT_JSON: dict[str, str | None] = {
    "text-plain": "text/plain",
    "text-plain-utf8": "text/plain;charset=UTF-8",
    "form": "application/x-www-form-urlencoded",
    "multipart": "multipart/form-data; boundary=x",
    "missing": None,
    "blank": "  ",
    "json-lookalike": "application/jsonp",
    "vendor-json": "application/vnd.api+json",
    "json-in-a-list": "text/plain, application/json",
    "json-latin1": "application/json; charset=iso-8859-1",
    "wildcard": "*/*",
}


@pytest.fixture
def webhook(monkeypatch: pytest.MonkeyPatch, api: Client, settings: Settings) -> Client:
    use_settings(monkeypatch, settings, inlet_webhook_secret=SECRET)
    return api


def body_routes(api: Client) -> dict[str, tuple[str, dict[str, Any]]]:
    """Every /v1 route that takes a body, with a body it would accept as JSON."""
    created = create_run(api, spec("big.bin", TWO_PARTS))
    run_id, file_id = created["run"]["id"], created["files"][0]["id"]
    upload = {"type": "app_bundle", "files": [spec("a.bin", 5)]}
    return {
        "POST /v1/uploads": ("/v1/uploads", upload),
        "POST parts": (file_path(run_id, file_id, "parts"), {"part_numbers": [1]}),
        "POST complete": (
            file_path(run_id, file_id, "complete"),
            {"parts": [{"part_number": 1, "etag": '"a"'}, {"part_number": 2, "etag": '"b"'}]},
        ),
        "POST /v1/bucket-events": ("/v1/bucket-events", {"Records": []}),
        "POST /v1/companion/runs": ("/v1/companion/runs", {"files": [spec("b.bin", 5)]}),
    }


def send_as(api: Client, path: str, body: dict[str, Any], content_type: str | None) -> HTTPResponse:
    headers = {"Authorization": f"Bearer {SECRET}"}
    if content_type is not None:
        headers["Content-Type"] = content_type
    return api.http.post(path, headers=headers, body=json.dumps(body).encode())


@pytest.mark.parametrize("content_type", NOT_JSON.values(), ids=NOT_JSON.keys())
def test_bodies_that_are_not_declared_json_are_415(
    webhook: Client, db: Database, content_type: str | None
) -> None:
    routes = body_routes(webhook)
    before = snapshot(db)
    for name, (path, body) in routes.items():
        response = send_as(webhook, path, body, content_type)
        error = assert_error(response, 415, "unsupported_media_type")
        assert "application/json" in error["message"], name
    assert snapshot(db) == before


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/json; charset=utf-8", 'Application/JSON;Charset="UTF-8"'],
)
def test_json_with_parameters_is_accepted(webhook: Client, content_type: str) -> None:
    routes = body_routes(webhook)
    path, body = routes["POST /v1/uploads"]
    assert send_as(webhook, path, body, content_type).status_code == 201
    path, body = routes["POST parts"]
    assert send_as(webhook, path, body, content_type).status_code == 200
    path, body = routes["POST /v1/bucket-events"]
    assert send_as(webhook, path, body, content_type).status_code == 200


def test_the_webhook_checks_its_secret_before_the_media_type(webhook: Client) -> None:
    response = webhook.http.post(
        "/v1/bucket-events", headers={"Content-Type": "text/plain"}, body=b"{}"
    )
    assert_error(response, 401, "unauthorized")


def test_the_document_lists_415_on_every_operation_with_a_body() -> None:
    document = openapi.document()
    with_body = [
        (path, method, operation)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if "requestBody" in operation
    ]
    assert {(path, method) for path, method, _ in with_body} == {
        ("/v1/uploads", "post"),
        ("/v1/uploads/{run_id}/files/{file_id}/parts", "post"),
        ("/v1/uploads/{run_id}/files/{file_id}/complete", "post"),
        ("/v1/bucket-events", "post"),
        # Uppy's Companion routes: the same 415, in Companion's error shape (test_companion.py)
        ("/v1/companion/s3/multipart", "post"),
        ("/v1/companion/s3/multipart/{upload_id}/complete", "post"),
        ("/v1/companion/runs/{run_id}/{endpoint_key}/s3/multipart", "post"),
        ("/v1/companion/runs/{run_id}/{endpoint_key}/s3/multipart/{upload_id}/complete", "post"),
        ("/v1/companion/runs", "post"),
    }
    for path, method, operation in with_body:
        assert list(operation["requestBody"]["content"]) == ["application/json"], path
        assert "415" in operation["responses"], (path, method)
    codes = document["components"]["schemas"]["ErrorBody"]["properties"]["code"]["enum"]
    assert "unsupported_media_type" in codes


def test_every_route_with_a_body_is_in_the_table_above() -> None:
    """A new body route gets the same check: Chalice passes every type to the view."""
    posts = {
        path
        for path, methods in app_module.app.routes.items()
        for method in methods
        if method in ("POST", "PUT", "PATCH")
    }
    assert posts == {
        "/v1/uploads",
        "/v1/uploads/{run_id}/files/{file_id}/parts",
        "/v1/uploads/{run_id}/files/{file_id}/complete",
        "/v1/bucket-events",
        # checked in Companion's error shape by test_companion.py's test_bodies_must_be_json
        "/v1/companion/s3/multipart",
        "/v1/companion/s3/multipart/{upload_id}/complete",
        "/v1/companion/runs/{run_id}/{endpoint_key}/s3/multipart",
        "/v1/companion/runs/{run_id}/{endpoint_key}/s3/multipart/{upload_id}/complete",
        # the contract's 415, in the table above
        "/v1/companion/runs",
    }


# --- 2. numbers in query strings -------------------------------------------------------------


@pytest.mark.parametrize(
    "limit",
    ["1" * 4301, "9" * 5000, "1" * 100_000, "-" + "1" * 5000, "1" * 5000 + "x", "1e5000"],
    ids=["4301-digits", "5000-digits", "100k-digits", "negative-huge", "digits-then-junk", "exp"],
)
def test_a_huge_limit_is_422(api: Client, limit: str) -> None:
    error = assert_error(api.http.get(f"/v1/runs?limit={limit}"), 422, "validation_error")
    assert "limit must be an integer from 1 to 200" in error["message"]


def test_leading_zeros_do_not_count(api: Client) -> None:
    create_run(api)
    response = api.http.get(f"/v1/runs?limit={'0' * 5000}1")
    assert response.status_code == 200, response.body
    assert len(response.json_body["items"]) == 1


# --- 3. names --------------------------------------------------------------------------------

ACCEPTED_NAMES = {
    "emoji-zwj": "👨\u200d👩\u200d👧 family.txt",
    "emoji-variation-selector": "❤\ufe0f and ☺\ufe0e.txt",
    "emoji-skin-tone-zwj": "🧑🏽\u200d💻 laptop.log",
    "emoji-tag-flag": "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f.txt",
    "combining-marks": "cafe\u0301 nai\u0308ve Z\u0351\u0313a\u0360l\u0352g.txt",
    "cjk": "日本語のファイル/报告/보고서.txt",
    "hebrew-rtl": "דוח שנתי.pdf",
    "arabic-rtl": "تقرير سنوي.pdf",
    "rtl-with-marks": "דוח\u200f 2026\u200e.pdf",
    "devanagari-thai": "हिन्दी ไทย.txt",
    "private-use": "\ue000 icon.bin",
    "zero-width-non-joiner": "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645.txt",
}


@pytest.mark.parametrize("name", ACCEPTED_NAMES.values(), ids=ACCEPTED_NAMES.keys())
def test_printable_unicode_names_round_trip(api: Client, name: str) -> None:
    label = f"run of {name.split('/')[-1]}"
    created = create_run(api, spec(name, 3), label=label, notes=f"line one\n\t{name}")
    assert (created["files"][0]["name"], created["run"]["label"]) == (name, label)

    run = api.http.get(f"/v1/runs/{created['run']['id']}").json_body
    assert (run["files"][0]["name"], run["label"]) == (name, label)
    assert run["notes"] == f"line one\n\t{name}"
    (listed,) = api.http.get("/v1/runs").json_body["items"]
    assert listed["label"] == label


REFUSED = {
    "nul": ("\x00", "U+0000 NULL"),
    "escape": ("\x1b", "U+001B ESCAPE"),
    "bell": ("\x07", "U+0007 ALERT"),
    "newline": ("\n", "U+000A LINE FEED"),
    "tab": ("\t", "U+0009 CHARACTER TABULATION"),
    "delete": ("\x7f", "U+007F DELETE"),
    "c1-next-line": ("\x85", "U+0085 NEXT LINE"),
    "c1-csi": ("\x9b", "U+009B CONTROL SEQUENCE INTRODUCER"),
    "lre": ("\u202a", "U+202A LEFT-TO-RIGHT EMBEDDING"),
    "rle": ("\u202b", "U+202B RIGHT-TO-LEFT EMBEDDING"),
    "pdf": ("\u202c", "U+202C POP DIRECTIONAL FORMATTING"),
    "lro": ("\u202d", "U+202D LEFT-TO-RIGHT OVERRIDE"),
    "rlo": ("\u202e", "U+202E RIGHT-TO-LEFT OVERRIDE"),
    "lri": ("\u2066", "U+2066 LEFT-TO-RIGHT ISOLATE"),
    "rli": ("\u2067", "U+2067 RIGHT-TO-LEFT ISOLATE"),
    "fsi": ("\u2068", "U+2068 FIRST STRONG ISOLATE"),
    "pdi": ("\u2069", "U+2069 POP DIRECTIONAL ISOLATE"),
    "line-separator": ("\u2028", "U+2028 LINE SEPARATOR"),
    "paragraph-separator": ("\u2029", "U+2029 PARAGRAPH SEPARATOR"),
}


def post_upload(api: Client, body: dict[str, Any]) -> HTTPResponse:
    return api.http.post("/v1/uploads", headers=JSON_HEADERS, body=json.dumps(body).encode())


@pytest.mark.parametrize(("ch", "named"), REFUSED.values(), ids=REFUSED.keys())
def test_controls_and_bidi_overrides_are_refused_naming_field_and_character(
    api: Client, db: Database, ch: str, named: str
) -> None:
    before = snapshot(db)
    files = [spec("fine.txt", 1), spec(f"invoice{ch}fdp.exe", 1)]
    name = assert_error(
        post_upload(api, {"type": "app_bundle", "files": files}), 422, "validation_error"
    )
    assert f"name contains {named}" in name["message"]
    assert [d["field"] for d in name["details"]] == ["files[1].name"]
    assert f"name contains {named}" in name["details"][0]["message"]

    body = {"type": "app_bundle", "label": f"label{ch}end", "files": [spec()]}
    label = assert_error(post_upload(api, body), 422, "validation_error")
    assert [d["field"] for d in label["details"]] == ["label"]
    assert f"label contains {named}" in label["details"][0]["message"]
    assert snapshot(db) == before


@pytest.mark.parametrize("ch", ["\n", "\t", "\r"])
def test_a_trailing_control_is_refused_not_stripped(api: Client, ch: str) -> None:
    error = assert_error(
        post_upload(api, {"type": "app_bundle", "files": [spec(f"report.txt{ch}")]}),
        422,
        "validation_error",
    )
    assert "name contains U+" in error["message"]


def test_notes_keep_lines_but_not_other_controls(api: Client) -> None:
    notes = "first line\r\nsecond\tline\u2028third"
    created = create_run(api, notes=notes)
    assert created["run"]["notes"] == notes
    for ch, named in (("\u202e", "U+202E RIGHT-TO-LEFT OVERRIDE"), ("\x1b", "U+001B ESCAPE")):
        body = {"type": "app_bundle", "notes": f"a{ch}b", "files": [spec()]}
        error = assert_error(post_upload(api, body), 422, "validation_error")
        assert [d["field"] for d in error["details"]] == ["notes"]
        assert f"notes contains {named}" in error["message"]


def test_a_lone_surrogate_is_refused(api: Client) -> None:
    raw = b'{"type": "app_bundle", "files": [{"name": "a\\ud800b", "size": 1}]}'
    response = api.http.post("/v1/uploads", headers=JSON_HEADERS, body=raw)
    error = assert_error(response, 422, "validation_error")
    assert "name contains U+D800 SURROGATE" in error["message"]


# --- 3b. keys dropped into inbox/ ------------------------------------------------------------

HOSTILE_KEYS = {
    "escape-sequence": (
        "inbox/app_bundle/e\x1b[31mvil\x1b[0m.txt",
        "app_bundle/e\ufffd[31mvil\ufffd[0m.txt",
        "e\ufffd[31mvil\ufffd[0m.txt",
    ),
    "bell-and-rlo": (
        "inbox/ds_etc/dir\x07/invoice\u202efdp.exe",
        "ds_etc/dir\ufffd/invoice\ufffdfdp.exe",
        "invoice\ufffdfdp.exe",
    ),
    # (moto cannot store a key with a line feed: its routes end at one)
    "isolates-c1-tab-cr": (
        "inbox/a\u2067b\u2069\x85c\td\r.bin",
        "a\ufffdb\ufffd\ufffdc\ufffdd\ufffd.bin",
        "a\ufffdb\ufffd\ufffdc\ufffdd\ufffd.bin",
    ),
    "printable-unicode-kept": (
        "inbox/👨\u200d👩\u200d👧/דוח\u200f.pdf",
        "👨\u200d👩\u200d👧/דוח\u200f.pdf",
        "דוח\u200f.pdf",
    ),
}


def only_run(db: Database) -> uuid.UUID:
    with db.session() as session:
        (run_id,) = session.scalars(select(Run.id)).all()
    return run_id


@pytest.mark.parametrize(("key", "label", "name"), HOSTILE_KEYS.values(), ids=HOSTILE_KEYS.keys())
def test_adopted_keys_get_neutralised_labels_and_names(
    api: Client, db: Database, storage: Storage, settings: Settings, key: str, label: str, name: str
) -> None:
    data = b"dropped by anyone with write access to inbox/"
    put(storage, key, data)
    events = BucketEvents(db, storage, settings)
    event = sqs_lambda_event(s3_record(storage.bucket, key, size=len(data)))

    assert events.from_queue(event) == {"batchItemFailures": []}

    run = api.http.get(f"/v1/runs/{only_run(db)}").json_body
    assert (run["status"], run["source"], run["label"]) == ("stored", "bucket", label)
    (file,) = run["files"]
    # The key is the bucket's, exactly: only what the API shows as a name is neutralised.
    assert (file["name"], file["key"], file["status"]) == (name, key, "stored")
    assert api.http.get("/v1/runs").json_body["items"][0]["label"] == label


NUL_KEY = "inbox/app_bundle/report\x00.pdf\x1b"


def test_a_nul_key_fails_its_adoption_once_and_is_acknowledged(
    api: Client, db: Database, storage: Storage, settings: Settings
) -> None:
    data = b"a key Postgres cannot store"
    dropped = put(storage, NUL_KEY, data)
    events = BucketEvents(db, storage, settings)
    event = sqs_lambda_event(s3_record(storage.bucket, NUL_KEY, size=len(data)))

    assert events.from_queue(event) == {"batchItemFailures": []}

    assert row_counts(db) == (1, 0)  # a run, and no file: no file row can hold the key
    run = api.http.get(f"/v1/runs/{only_run(db)}").json_body
    assert (run["status"], run["source"], run["type"]) == ("failed", "bucket", "app_bundle")
    assert run["label"] == "app_bundle/report\ufffd.pdf\ufffd"
    assert (run["file_count"], run["files"]) == (0, [])
    assert run["error"]["code"] == UNSTORABLE_KEY
    message = run["error"]["message"]
    assert "U+0000 NULL" in message
    assert "inbox/app_bundle/report\\x00.pdf\\x1b" in message  # the key, escaped
    assert f"{len(data)} bytes" in message
    assert str(dropped.version_id) in message

    # Delivered again (S3 delivers at least once): acknowledged, nothing new.
    before = snapshot(db)
    assert events.from_queue(event) == {"batchItemFailures": []}
    assert events.process(dropped) == Outcome.DUPLICATE
    assert events.adopt_versions(NUL_KEY) == 0
    assert snapshot(db) == before


def test_each_version_of_a_nul_key_is_a_failed_run(
    db: Database, storage: Storage, settings: Settings
) -> None:
    first, second = put(storage, NUL_KEY, b"one"), put(storage, NUL_KEY, b"two")
    events = BucketEvents(db, storage, settings)

    # The event of the first names its version; the key's current version is the second.
    assert events.process(first) == Outcome.FAILED
    assert row_counts(db) == (2, 0)
    assert events.process(second) == Outcome.DUPLICATE
    with db.session() as session:
        messages = [m or "" for m in session.scalars(select(Run.error_message))]
    assert sorted(str(first.version_id) in m for m in messages) == [False, True]
    assert sorted(str(second.version_id) in m for m in messages) == [False, True]


def test_nul_keys_without_an_object_or_outside_inbox_are_acknowledged(
    db: Database, storage: Storage, settings: Settings
) -> None:
    events = BucketEvents(db, storage, settings)
    forged = [
        s3_record(storage.bucket, "inbox/never-stored\x00.bin", size=5),
        s3_record(storage.bucket, f"runs/{uuid.uuid4()}/{uuid.uuid4()}/a\x00b", size=5),
        s3_record(storage.bucket, "inbox/x\x00y", "ObjectRemoved:Delete"),
    ]

    assert events.from_queue(sqs_lambda_event(*forged)) == {"batchItemFailures": []}
    assert row_counts(db) == (0, 0)
    assert events.process(ObjectEvent(storage.bucket, "inbox/a\ud800b")) == Outcome.IGNORED


def test_the_webhook_acknowledges_unstorable_keys(
    webhook: Client, db: Database, storage: Storage
) -> None:
    data = b"through MinIO's webhook"
    put(storage, NUL_KEY, data)
    records = [
        s3_record(storage.bucket, NUL_KEY, "s3:ObjectCreated:Put", size=len(data)),
        s3_record(storage.bucket, "inbox/forged", "s3:ObjectCreated:Put", size=1),
    ]
    # A forged record with a lone surrogate in its key (JSON allows the escape; S3 never sends it).
    records[1]["s3"]["object"]["key"] = "inbox/\ud800forged"
    body = json.dumps({"EventName": "s3:ObjectCreated:Put", "Records": records}).encode()
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {SECRET}"}

    response = webhook.http.post("/v1/bucket-events", headers=headers, body=body)

    assert response.status_code == 200, response.body
    assert response.json_body["processed"] == [
        {"key": NUL_KEY, "outcome": "failed"},
        {"key": "inbox/\\ud800forged", "outcome": "ignored"},
    ]
    assert row_counts(db) == (1, 0)


def test_a_nul_key_leaves_the_queue_and_its_dead_letter_queue_empty(
    event_app: Client,
    event_queue: EventQueue,
    event_settings: Settings,
    event_storage: Storage,
    db: Database,
) -> None:
    """End to end: moto notifies the queue of the object, the pump hands the message to the
    app's SQS handler, and the handler acknowledges it with a failed run."""
    sqs = make_sqs_client(event_settings)
    pump = Pump(sqs, event_queue.url, app_module.handle_bucket_events)

    def polled(done: Callable[[], bool]) -> Callable[[], bool]:
        def check() -> bool:
            pump.poll_once()
            return done()

        return check

    wait_until(polled(lambda: queue_depth(sqs, event_queue.url) == 0), "S3's test event consumed")
    event_storage.client.put_object(Bucket=event_storage.bucket, Key=NUL_KEY, Body=b"nul")

    wait_until(polled(lambda: row_counts(db) == (1, 0)), "the failed adoption recorded", every=0)
    wait_until(polled(lambda: queue_depth(sqs, event_queue.url) == 0), "the queue drained")

    assert queue_depth(sqs, event_queue.dead_letter_url) == 0
    run = detail(db, only_run(db))
    assert (run.status, run.error and run.error.code) == ("failed", UNSTORABLE_KEY)
    assert event_app.http.get("/v1/runs").json_body["items"][0]["id"] == str(run.id)
