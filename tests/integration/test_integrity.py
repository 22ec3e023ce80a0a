"""Immutable runs (issue 12, part B): once stored, the record and the bytes never silently part.

On both databases, with moto over HTTP and its versioned buckets. The bucket's own events reach
the app through SQS and the pump (moto sends them for objects created); what moto does not send
(events of removals, and versions in events) is delivered as S3 sends it, through
`BucketEvents.from_queue` with SQS-shaped bodies or MinIO's webhook route. Forged events go the
same two ways."""

from __future__ import annotations

import json
import os
import random
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from chalice.test import Client
from sqlalchemy import func, select, update

import app as app_module
from chalicelib.config import MiB, Settings
from chalicelib.db import Database
from chalicelib.events import BucketEvents, Outcome
from chalicelib.models import File, Run
from chalicelib.sqs import ObjectEvent
from chalicelib.storage import Storage, make_s3_client
from local.pump import Pump
from local.resources import EventQueue, ensure_bucket, make_sqs_client
from tests.support.api import create_run, file_path, send, spec, use_settings
from tests.support.config import make_settings
from tests.support.events import (
    create,
    detail,
    incidents,
    put,
    s3_record,
    sha256,
    sqs_lambda_event,
    wait_until,
)
from tests.support.queues import queue_depth

FORGED_VERSION = "F" * 32
FORGED_SEQUENCER = "FFFFFFFFFFFFFFFFFFFFFFFF"
SECRET = "integrity-webhook-secret-for-tests"


def drain(settings: Settings, queue: EventQueue) -> None:
    """Hand every message the bucket sent to the app's handler (as Lambda would) until none is
    left."""
    pump = Pump(make_sqs_client(settings), queue.url, app_module.handle_bucket_events)

    def drained() -> bool:
        pump.poll_once()
        return queue_depth(settings, queue.url) == 0

    wait_until(drained, "the queue draining", every=0)


def from_queue(*records: dict[str, Any]) -> None:
    """Records delivered through the SQS handler's core (as Lambda hands it a batch): none may
    fail (a failure would be delivered again)."""
    result = app_module.inlet().events.from_queue(sqs_lambda_event(*records))
    assert result == {"batchItemFailures": []}


def run_of(api: Client, run_id: str) -> dict[str, Any]:
    response = send(api, "GET", f"/v1/runs/{run_id}")
    assert response.status_code == 200, response.body
    body: dict[str, Any] = response.json_body
    return body


def kinds(run: dict[str, Any]) -> list[tuple[str, str | None, str | None]]:
    return [(i["kind"], i["recorded_version_id"], i["other_version_id"]) for i in run["incidents"]]


def upload_put(file: dict[str, Any], data: bytes) -> None:
    upload = file["upload"]
    response = requests.put(upload["url"], data=data, headers=upload["headers"], timeout=30)
    assert response.status_code == 200, response.text


def read_version(storage: Storage, key: str, version_id: str) -> bytes:
    got = storage.client.get_object(Bucket=storage.bucket, Key=key, VersionId=version_id)
    body: bytes = got["Body"].read()
    return body


# --- A stored file outlives whatever is done to its key -------------------------------------


def test_a_stored_file_outlives_an_overwrite_and_a_delete(
    event_app: Client, event_queue: EventQueue, event_settings: Settings, event_storage: Storage
) -> None:
    data = os.urandom(40_000)
    created = create_run(event_app, spec("etc.tgz", len(data), sha256=sha256(data)))
    run_id, file = created["run"]["id"], created["files"][0]
    key, bucket, s3 = file["key"], event_storage.bucket, event_storage.client
    upload_put(file, data)
    drain(event_settings, event_queue)
    stored = run_of(event_app, run_id)
    assert (stored["status"], stored["files"][0]["sha256"]) == ("stored", sha256(data))
    version = stored["files"][0]["version_id"]
    assert version is not None

    # Any S3 client can write over the key (moto enforces no policy): moto notifies the queue.
    overwrite = s3.put_object(Bucket=bucket, Key=key, Body=b"someone else's bytes")
    drain(event_settings, event_queue)
    # And delete it: a delete marker. moto sends no event for one; S3 sends this, twice here
    # (at least once: duplicates happen).
    marker = s3.delete_object(Bucket=bucket, Key=key)["VersionId"]
    removed = s3_record(bucket, key, "ObjectRemoved:DeleteMarkerCreated", version_id=marker)
    from_queue(removed, removed)
    # The overwrite's event delivered again, as S3 writes it (with its version).
    again = s3_record(bucket, key, size=20, version_id=overwrite["VersionId"])
    from_queue(again)

    run = run_of(event_app, run_id)
    (after,) = run["files"]
    assert (run["status"], run["error"]) == ("stored", None)
    assert (after["status"], after["sha256"], after["version_id"], after["error"]) == (
        "stored",
        sha256(data),
        version,
        None,
    )
    assert read_version(event_storage, key, version) == data
    assert kinds(run) == [
        ("overwritten", version, overwrite["VersionId"]),
        ("deleted", version, marker),
    ]
    assert all(i["file_id"] == file["id"] and i["key"] == key for i in run["incidents"])


