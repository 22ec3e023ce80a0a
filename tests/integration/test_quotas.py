"""Quotas and rate limits per owner (chalicelib/limits.py, docs/security.md "Quotas"), on both
databases: each limit answers 429 `quota_exceeded` with Retry-After and creates nothing (no run
row, no multipart upload in the bucket); two creations at the edge of a limit cannot both pass;
owners have quotas of their own; `GET /v1/limits` says what is in use; drops into inbox/ over
the inbox rate wait in the bucket and are all adopted once the window moves on."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import pytest
from chalice.test import Client, HTTPResponse
from sqlalchemy import func, select, update

from chalicelib import limits, maintenance
from chalicelib.config import Settings
from chalicelib.db import Database
from chalicelib.models import File, FileStatus, Run, RunSource, RunStatus, utcnow
from chalicelib.schemas import CreateUploadRequest, FileSpec
from chalicelib.service import Inlet
from chalicelib.storage import Storage, make_s3_client
from chalicelib.tokens import create_token
from local.resources import ensure_upload_bucket
from tests.support.api import (
    JSON_HEADERS,
    TWO_PARTS,
    assert_error,
    create_run,
    open_uploads,
    send,
    snapshot,
    spec,
    use_settings,
)
from tests.support.config import CORS_ORIGIN
from tests.support.events import put, s3_record, sqs_lambda_event

MINUTE = timedelta(seconds=60)


def refused(
    api: Client, db: Database, storage: Storage, limit: str, *files: dict[str, object]
) -> dict[str, Any]:
    """POST /v1/uploads answers 429 naming `limit`, with Retry-After, and changes nothing in the
    database or the bucket; the error."""
    before, uploads = snapshot(db), open_uploads(storage)
    body = {"type": "app_bundle", "files": list(files) or [spec()]}
    response = send(api, "POST", "/v1/uploads", body)
    error = assert_error(response, 429, "quota_exceeded")
    assert [d["field"] for d in error["details"]] == [limit]
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    assert f"try again in {retry_after} s" in error["message"]
    assert snapshot(db) == before, "no run row"
    assert open_uploads(storage) == uploads, "no multipart upload left open in the bucket"
    error["retry_after"] = retry_after
    return error


def add_run(
    db: Database,
    created_at: datetime,
    *,
    status: RunStatus = RunStatus.CANCELLED,
    source: RunSource = RunSource.API,
    owner: str | None = None,
) -> None:
    """A run as if created at `created_at` (cancelled: it counts for rates only)."""
    run = Run(
        id=uuid.uuid4(),
        type="app_bundle",
        status=status.value,
        source=source.value,
        owner=owner,
        created_at=created_at,
        updated_at=created_at,
    )
    with db.session() as session:
        session.add(run)


def run_count(db: Database, source: RunSource = RunSource.API) -> int:
    with db.session() as session:
        query = select(func.count()).where(Run.source == source.value)
        return int(session.scalar(query) or 0)


# --- each limit -------------------------------------------------------------------------------


def test_pending_runs(
    api: Client, db: Database, storage: Storage, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_settings(monkeypatch, settings, inlet_quota_pending_runs=2)
    first = create_run(api, spec("big.bin", TWO_PARTS))
    create_run(api)
    error = refused(api, db, storage, "pending_runs", spec("big.bin", TWO_PARTS))
    assert error["retry_after"] == 60
    assert "2 runs are pending, the limit is 2 (INLET_QUOTA_PENDING_RUNS)" in error["message"]
    # Cancelled, stored or failed runs are not pending: room again.
    assert send(api, "DELETE", f"/v1/uploads/{first['run']['id']}").status_code == 200
    create_run(api, spec("big.bin", TWO_PARTS))
    refused(api, db, storage, "pending_runs")


def test_pending_bytes(
    api: Client, db: Database, storage: Storage, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_settings(monkeypatch, settings, inlet_quota_pending_bytes=2 * TWO_PARTS)
    first = create_run(api, spec("big.bin", TWO_PARTS))
    create_run(api, spec("small.bin", TWO_PARTS - 10))
    error = refused(api, db, storage, "pending_bytes", spec("a.bin", 6), spec("b.bin", 5))
    assert error["retry_after"] == 60
    create_run(api, spec("fits.bin", 10))  # exactly up to the limit

    # A stored file's bytes are no longer pending.
    with db.session() as session:
        session.execute(
            update(File)
            .where(File.run_id == uuid.UUID(first["run"]["id"]))
            .values(status=FileStatus.STORED.value)
        )
    create_run(api, spec("again.bin", TWO_PARTS))

    # A run that could never fit is too large, not a 429 to retry in vain.
    before = snapshot(db)
    body = {"type": "app_bundle", "files": [spec("huge.bin", 2 * TWO_PARTS + 1)]}
    response = send(api, "POST", "/v1/uploads", body)
    error = assert_error(response, 413, "too_large")
    assert error["details"][0]["field"] == "pending_bytes"
    assert "Retry-After" not in response.headers
    assert snapshot(db) == before


def test_runs_per_minute(
    api: Client, db: Database, storage: Storage, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_settings(monkeypatch, settings, inlet_quota_runs_per_minute=3)
    for _ in range(3):
        run = create_run(api, spec("big.bin", TWO_PARTS))
        # Cancelled runs were created all the same: they count.
        assert send(api, "DELETE", f"/v1/uploads/{run['run']['id']}").status_code == 200
    error = refused(api, db, storage, "runs_per_minute", spec("big.bin", TWO_PARTS))
    assert "3 runs were created in the last 60 s, the limit is 3" in error["message"]


def test_retry_after_is_when_the_creation_that_makes_room_leaves_the_window(
    api: Client, db: Database, storage: Storage, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_settings(monkeypatch, settings, inlet_quota_runs_per_minute=2)
    now = utcnow()
    add_run(db, now - timedelta(seconds=70))  # out of the window
    add_run(db, now - timedelta(seconds=50))
    add_run(db, now - timedelta(seconds=10))
    # The oldest in the window leaves 10 s from now (less the time this test has taken).
    assert 3 <= refused(api, db, storage, "runs_per_minute")["retry_after"] <= 10
    # Three in the window, limit two: two must leave; the second leaves 30 s from now.
    add_run(db, now - timedelta(seconds=30))
    assert 23 <= refused(api, db, storage, "runs_per_minute")["retry_after"] <= 30
    # Runs adopted from the inbox, and other owners' runs, are counted elsewhere.
    use_settings(monkeypatch, settings, inlet_quota_runs_per_minute=4)
    for _ in range(3):
        add_run(db, now, source=RunSource.BUCKET)
        add_run(db, now, owner="someone")
    create_run(api)
    refused(api, db, storage, "runs_per_minute")


def test_every_limit_over_is_named(
    api: Client, db: Database, storage: Storage, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_settings(
        monkeypatch,
        settings,
        inlet_quota_pending_runs=1,
        inlet_quota_pending_bytes=100,
        inlet_quota_runs_per_minute=1,
    )
    create_run(api, spec("a.bin", 60))
    body = {"type": "app_bundle", "files": [spec("b.bin", 60)]}
    response = send(api, "POST", "/v1/uploads", body)
    error = assert_error(response, 429, "quota_exceeded")
    fields = [d["field"] for d in error["details"]]
    assert fields == ["pending_runs", "pending_bytes", "runs_per_minute"]
    # The longest wait of them: the rate frees up within a minute, pending limits say 60.
    assert response.headers["Retry-After"] == "60"


def test_a_failure_after_the_check_leaves_nothing_behind(
    api: Client, db: Database, storage: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The multipart uploads are created after the quota check: a failure there leaves no run
    and aborts what was opened."""
    before, uploads = snapshot(db), open_uploads(storage)

    def refuse(*_: object) -> None:
        raise ConnectionError("signing failed")

    monkeypatch.setattr(storage, "presign_part", refuse)
    body = {"type": "app_bundle", "files": [spec("a.bin", TWO_PARTS), spec("b.bin", TWO_PARTS)]}
    assert_error(send(api, "POST", "/v1/uploads", body), 500, "internal_error")
    assert snapshot(db) == before
    assert open_uploads(storage) == uploads


