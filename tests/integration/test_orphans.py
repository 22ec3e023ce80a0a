"""No orphans: every version (and delete marker) under `runs/{run_id}/` of a cancelled, expired
or failed run, late uploads included, is deleted once INLET_ORPHAN_GRACE_HOURS have passed since
the run ended, once (`purged_at`); nothing of a stored run, ever. On a versioned bucket, as every
stack has (the quiet bucket: tests/conftest.py); times are passed in (`now=`)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy import update

import app as app_module
from chalicelib.config import Settings
from chalicelib.db import Database
from chalicelib.events import BucketEvents, Outcome
from chalicelib.expiry import expire_runs
from chalicelib.maintenance import ScheduleReport, purge_orphans, purge_run
from chalicelib.models import Run, utcnow
from chalicelib.service import Inlet
from chalicelib.storage import Storage
from chalicelib.telemetry import metrics
from chalicelib.uploads import Uploads
from local.pump import lambda_context, scheduled_event
from tests.support.events import create, detail, put
from tests.support.logs import LogLines

GRACE = timedelta(hours=24)
DATA = b"bytes of a run that never became stored"


@pytest.fixture
def inlet(db: Database, quiet_storage: Storage, quiet_settings: Settings) -> Inlet:
    return Inlet(quiet_settings, db, quiet_storage)


def versions(storage: Storage, run_id: uuid.UUID) -> list[tuple[str, str, int]]:
    """(key, version id, size) of every version and delete marker under the run's prefix."""
    found: list[tuple[str, str, int]] = []
    pages = storage.client.get_paginator("list_object_versions").paginate(
        Bucket=storage.bucket, Prefix=f"runs/{run_id}/"
    )
    for page in pages:
        found += [(v["Key"], v["VersionId"], v["Size"]) for v in page.get("Versions", [])]
        found += [(m["Key"], m["VersionId"], 0) for m in page.get("DeleteMarkers", [])]
    return sorted(found)


def purged_at(db: Database, run_id: uuid.UUID) -> datetime | None:
    with db.session() as session:
        run = session.get(Run, run_id)
        assert run is not None
        return run.purged_at


def ended_at(db: Database, run_id: uuid.UUID) -> datetime:
    with db.session() as session:
        run = session.get(Run, run_id)
        assert run is not None
        return run.updated_at


def purge(inlet: Inlet, now: datetime, limit: int = 200) -> ScheduleReport:
    report = ScheduleReport()
    purge_orphans(inlet.db, inlet.storage, GRACE, now, report, limit=limit)
    return report


def cancelled_with_late_uploads(inlet: Inlet) -> tuple[uuid.UUID, list[tuple[str, str, int]]]:
    """A cancelled run whose keys hold versions: an upload, its replacement, a delete marker,
    the placeholder cancelling wrote, and a late PUT after the cancel (any principal that can
    write, or a bucket that does not enforce If-None-Match)."""
    created = create(inlet.db, inlet.storage, inlet.settings, DATA, DATA, DATA)
    first, second, third = (f.key for f in created.files)
    put(inlet.storage, first, DATA)
    put(inlet.storage, first, DATA + b" again")
    put(inlet.storage, second, DATA)
    inlet.storage.client.delete_object(Bucket=inlet.storage.bucket, Key=second)
    inlet.uploads.cancel(str(created.run.id), owner=None)
    put(inlet.storage, third, b"late")
    put(inlet.storage, f"runs/{created.run.id}/stray/object", b"late, at a key of no file")
    return created.run.id, versions(inlet.storage, created.run.id)


def test_every_version_of_a_cancelled_run_goes_after_the_grace_period(inlet: Inlet) -> None:
    run_id, before = cancelled_with_late_uploads(inlet)
    assert len(before) >= 6  # two versions, a version and its delete marker, late PUTs
    ended = ended_at(inlet.db, run_id)

    assert purge(inlet, ended + GRACE - timedelta(seconds=1)).runs_purged == 0
    assert versions(inlet.storage, run_id) == before

    report = purge(inlet, ended + GRACE + timedelta(seconds=1))

    assert (report.runs_purged, report.objects_purged, report.errors) == (1, len(before), 0)
    assert report.bytes_purged == sum(size for _, _, size in before)
    assert versions(inlet.storage, run_id) == []
    assert purged_at(inlet.db, run_id) is not None
    run = detail(inlet.db, run_id)
    assert run.status == "cancelled"
    assert run.updated_at == ended  # purging is housekeeping, not a change of the run


def test_a_run_is_purged_once(monkeypatch: pytest.MonkeyPatch, inlet: Inlet) -> None:
    run_id, _ = cancelled_with_late_uploads(inlet)
    later = ended_at(inlet.db, run_id) + GRACE + timedelta(minutes=1)
    assert purge(inlet, later).runs_purged == 1
    first = purged_at(inlet.db, run_id)
    calls: list[str] = []
    monkeypatch.setattr(inlet.storage, "purge_prefix", lambda prefix: calls.append(prefix))

    again = purge(inlet, later + timedelta(days=30))

    assert (again.runs_purged, again.objects_purged, calls) == (0, 0, [])
    assert purged_at(inlet.db, run_id) == first