def test_permanently_deleting_the_recorded_version_is_reported(
    event_app: Client, event_storage: Storage, db: Database
) -> None:
    first, second = os.urandom(3000), os.urandom(4000)
    created = create_run(
        event_app,
        spec("a.bin", len(first), sha256=sha256(first)),
        spec("b.bin", len(second), sha256=sha256(second)),
    )
    run_id = created["run"]["id"]
    bucket, s3 = event_storage.bucket, event_storage.client
    for file, data in zip(created["files"], (first, second), strict=True):
        upload_put(file, data)
        from_queue(s3_record(bucket, file["key"], size=len(data)))
    stored = run_of(event_app, run_id)
    assert stored["status"] == "stored"
    lost_file = stored["files"][0]
    key, version = lost_file["key"], lost_file["version_id"]

    # An operator deletes that version for good; S3 says so (ObjectRemoved:Delete with its id).
    s3.delete_object(Bucket=bucket, Key=key, VersionId=version)
    gone = s3_record(bucket, key, "ObjectRemoved:Delete", version_id=version)
    from_queue(gone, gone)

    run = run_of(event_app, run_id)
    lost, kept = run["files"]
    assert (lost["status"], lost["error"]["code"]) == ("lost", "version_deleted")
    assert version in lost["error"]["message"]
    # The record itself is not rewritten: what was verified stays on it.
    assert (lost["sha256"], lost["version_id"]) == (sha256(first), version)
    assert (kept["status"], kept["error"]) == ("stored", None)
    # The run stops saying stored: failed, with its own code; when it was stored is kept.
    assert (run["status"], run["error"]["code"]) == ("failed", "files_lost")
    assert run["error"]["message"].startswith("1 of 2 files lost")
    assert run["stored_at"] == stored["stored_at"]
    assert kinds(run) == [("version_lost", version, None)]
    # Still so when asked again (an event of the key, any event: nothing new is recorded).
    assert app_module.inlet().events.process(ObjectEvent(bucket, key)) == Outcome.DUPLICATE
    assert run_of(event_app, run_id) == run


def test_an_incident_is_recorded_once_whatever_delivers_it_concurrently(
    db: Database, storage: Storage, settings: Settings
) -> None:
    data = b"stored once"
    created = create(db, storage, settings, data)
    key = created.files[0].key
    assert BucketEvents(db, storage, settings).process(put(storage, key, data)) == Outcome.STORED
    overwrite = put(storage, key, b"written over")
    anonymous = ObjectEvent(storage.bucket, key)  # no version: the handler asks for the current
    deliveries = [overwrite, anonymous] * 4
    random.Random(12).shuffle(deliveries)

    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(BucketEvents(db, storage, settings).process, deliveries))

    assert sorted(outcomes) == sorted([Outcome.INCIDENT] + [Outcome.DUPLICATE] * 7)
    recorded = detail(db, created.run.id).files[0].version_id
    assert incidents(db, created.run.id) == [("overwritten", recorded, overwrite.version_id)]


# --- inbox/: every version dropped is a run of its own ------------------------------------------


def inbox_runs(db: Database, key: str) -> list[tuple[str, str | None, str | None, str]]:
    """(status, sha256, version, run status) of the files of an inbox key, oldest first."""
    with db.session() as session:
        rows = session.execute(
            select(File.status, File.sha256, File.version_id, Run.status)
            .join(Run, File.run_id == Run.id)
            .where(File.object_key == key)
            .order_by(File.created_at)
        ).all()
    return [tuple(row) for row in rows]  # type: ignore[misc]


