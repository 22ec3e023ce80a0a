"""Runs left pending too long expire, and their multipart uploads leave the bucket; through the
core function and through the app's scheduled handler, as the pump invokes it. The scheduled job
checks a run's objects first: a run whose bytes are all in the bucket is stored, not expired."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

import app as app_module
from chalicelib.config import MiB, Settings
from chalicelib.db import Database
from chalicelib.events import BucketEvents, Outcome
from chalicelib.expiry import expire_pending, expire_runs
from chalicelib.models import Run
from chalicelib.schemas import (
    CompletedPart,
    CompleteRequest,
    CreateUploadResponse,
    MultipartUpload,
    UploadFileOut,
)
from chalicelib.storage import Storage
from chalicelib.uploads import Uploads
from local.pump import lambda_context, scheduled_event
from tests.support.api import open_uploads, upload_part, use_settings
from tests.support.events import create, detail, put

DAY = timedelta(hours=24)


def backdate(db: Database, run_id: uuid.UUID, age: timedelta) -> None:
    with db.session() as session:
        session.execute(
            update(Run).where(Run.id == run_id).values(created_at=datetime.now(UTC) - age)
        )


def test_old_pending_run_expires_and_its_upload_is_aborted(
    db: Database, storage: Storage, settings: Settings
) -> None:
    created = create(db, storage, settings, b"small", b"x" * (6 * MiB))
    run_id = created.run.id
    assert len(open_uploads(storage, str(run_id))) == 1

    assert expire_runs(db, storage, DAY, now=created.run.created_at + DAY) == 0  # not older yet
    assert (
        expire_runs(db, storage, DAY, now=created.run.created_at + DAY + timedelta(seconds=1)) == 1
    )

    run = detail(db, run_id)
    assert run.status == "expired"
    assert run.error is not None
    assert run.error.code == "expired"
    assert open_uploads(storage, str(run_id)) == set()


def test_only_pending_runs_expire(db: Database, storage: Storage, settings: Settings) -> None:
    data = b"stored in time"
    stored = create(db, storage, settings, data)
    BucketEvents(db, storage, settings).process(put(storage, stored.files[0].key, data))
    cancelled = create(db, storage, settings, b"cancelled")
    Uploads(db, storage, settings).cancel(str(cancelled.run.id), owner=None)
    young = create(db, storage, settings, b"young")
    for run in (stored, cancelled):
        backdate(db, run.run.id, 2 * DAY)

    assert expire_runs(db, storage, DAY) == 0

    statuses = [detail(db, r.run.id).status for r in (stored, cancelled, young)]
    assert statuses == ["stored", "cancelled", "pending"]


def test_a_late_file_of_an_expired_run_is_not_recorded(
    db: Database, storage: Storage, settings: Settings
) -> None:
    data = b"arrives too late"
    created = create(db, storage, settings, data)
    backdate(db, created.run.id, 2 * DAY)
    assert expire_runs(db, storage, DAY) == 1

    assert BucketEvents(db, storage, settings).process(
        put(storage, created.files[0].key, data)
    ) == (Outcome.IGNORED)
    run = detail(db, created.run.id)
    assert (run.status, run.files[0].status) == ("expired", "pending")


@pytest.mark.usefixtures("api")
def test_the_scheduled_handler_expires_runs(
    monkeypatch: pytest.MonkeyPatch, db: Database, storage: Storage, settings: Settings
) -> None:
    use_settings(monkeypatch, settings, inlet_pending_ttl_hours=2)
    old = create(db, storage, settings, b"x" * (6 * MiB))
    recent = create(db, storage, settings, b"recent")
    backdate(db, old.run.id, timedelta(hours=3))
    backdate(db, recent.run.id, timedelta(hours=1))

    app_module.expire_pending_runs(scheduled_event("us-east-1"), lambda_context("schedule"))

    assert [detail(db, r.run.id).status for r in (old, recent)] == ["expired", "pending"]
    assert open_uploads(storage, str(old.run.id)) == set()


# --- Before a run is expired, its objects are checked --------------------------------------

SMALL = b"uploaded, its event lost"
BIG = b"m" * (5 * MiB + 1)  # two parts: 5 MiB and 1 byte


def upload_parts(storage: Storage, file: UploadFileOut, data: bytes) -> list[CompletedPart]:
    upload = file.upload
    assert isinstance(upload, MultipartUpload)
    return [
        CompletedPart(
            part_number=n,
            etag=upload_part(
                storage,
                file.key,
                upload.upload_id,
                n,
                data[(n - 1) * upload.part_size : n * upload.part_size],
            ),
        )
        for n in range(1, upload.part_count + 1)
    ]


def uploaded(db: Database, storage: Storage, settings: Settings) -> CreateUploadResponse:
    """A pending run of a single PUT and a multipart upload, both in the bucket (the multipart
    completed through the API), whose events never came."""
    created = create(db, storage, settings, SMALL, BIG)
    single, multipart = created.files
    put(storage, single.key, SMALL)
    request = CompleteRequest(parts=upload_parts(storage, multipart, BIG))
    Uploads(db, storage, settings).complete(
        str(created.run.id), str(multipart.id), request, owner=None
    )
    return created


def test_a_run_whose_bytes_are_complete_is_stored_not_expired(
    db: Database, storage: Storage, settings: Settings
) -> None:
    created = uploaded(db, storage, settings)
    events = BucketEvents(db, storage, settings)

    report = expire_pending(db, storage, DAY, created.run.created_at + 2 * DAY, events=events)

    assert (report.expired, report.completed, report.errors) == (0, 1, 0)
    run = detail(db, created.run.id)
    assert (run.status, [f.status for f in run.files]) == ("stored", ["stored", "stored"])


def test_the_bucket_decides_even_when_a_completion_was_not_recorded(
    db: Database, storage: Storage, settings: Settings
) -> None:
    """A multipart upload completed in the bucket whose `complete` call never reached the
    database (upload_completed_at unset): the object is there, so the run is processed."""
    created = create(db, storage, settings, BIG)
    (file,) = created.files
    upload = file.upload
    assert isinstance(upload, MultipartUpload)
    parts = upload_parts(storage, file, BIG)
    storage.complete_multipart(file.key, upload.upload_id, [(p.part_number, p.etag) for p in parts])
    events = BucketEvents(db, storage, settings)

    report = expire_pending(db, storage, DAY, created.run.created_at + 2 * DAY, events=events)

    assert (report.expired, report.completed) == (0, 1)
    assert detail(db, created.run.id).status == "stored"


def test_a_run_missing_some_bytes_expires(
    db: Database, storage: Storage, settings: Settings
) -> None:
    created = create(db, storage, settings, SMALL, b"never uploaded")
    put(storage, created.files[0].key, SMALL)
    events = BucketEvents(db, storage, settings)

    report = expire_pending(db, storage, DAY, created.run.created_at + 2 * DAY, events=events)

    assert (report.expired, report.completed) == (1, 0)
    run = detail(db, created.run.id)
    assert (run.status, [f.status for f in run.files]) == ("expired", ["pending", "pending"])


def test_expiry_looks_at_a_bounded_number_of_runs(
    db: Database, storage: Storage, settings: Settings
) -> None:
    runs = [create(db, storage, settings, b"abandoned") for _ in range(3)]
    now = max(r.run.created_at for r in runs) + 2 * DAY
    events = BucketEvents(db, storage, settings)

    first = expire_pending(db, storage, DAY, now, events=events, limit=2)
    second = expire_pending(db, storage, DAY, now, events=events, limit=2)

    assert (first.expired, first.more) == (2, True)
    assert (second.expired, second.more) == (1, False)


@pytest.mark.usefixtures("api")
def test_the_scheduled_handler_stores_a_complete_run_past_its_expiry(
    monkeypatch: pytest.MonkeyPatch, db: Database, storage: Storage, settings: Settings
) -> None:
    use_settings(monkeypatch, settings, inlet_pending_ttl_hours=2)
    created = uploaded(db, storage, settings)
    backdate(db, created.run.id, timedelta(hours=3))

    app_module.expire_pending_runs(scheduled_event("us-east-1"), lambda_context("schedule"))

    run = detail(db, created.run.id)
    assert (run.status, run.error) == ("stored", None)