def test_zero_turns_a_limit_off(
    api: Client, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_settings(
        monkeypatch,
        settings,
        inlet_quota_pending_runs=0,
        inlet_quota_pending_bytes=0,
        inlet_quota_runs_per_minute=0,
    )
    for _ in range(25):
        create_run(api, spec("a.bin", 10 * 2**30))
    body = send(api, "GET", "/v1/limits").json_body
    assert body["pending_runs"]["limit"] is None
    assert body["pending_runs"]["remaining"] is None
    assert body["pending_runs"]["used"] == 25
    assert body["pending_bytes"]["used"] == 250 * 2**30


# --- races ------------------------------------------------------------------------------------

ROUNDS = 4
# How long a creation holds the owner's lock after counting: long enough that a creation that
# did not wait for the lock would count before the other inserted, and be caught.
HOLD = 0.15


def slowed_counts(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    counted = getattr(limits, name)

    def slow(*args: Any, **kwargs: Any) -> Any:
        result = counted(*args, **kwargs)
        time.sleep(HOLD)
        return result

    monkeypatch.setattr(limits, name, slow)


def together(calls: list[Callable[[], object]]) -> list[object]:
    """Run the calls in threads released together; what each returned or raised."""
    barrier = threading.Barrier(len(calls), timeout=30)
    results: list[object] = [None] * len(calls)

    def thread(index: int) -> None:
        barrier.wait()
        try:
            results[index] = calls[index]()
        except Exception as exc:  # judged by the test
            results[index] = exc

    threads = [threading.Thread(target=thread, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a call hung: a deadlock?"
    return results


@pytest.mark.parametrize(
    ("setting", "limit", "size"),
    [
        ("inlet_quota_pending_runs", 1, 10),
        ("inlet_quota_pending_bytes", TWO_PARTS + 5, TWO_PARTS),
        ("inlet_quota_runs_per_minute", 1, 10),
    ],
)
def test_two_creations_at_the_edge_cannot_both_pass(
    db: Database,
    storage: Storage,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    setting: str,
    limit: int,
    size: int,
) -> None:
    slowed_counts(monkeypatch, "api_uses")
    inlet = Inlet(Settings.model_validate(settings.model_dump() | {setting: limit}), db, storage)
    request = CreateUploadRequest(type="app_bundle", files=[FileSpec(name="a.bin", size=size)])
    for _ in range(ROUNDS):
        with db.session() as session:
            session.execute(update(Run).values(status="cancelled", created_at=utcnow() - MINUTE))
        uploads = open_uploads(storage)
        results = together([lambda: inlet.uploads.create(request, None)] * 2)
        assert sorted(type(r).__name__ for r in results) == [
            "CreateUploadResponse",
            "QuotaExceeded",
        ], results
        with db.session() as session:
            pending = session.scalar(select(func.count()).where(Run.status == "pending"))
        assert pending == 1
        # The refused one left nothing open in the bucket: one new upload at most (the other's).
        assert len(open_uploads(storage) - uploads) == (1 if size == TWO_PARTS else 0)


def test_two_adoptions_at_the_edge_cannot_both_pass(
    db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    slowed_counts(monkeypatch, "inbox_use")
    inlet, storage = inbox_service(db, settings, inlet_quota_inbox_per_minute=1)
    events = [put(storage, f"inbox/race-{i}.bin", b"x") for i in range(2)]
    together([partial(inlet.events.process, event) for event in events])
    assert run_count(db, RunSource.BUCKET) == 1


# --- owners -----------------------------------------------------------------------------------


def call(api: Client, method: str, path: str, token: str, body: object = None) -> HTTPResponse:
    headers = dict(JSON_HEADERS, Authorization=f"Bearer {token}")
    raw = b"" if body is None else json.dumps(body).encode()
    return api.http.request(method, path, headers=headers, body=raw)


def test_each_owner_has_quotas_of_its_own(
    api: Client, db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_settings(monkeypatch, settings, inlet_auth="required", inlet_quota_pending_runs=1)
    alice = create_token(db, "alice-laptop", "alice")[1]
    alice_ci = create_token(db, "alice-ci", "alice")[1]
    bob = create_token(db, "bob")[1]
    add_run(db, utcnow(), status=RunStatus.PENDING)  # made with authentication off: nobody's
    body = {"type": "app_bundle", "files": [spec()]}

    assert call(api, "POST", "/v1/uploads", alice, body).status_code == 201
    # Another token of the same owner shares the owner's quota.
    assert_error(call(api, "POST", "/v1/uploads", alice_ci, body), 429, "quota_exceeded")
    assert call(api, "POST", "/v1/uploads", bob, body).status_code == 201
    assert_error(call(api, "POST", "/v1/uploads", bob, body), 429, "quota_exceeded")

    for token, owner in ((alice, "alice"), (bob, "bob")):
        mine = call(api, "GET", "/v1/limits", token).json_body
        assert mine["owner"] == owner
        assert (mine["pending_runs"]["used"], mine["pending_runs"]["remaining"]) == (1, 0)
        assert mine["runs_per_minute"]["used"] == 1
        assert mine["inbox_per_minute"] is None, "the inbox's rate is INLET_INBOX_OWNER's"
    assert_error(api.http.get("/v1/limits"), 401, "unauthorized")


# --- GET /v1/limits ---------------------------------------------------------------------------


def test_limits_say_what_is_in_use(
    api: Client, db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_settings(
        monkeypatch,
        settings,
        inlet_quota_pending_runs=5,
        inlet_quota_pending_bytes=1000,
        inlet_quota_runs_per_minute=3,
        inlet_quota_inbox_per_minute=7,
    )
    response = send(api, "GET", "/v1/limits")
    assert response.status_code == 200
    empty = response.json_body
    assert empty == {
        "owner": None,
        "uploads": {
            "max_file_size": settings.inlet_max_file_size,
            "max_files_per_run": settings.inlet_max_files_per_run,
            "multipart_threshold": settings.inlet_multipart_threshold,
        },
        "pending_runs": use(5, 0, None, "INLET_QUOTA_PENDING_RUNS"),
        "pending_bytes": use(1000, 0, None, "INLET_QUOTA_PENDING_BYTES"),
        "runs_per_minute": use(3, 0, 60, "INLET_QUOTA_RUNS_PER_MINUTE"),
        # Authentication off: the one owner None, who is also the inbox's (unset) owner.
        "inbox_per_minute": use(7, 0, 60, "INLET_QUOTA_INBOX_PER_MINUTE"),
    }

    create_run(api, spec("a.bin", 100), spec("b.bin", 200))
    cancelled = create_run(api, spec("c.bin", 300))
    send(api, "DELETE", f"/v1/uploads/{cancelled['run']['id']}")
    add_run(db, utcnow() - timedelta(seconds=20), source=RunSource.BUCKET)
    now = send(api, "GET", "/v1/limits").json_body
    assert now["pending_runs"] == use(5, 1, None, "INLET_QUOTA_PENDING_RUNS")
    assert now["pending_bytes"] == use(1000, 300, None, "INLET_QUOTA_PENDING_BYTES")
    assert now["runs_per_minute"] == use(3, 2, 60, "INLET_QUOTA_RUNS_PER_MINUTE")
    assert now["inbox_per_minute"] == use(7, 1, 60, "INLET_QUOTA_INBOX_PER_MINUTE")

    create_run(api)
    full = send(api, "GET", "/v1/limits").json_body["runs_per_minute"]
    assert (full["used"], full["remaining"]) == (3, 0)
    assert 1 <= full["retry_after"] <= 60


def use(limit: int, used: int, window: int | None, setting: str) -> dict[str, object]:
    return {
        "limit": limit,
        "used": used,
        "remaining": limit - used,
        "window_seconds": window,
        "retry_after": None,
        "setting": setting,
    }


# --- the inbox --------------------------------------------------------------------------------


def inbox_service(db: Database, settings: Settings, **changes: object) -> tuple[Inlet, Storage]:
    """Services over a bucket of the test's own (the job lists all of inbox/)."""
    bucket = f"inlet-test-quota-{uuid.uuid4().hex[:8]}"
    changed = Settings.model_validate(settings.model_dump() | {"inlet_bucket": bucket} | changes)
    s3 = make_s3_client(changed)
    ensure_upload_bucket(s3, bucket, [CORS_ORIGIN])
    storage = Storage(s3, bucket, changed.inlet_presign_ttl)
    return Inlet(changed, db, storage), storage


def test_inbox_drops_over_the_rate_wait_and_are_all_adopted(
    db: Database, settings: Settings
) -> None:
    inlet, storage = inbox_service(
        db,
        settings,
        inlet_quota_inbox_per_minute=10,
        inlet_inbox_owner="platform",
        # The job looks at drops of any age (by default, only those older than a minute).
        inlet_reconcile_after_seconds=0,
    )
    drops = [put(storage, f"inbox/batch/file-{i:02}.bin", b"drop %d" % i) for i in range(30)]
    records = [s3_record(d.bucket, d.key, size=d.size, version_id=d.version_id) for d in drops]
    answer = inlet.events.from_queue(sqs_lambda_event(*records))
    assert answer["batchItemFailures"] == [], "deferred drops are acknowledged, not retried"
    assert run_count(db, RunSource.BUCKET) == 10
    start = utcnow()

    # Within the same minute, nothing more is adopted: the drops wait in the bucket.
    report = inlet.run_schedule(now=start + timedelta(seconds=30))
    assert (report.inbox_adopted, report.inbox_waiting) == (0, 20)
    # Each minute, ten more.
    report = inlet.run_schedule(now=start + timedelta(seconds=61))
    assert (report.inbox_adopted, report.inbox_waiting) == (10, 10)
    report = inlet.run_schedule(now=start + timedelta(seconds=122))
    assert (report.inbox_adopted, report.inbox_waiting) == (10, 0)
    report = inlet.run_schedule(now=start + timedelta(seconds=183))
    assert (report.inbox_adopted, report.inbox_waiting, report.errors) == (0, 0, 0)

    with db.session() as session:
        rows = session.execute(
            select(File.object_key, File.version_id, File.status, Run.status, Run.owner).join(
                Run, Run.id == File.run_id
            )
        ).all()
    assert sorted((key, version) for key, version, *_ in rows) == sorted(
        (d.key, d.version_id) for d in drops
    ), "every drop adopted, once"
    assert {(file, run, owner) for _, _, file, run, owner in rows} == {
        ("stored", "stored", "platform")
    }, "and verified"


def test_the_job_lists_the_inbox_only_when_the_rate_was_full(
    db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing can have been deferred unless the rate was reached: the job then leaves the
    bucket alone (an inbox of years of drops is not listed every 15 minutes)."""
    inlet, storage = inbox_service(
        db, settings, inlet_quota_inbox_per_minute=3, inlet_reconcile_after_seconds=0
    )
    inlet.events.process(put(storage, "inbox/one.bin", b"1"))
    put(storage, "inbox/no-event.bin", b"2")  # its event lost: not the job's business
    listed: list[str] = []
    pages = maintenance._inbox_pages

    def listing(storage: Storage) -> Iterator[list[tuple[str, str | None, datetime]]]:
        listed.append(storage.bucket)
        return pages(storage)

    monkeypatch.setattr(maintenance, "_inbox_pages", listing)
    report = inlet.run_schedule(now=utcnow() + MINUTE)
    assert (report.inbox_adopted, report.inbox_waiting, listed) == (0, 0, [])
    assert run_count(db, RunSource.BUCKET) == 1

    # Once the rate is reached, the job looks, and adopts what waits.
    for name in ("two", "three", "four"):
        inlet.events.process(put(storage, f"inbox/{name}.bin", b"3"))
    assert run_count(db, RunSource.BUCKET) == 3
    report = inlet.run_schedule(now=utcnow() + MINUTE)
    assert listed == [storage.bucket]
    assert (report.inbox_adopted, report.inbox_waiting) == (2, 0)
    assert run_count(db, RunSource.BUCKET) == 5