def test_an_inbox_key_dropped_three_times_is_three_runs(
    event_app: Client,
    event_queue: EventQueue,
    event_settings: Settings,
    event_storage: Storage,
    db: Database,
) -> None:
    key = f"inbox/ds_etc/host-{uuid.uuid4().hex[:6]}/etc.tgz"
    drops = [os.urandom(1000 + n) for n in range(3)]
    versions = []
    for data in drops:
        put_result = event_storage.client.put_object(
            Bucket=event_storage.bucket, Key=key, Body=data
        )
        versions.append(put_result["VersionId"])
        drain(event_settings, event_queue)

    assert inbox_runs(db, key) == [
        ("stored", sha256(data), version, "stored")
        for data, version in zip(drops, versions, strict=True)
    ]
    assert len({row[1] for row in inbox_runs(db, key)}) == 3
    for data, version in zip(drops, versions, strict=True):
        assert read_version(event_storage, key, version) == data  # older runs untouched


def test_late_inbox_events_adopt_each_version_once(
    db: Database, storage: Storage, settings: Settings
) -> None:
    """Three drops, then their events (with versions, as S3 writes them), late, shuffled and
    delivered twice: still one run per version, and a new version is no incident."""
    key = f"inbox/app_bundle/{uuid.uuid4().hex[:6]}.tgz"
    drops = [os.urandom(500 + n) for n in range(3)]
    events = [put(storage, key, data) for data in drops]
    deliveries = events * 2
    random.Random(7).shuffle(deliveries)

    handler = BucketEvents(db, storage, settings)
    outcomes = [handler.process(event) for event in deliveries]

    assert outcomes.count(Outcome.STORED) >= 1
    assert Outcome.INCIDENT not in outcomes
    assert Outcome.FAILED not in outcomes
    assert sorted(inbox_runs(db, key), key=lambda row: str(row[2])) == sorted(
        (("stored", sha256(d), e.version_id, "stored") for d, e in zip(drops, events, strict=True)),
        key=lambda row: str(row[2]),
    )
    with db.session() as session:
        count = select(func.count()).select_from(File).where(File.object_key == key)
        assert session.scalar(count) == 3


def test_an_inbox_drop_deleted_before_its_event_is_adopted_with_its_deletion(
    db: Database, storage: Storage, settings: Settings
) -> None:
    """The version is still in the bucket under the delete marker: it was dropped, so it is a
    run; the marker is an incident of that run."""
    key = f"inbox/app_bundle/{uuid.uuid4().hex[:6]}.bin"
    data = b"dropped, then deleted"
    dropped = put(storage, key, data)
    marker = storage.client.delete_object(Bucket=storage.bucket, Key=key)["VersionId"]
    handler = BucketEvents(db, storage, settings)

    assert handler.process(dropped) == Outcome.STORED
    removed = ObjectEvent(
        storage.bucket, key, version_id=marker, name="ObjectRemoved:DeleteMarkerCreated"
    )
    assert handler.process(removed) == Outcome.INCIDENT
    assert handler.process(removed) == Outcome.DUPLICATE

    ((status, digest, version, run_status),) = inbox_runs(db, key)
    assert (status, digest, version, run_status) == (
        "stored",
        sha256(data),
        dropped.version_id,
        "stored",
    )
    with db.session() as session:
        run_id = session.scalars(select(File.run_id).where(File.object_key == key)).one()
    assert incidents(db, run_id) == [("deleted", dropped.version_id, marker)]


# --- Events are hints: forged ones change nothing the bucket does not show ----------------------


def forged(bucket: str, key: str) -> list[dict[str, Any]]:
    """Events nobody should believe: wrong sizes and ETags, a version the bucket never issued,
    the highest sequencer, removals of what is there."""
    return [
        s3_record(
            bucket,
            key,
            size=1,
            etag="0" * 32,
            version_id=FORGED_VERSION,
            sequencer=FORGED_SEQUENCER,
        ),
        s3_record(bucket, key, "ObjectCreated:CompleteMultipartUpload", size=10**12, etag="x-9"),
        s3_record(bucket, key, "ObjectRemoved:Delete", version_id=FORGED_VERSION),
        s3_record(bucket, key, "ObjectRemoved:DeleteMarkerCreated", sequencer=FORGED_SEQUENCER),
    ]