def test_expired_and_failed_runs_are_purged_and_stored_ones_never(inlet: Inlet) -> None:
    events = BucketEvents(inlet.db, inlet.storage, inlet.settings)
    stored = create(inlet.db, inlet.storage, inlet.settings, DATA)
    assert events.process(put(inlet.storage, stored.files[0].key, DATA)) == Outcome.STORED
    put(inlet.storage, f"runs/{stored.run.id}/extra", b"anything under a stored run's prefix")
    failed = create(inlet.db, inlet.storage, inlet.settings, DATA)
    assert events.process(put(inlet.storage, failed.files[0].key, b"wrong")) == Outcome.FAILED
    expired = create(inlet.db, inlet.storage, inlet.settings, DATA)
    assert expire_runs(inlet.db, inlet.storage, GRACE, now=utcnow() + 2 * GRACE) == 1
    put(inlet.storage, expired.files[0].key, DATA)  # a late upload
    kept = versions(inlet.storage, stored.run.id)

    report = purge(inlet, utcnow() + GRACE + timedelta(minutes=1))

    assert (report.runs_purged, report.errors) == (2, 0)
    assert versions(inlet.storage, failed.run.id) == []
    assert versions(inlet.storage, expired.run.id) == []
    assert versions(inlet.storage, stored.run.id) == kept
    assert len(kept) == 2
    assert purged_at(inlet.db, stored.run.id) is None
    statuses = [detail(inlet.db, r.run.id).status for r in (stored, failed, expired)]
    assert statuses == ["stored", "failed", "expired"]


def test_purging_decides_under_the_runs_lock(inlet: Inlet) -> None:
    """`purge_run` re-reads the run under its lock whatever the candidate query said: a stored
    run, however long ago it ended, is passed by."""
    events = BucketEvents(inlet.db, inlet.storage, inlet.settings)
    created = create(inlet.db, inlet.storage, inlet.settings, DATA)
    assert events.process(put(inlet.storage, created.files[0].key, DATA)) == Outcome.STORED

    assert purge_run(inlet.db, inlet.storage, created.run.id, utcnow() + 2 * GRACE) is None
    assert len(versions(inlet.storage, created.run.id)) == 1
    assert purged_at(inlet.db, created.run.id) is None


def test_each_invocation_purges_a_bounded_number_of_runs(inlet: Inlet) -> None:
    runs = [create(inlet.db, inlet.storage, inlet.settings, DATA) for _ in range(3)]
    for created in runs:
        put(inlet.storage, created.files[0].key, b"late")
        inlet.uploads.cancel(str(created.run.id), owner=None)
    later = utcnow() + GRACE + timedelta(minutes=1)

    first, second = purge(inlet, later, limit=2), purge(inlet, later, limit=2)

    assert (first.runs_purged, first.unfinished) == (2, ["purge"])
    assert (second.runs_purged, second.unfinished) == (1, [])
    assert all(versions(inlet.storage, r.run.id) == [] for r in runs)


def test_the_scheduled_handler_purges_and_reports(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    log_lines: LogLines,
    db: Database,
    quiet_storage: Storage,
    quiet_settings: Settings,
) -> None:
    services = Inlet(quiet_settings, db, quiet_storage)
    monkeypatch.setattr(app_module, "settings", lambda: quiet_settings)
    monkeypatch.setattr(app_module, "inlet", lambda: services)
    created = create(db, quiet_storage, quiet_settings, DATA)
    put(quiet_storage, created.files[0].key, DATA)
    Uploads(db, quiet_storage, quiet_settings).cancel(str(created.run.id), owner=None)
    with db.session() as session:  # cancelled a day and a minute ago
        session.execute(
            update(Run)
            .where(Run.id == created.run.id)
            .values(updated_at=utcnow() - GRACE - timedelta(minutes=1))
        )
    metrics.clear_metrics()  # what earlier tests added outside any invocation
    capsys.readouterr()

    app_module.expire_pending_runs(scheduled_event("us-east-1"), lambda_context("schedule"))

    assert versions(quiet_storage, created.run.id) == []
    assert purged_at(db, created.run.id) is not None
    lines = log_lines()
    (purged,) = [line for line in lines if line["message"] == "run's objects purged"]
    (done,) = [line for line in lines if line["message"] == "scheduled job done"]
    (emf,) = [json.loads(line) for line in capsys.readouterr().out.splitlines() if "_aws" in line]
    assert (purged["run_id"], purged["objects"], purged["bytes"]) == (
        str(created.run.id),
        1,
        len(DATA),
    )
    assert (done["runs_purged"], done["objects_purged"], done["bytes_purged"]) == (1, 1, len(DATA))
    assert (emf["ObjectsPurged"], emf["BytesReclaimed"]) == ([1.0], [float(len(DATA))])


@pytest.mark.parametrize(("ttl", "grace"), [(7200, 1), (3 * 24 * 3600, 48)])
def test_a_grace_shorter_than_the_url_lifetime_is_refused(ttl: int, grace: int) -> None:
    # A pending expiry longer than any URL here, so only the grace can be what is refused.
    environ = {
        "INLET_PRESIGN_TTL": str(ttl),
        "INLET_ORPHAN_GRACE_HOURS": str(grace),
        "INLET_PENDING_TTL_HOURS": "96",
    }
    with pytest.raises(RuntimeError, match=r"INLET_ORPHAN_GRACE_HOURS .* INLET_PRESIGN_TTL"):
        Settings.from_env(environ)
    assert Settings.from_env(environ | {"INLET_ORPHAN_GRACE_HOURS": str(ttl // 3600)})
