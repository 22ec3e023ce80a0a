"""Lost events lose nothing: with the bucket's notifications switched off entirely, the
scheduled job processes every upload whose bytes are in the bucket (a single PUT's object, a
completed multipart upload) once it has waited INLET_RECONCILE_AFTER_SECONDS, through the event
handler's own code. Times are passed in (`now=`), never waited for."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
import requests

import app as app_module
from chalicelib.config import MiB, Settings
from chalicelib.db import Database
from chalicelib.events import BucketEvents
from chalicelib.maintenance import ScheduleReport, reconcile
from chalicelib.models import utcnow
from chalicelib.schemas import (
    CompletedPart,
    CompleteRequest,
    CreateUploadResponse,
    MultipartUpload,
    SingleUpload,
    UploadFileOut,
)
from chalicelib.service import Inlet
from chalicelib.storage import Storage
from local.pump import Pump
from local.resources import EventQueue, make_sqs_client
from tests.support.api import upload_part, use_settings
from tests.support.events import create, detail, no_notifications, sha256, wait_until

LATER = timedelta(minutes=2)  # past INLET_RECONCILE_AFTER_SECONDS (60)
SMALL = b"a single PUT whose event never comes"
BIG = bytes(range(256)) * (5 * MiB // 256) + b"!"  # two parts: 5 MiB and 1 byte


@pytest.fixture
def inlet(db: Database, quiet_storage: Storage, quiet_settings: Settings) -> Inlet:
    return Inlet(quiet_settings, db, quiet_storage)


def upload_single(file: UploadFileOut, data: bytes) -> None:
    """PUT through the presigned URL, with the headers the API says to send."""
    upload = file.upload
    assert isinstance(upload, SingleUpload)
    response = requests.put(upload.url, data=data, headers=upload.headers, timeout=30)
    assert response.status_code == 200, response.text


def upload_multipart(
    inlet: Inlet, created: CreateUploadResponse, file: UploadFileOut, data: bytes
) -> None:
    """Every part (boto3), then `POST .../complete` as the API does it."""
    upload = file.upload
    assert isinstance(upload, MultipartUpload)
    parts = []
    for number in range(1, upload.part_count + 1):
        chunk = data[(number - 1) * upload.part_size : number * upload.part_size]
        etag = upload_part(inlet.storage, file.key, upload.upload_id, number, chunk)
        parts.append(CompletedPart(part_number=number, etag=etag))
    inlet.uploads.complete(
        str(created.run.id), str(file.id), CompleteRequest(parts=parts), owner=None
    )


def both_uploaded(inlet: Inlet) -> CreateUploadResponse:
    """A pending run of a single-PUT file and a multipart file, both uploaded, no event sent."""
    created = create(inlet.db, inlet.storage, inlet.settings, SMALL, BIG)
    single, multipart = created.files
    upload_single(single, SMALL)
    upload_multipart(inlet, created, multipart, BIG)
    return created


def test_with_notifications_off_both_kinds_of_upload_end_stored_through_the_job(
    inlet: Inlet,
) -> None:
    created = both_uploaded(inlet)

    early = inlet.run_schedule(now=utcnow())  # their events may still be on their way
    assert (early.reconciled, detail(inlet.db, created.run.id).status) == (0, "pending")

    report = inlet.run_schedule(now=utcnow() + LATER)

    assert report.reconciled == 2
    assert report.errors == 0
    run = detail(inlet.db, created.run.id)
    assert run.status == "stored"
    assert [(f.status, f.sha256) for f in run.files] == [
        ("stored", sha256(SMALL)),
        ("stored", sha256(BIG)),
    ]
    assert inlet.run_schedule(now=utcnow() + LATER).reconciled == 0  # nothing left to do


def test_files_without_bytes_are_left_pending(inlet: Inlet) -> None:
    """Nothing uploaded, parts uploaded but never completed: nothing to process yet."""
    created = create(inlet.db, inlet.storage, inlet.settings, SMALL, BIG)
    upload = created.files[1].upload
    assert isinstance(upload, MultipartUpload)
    upload_part(inlet.storage, created.files[1].key, upload.upload_id, 1, BIG[: 5 * MiB])

    report = inlet.run_schedule(now=utcnow() + LATER)

    assert (report.reconciled, report.reconcile_checked, report.errors) == (0, 1, 0)
    run = detail(inlet.db, created.run.id)
    assert (run.status, [f.status for f in run.files]) == ("pending", ["pending", "pending"])


def test_the_reconcile_delay_is_a_setting(
    db: Database, quiet_storage: Storage, quiet_settings: Settings
) -> None:
    changed = Settings.model_validate(
        quiet_settings.model_dump() | {"inlet_reconcile_after_seconds": 3600}
    )
    inlet = Inlet(changed, db, quiet_storage)
    created = both_uploaded(inlet)

    assert inlet.run_schedule(now=utcnow() + LATER).reconciled == 0
    assert inlet.run_schedule(now=utcnow() + timedelta(hours=1, minutes=1)).reconciled == 2
    assert detail(db, created.run.id).status == "stored"


def test_each_invocation_reconciles_a_bounded_number_of_files(inlet: Inlet) -> None:
    runs = [create(inlet.db, inlet.storage, inlet.settings, SMALL) for _ in range(3)]
    for created in runs:
        upload_single(created.files[0], SMALL)
    events = BucketEvents(inlet.db, inlet.storage, inlet.settings)
    later = utcnow() + LATER

    first, second = ScheduleReport(), ScheduleReport()
    reconcile(inlet.db, events, timedelta(seconds=60), later, first, limit=2)
    reconcile(inlet.db, events, timedelta(seconds=60), later, second, limit=2)

    assert (first.reconciled, first.unfinished) == (2, ["reconcile"])
    assert (second.reconciled, second.unfinished) == (1, [])
    assert [detail(inlet.db, r.run.id).status for r in runs] == ["stored"] * 3


def test_the_job_stops_starting_work_at_its_deadline(inlet: Inlet) -> None:
    created = both_uploaded(inlet)

    report = inlet.run_schedule(now=utcnow() + LATER, budget=0)

    assert report.reconciled == 0
    assert "reconcile" in report.unfinished
    assert detail(inlet.db, created.run.id).status == "pending"


def test_a_closing_placeholder_is_not_an_upload(inlet: Inlet) -> None:
    """A run whose key got its placeholder (cancel or expiry writes it before committing) but
    is still pending, the commit having failed: the job does not take the placeholder for the
    upload, and the run expires when its time comes."""
    created = create(inlet.db, inlet.storage, inlet.settings, SMALL)
    assert inlet.storage.write_tombstone(created.files[0].key)

    assert inlet.run_schedule(now=utcnow() + LATER).reconciled == 0
    report = inlet.run_schedule(now=utcnow() + timedelta(days=2))

    assert (report.reconciled, report.completed_at_expiry, report.expired) == (0, 0, 1)
    run = detail(inlet.db, created.run.id)
    assert (run.status, run.files[0].status) == ("expired", "pending")


@pytest.fixture
def silent_queue(event_queue: EventQueue, event_storage: Storage) -> EventQueue:
    """The events bucket's queue, with the bucket's notification removed: nothing reaches it."""
    no_notifications(event_storage)
    return event_queue


@pytest.fixture
def pumping(
    monkeypatch: pytest.MonkeyPatch,
    event_app: object,
    event_settings: Settings,
    silent_queue: EventQueue,
) -> Iterator[Settings]:
    """`make dev`'s pump (queue and scheduled job through the app's Chalice handlers) in a
    thread, the job every 0.2 s with no reconcile delay, over the silent events bucket."""
    changed = use_settings(monkeypatch, event_settings, inlet_reconcile_after_seconds=0)
    pump = Pump(
        make_sqs_client(changed),
        silent_queue.url,
        app_module.handle_bucket_events,
        app_module.expire_pending_runs,
        schedule_every=0.2,
    )
    stop = threading.Event()
    thread = threading.Thread(target=pump.run, args=(stop,), daemon=True)
    thread.start()
    try:
        yield changed
    finally:
        stop.set()
        thread.join(timeout=60)


def test_the_pump_stores_uploads_through_the_scheduled_handler_alone(
    db: Database, event_storage: Storage, pumping: Settings
) -> None:
    inlet = Inlet(pumping, db, event_storage)
    data = uuid.uuid4().bytes * 100
    created = create(db, event_storage, pumping, data, BIG)
    upload_single(created.files[0], data)
    upload_multipart(inlet, created, created.files[1], BIG)

    wait_until(
        lambda: detail(db, created.run.id).status != "pending",
        "the scheduled job storing the uploads",
        every=0.1,
    )
    assert detail(db, created.run.id).status == "stored"