def assert_pending_untouched(run: dict[str, Any]) -> None:
    assert (run["status"], run["error"], run["incidents"]) == ("pending", None, [])
    assert all(
        (f["status"], f["error"], f["sha256"]) == ("pending", None, None) for f in run["files"]
    )


def test_forged_queue_events_neither_fail_nor_block_a_run(
    event_app: Client, event_queue: EventQueue, event_settings: Settings, event_storage: Storage
) -> None:
    data = os.urandom(5 * MiB + 1000)  # two parts: forged events arrive between them too
    created = create_run(event_app, spec("big.bin", len(data), sha256=sha256(data)))
    run_id, file = created["run"]["id"], created["files"][0]
    key, bucket = file["key"], event_storage.bucket
    upload = file["upload"]
    assert upload["method"] == "multipart"

    from_queue(*forged(bucket, key))  # before the upload
    assert_pending_untouched(run_of(event_app, run_id))

    size, parts = upload["part_size"], []
    for part in upload["parts"]:
        start = (part["part_number"] - 1) * size
        sent = requests.put(part["url"], data=data[start : start + size], timeout=30)
        assert sent.status_code == 200, sent.text
        parts.append({"part_number": part["part_number"], "etag": sent.headers["ETag"]})
        from_queue(*forged(bucket, key))  # during it
        assert_pending_untouched(run_of(event_app, run_id))
    completed = send(event_app, "POST", file_path(run_id, file["id"], "complete"), {"parts": parts})
    assert completed.status_code == 200, completed.body
    from_queue(*forged(bucket, key))  # before the bucket's own event is processed
    drain(event_settings, event_queue)
    from_queue(*forged(bucket, key))  # after

    run = run_of(event_app, run_id)
    assert (run["status"], run["error"], run["incidents"]) == ("stored", None, [])
    assert (run["files"][0]["status"], run["files"][0]["sha256"]) == ("stored", sha256(data))

    # A run that forged events reached before its upload can still be cancelled.
    other = create_run(event_app, spec("never.bin", 10))
    from_queue(*forged(bucket, other["files"][0]["key"]))
    cancelled = send(event_app, "DELETE", f"/v1/uploads/{other['run']['id']}")
    assert (cancelled.status_code, cancelled.json_body["status"]) == (200, "cancelled")


@pytest.fixture
def webhook(monkeypatch: pytest.MonkeyPatch, api: Client, settings: Settings) -> Client:
    use_settings(monkeypatch, settings, inlet_webhook_secret=SECRET)
    return api


def post_minio(api: Client, *records: dict[str, Any]) -> list[dict[str, str]]:
    """Records as MinIO's webhook posts them (`s3:` before the names), one POST each."""
    processed = []
    for record in records:
        minio = record | {"eventName": f"s3:{record['eventName']}"}
        body = {"EventName": minio["eventName"], "Key": "k", "Records": [minio]}
        response = api.http.post(
            "/v1/bucket-events",
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {SECRET}"},
            body=json.dumps(body).encode(),
        )
        assert response.status_code == 200, response.body
        processed.extend(response.json_body["processed"])
    return processed


def test_forged_webhook_events_neither_fail_nor_block_a_run(
    webhook: Client, storage: Storage
) -> None:
    data = os.urandom(20_000)
    created = create_run(webhook, spec("etc.tgz", len(data), sha256=sha256(data)))
    run_id, file = created["run"]["id"], created["files"][0]
    key, bucket = file["key"], storage.bucket

    before = post_minio(webhook, *forged(bucket, key))
    assert {p["outcome"] for p in before} == {"ignored"}
    assert_pending_untouched(run_of(webhook, run_id))

    upload_put(file, data)
    # Forged events first: each makes the handler look at the key, where the real bytes are.
    during = post_minio(webhook, *forged(bucket, key))
    assert [p["outcome"] for p in during] == ["stored"] + ["duplicate"] * 3
    real = post_minio(webhook, s3_record(bucket, key, size=len(data)))
    after = post_minio(webhook, *forged(bucket, key))
    assert {p["outcome"] for p in real + after} == {"duplicate"}

    run = run_of(webhook, run_id)
    assert (run["status"], run["error"], run["incidents"]) == ("stored", None, [])
    assert (run["files"][0]["status"], run["files"][0]["sha256"]) == ("stored", sha256(data))

    other = create_run(webhook, spec("never.bin", 10))
    post_minio(webhook, *forged(bucket, other["files"][0]["key"]))
    cancelled = send(webhook, "DELETE", f"/v1/uploads/{other['run']['id']}")
    assert (cancelled.status_code, cancelled.json_body["status"]) == (200, "cancelled")


