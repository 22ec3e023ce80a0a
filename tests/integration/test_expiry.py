"""Runs left pending too long expire, and their multipart uploads leave the bucket; through the
core function and through the app's scheduled handler, as the pump invokes it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

import app as app_module
from chalicelib.config import MiB, Settings
from chalicelib.db import Database
from chalicelib.events import BucketEvents, Outcome
from chalicelib.expiry import expire_runs
from chalicelib.models import Run
from chalicelib.storage import Storage
from chalicelib.uploads import Uploads
from local.pump import lambda_context, scheduled_event
from tests.support.api import open_uploads, use_settings
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