def test_a_wrong_upload_still_fails_on_evidence(
    db: Database, storage: Storage, settings: Settings
) -> None:
    """Bytes of the wrong size or checksum in the bucket are evidence: the file fails, whatever
    the event says about them."""
    declared = b"the declared bytes"
    created = create(db, storage, settings, declared, declared)
    short, other = created.files
    handler = BucketEvents(db, storage, settings)
    storage.client.put_object(Bucket=storage.bucket, Key=short.key, Body=declared[:-1])
    storage.client.put_object(Bucket=storage.bucket, Key=other.key, Body=declared.upper())

    for file in (short, other):
        claims = ObjectEvent(
            storage.bucket, file.key, len(declared), "0" * 32, FORGED_VERSION, "ObjectCreated:Put"
        )
        assert handler.process(claims) == Outcome.FAILED
    run = detail(db, created.run.id)
    errors = {f.key: f.error.code for f in run.files if f.error}
    assert errors == {short.key: "size_mismatch", other.key: "checksum_mismatch"}
    assert run.status == "failed"


def test_events_of_a_purged_run_are_ignored(
    db: Database, storage: Storage, settings: Settings
) -> None:
    """The orphan cleanup deletes a purged run's objects on purpose: no incident, no change."""
    data = b"purged"
    created = create(db, storage, settings, data)
    key = created.files[0].key
    handler = BucketEvents(db, storage, settings)
    assert handler.process(put(storage, key, data)) == Outcome.STORED
    version = detail(db, created.run.id).files[0].version_id
    assert version is not None
    with db.session() as session:
        session.execute(
            update(Run).where(Run.id == created.run.id).values(purged_at=Run.updated_at)
        )
    storage.client.delete_object(Bucket=storage.bucket, Key=key, VersionId=version)

    assert handler.process(ObjectEvent(storage.bucket, key, version_id=version)) == Outcome.IGNORED
    run = detail(db, created.run.id)
    assert (run.status, run.files[0].status, run.incidents) == ("stored", "stored", [])


# --- A bucket without versioning: the version is null, and adoption is once per key ------------


@pytest.fixture
def unversioned(settings: Settings, s3_endpoint: str) -> tuple[Storage, Settings]:
    name = f"inlet-test-plain-{uuid.uuid4().hex[:8]}"
    plain = make_settings(settings.database_url, s3_endpoint, inlet_bucket=name)
    s3 = make_s3_client(plain)
    ensure_bucket(s3, name)
    return Storage(s3, name, plain.inlet_presign_ttl), plain


def test_without_versioning_a_key_is_one_file_and_lost_bytes_are_said(
    db: Database, unversioned: tuple[Storage, Settings]
) -> None:
    storage, settings = unversioned
    handler = BucketEvents(db, storage, settings)
    data = b"no versions here"
    created = create(db, storage, settings, data)
    key = created.files[0].key
    assert handler.process(put(storage, key, data)) == Outcome.STORED
    (file,) = detail(db, created.run.id).files
    assert (file.status, file.version_id) == ("stored", None)

    # Overwritten: without versions, the recorded bytes are gone, and the API says so.
    assert handler.process(put(storage, key, b"replaced bytes")) == Outcome.INCIDENT
    run = detail(db, created.run.id)
    assert run.files[0].error is not None
    assert (run.files[0].status, run.files[0].error.code) == ("lost", "version_deleted")
    assert (run.files[0].sha256, run.status) == (sha256(data), "failed")
    assert incidents(db, created.run.id) == [("version_lost", None, None)]

    # An inbox key is adopted once, as before versions: a second drop is no second run.
    inbox = f"inbox/app_bundle/{uuid.uuid4().hex[:6]}.bin"
    assert handler.process(put(storage, inbox, b"first drop")) == Outcome.STORED
    assert handler.process(put(storage, inbox, b"second drop")) == Outcome.INCIDENT
    assert handler.process(ObjectEvent(storage.bucket, inbox)) == Outcome.DUPLICATE
    assert [row[:3] for row in inbox_runs(db, inbox)] == [("lost", sha256(b"first drop"), None)]
