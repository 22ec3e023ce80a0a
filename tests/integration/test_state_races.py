"""Races between the calls that settle a run: cancel, complete, a bucket event and expiry, two at a
time, released together, many rounds, on both databases. Each pair must end in a state that one
serial order of the two calls gives, with each call answering as it does in that order.

Why nothing else: cancel, expiry, complete and the recording of an event all lock the run row
first (Postgres: SELECT ... FOR UPDATE; SQLite: BEGIN IMMEDIATE) and decide under that lock. So
`complete` never meets an upload that a cancel or an expiry aborted (`upload_gone`): it waits,
then finds the run no longer pending (`run_not_pending`). And an event never stores a file of a
cancelled or expired run, nor does a cancel or an expiry overwrite a stored run.

The calls are slowed where they hold the lock (around their bucket call, before settling), so a
call that skipped the lock would act on a stale read and be caught."""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import pytest
from sqlalchemy.orm import Session

from chalicelib import events
from chalicelib.config import MiB, Settings
from chalicelib.db import Database
from chalicelib.errors import RunNotPending
from chalicelib.events import BucketEvents, Outcome
from chalicelib.expiry import expire_runs
from chalicelib.models import Run
from chalicelib.schemas import CompletedPart, CompleteRequest, FileOut, MultipartUpload, RunOut
from chalicelib.sqs import ObjectEvent
from chalicelib.storage import Storage
from chalicelib.uploads import Uploads
from tests.support.api import open_uploads, upload_part
from tests.support.events import create, put

ROUNDS = 20
# One of the two calls (either, at random) starts up to this much after the other.
MAX_LAG = 0.03
# How much longer a call holds the run's lock: before its bucket call (complete, abort) or
# between recording a file and settling its run.
HOLD = 0.02
DAY = timedelta(hours=24)
PART = b"p" * 1024


class Racer:
    """Runs two calls in threads that meet at a barrier, then go, one of them a random lag later.
    A call meets the other at its start, or, when told to, at its race point: where it calls
    `point()` (an event's, when it records its verdict, after hashing the object unlocked)."""

    def __init__(self) -> None:
        self._local = threading.local()

    def point(self) -> None:
        go: Callable[[], None] | None = getattr(self._local, "go", None)
        self._local.go = None
        if go is not None:
            go()

    def run(
        self,
        rng: random.Random,
        first: Callable[[], object],
        second: Callable[[], object],
        *,
        second_at_point: bool = False,
    ) -> list[object]:
        """What each call returned, or the exception it raised."""
        lags = [rng.uniform(0, MAX_LAG), 0.0]
        rng.shuffle(lags)
        barrier = threading.Barrier(2, timeout=30)
        results: list[object] = [None, None]

        def go(index: int) -> None:
            barrier.wait()
            time.sleep(lags[index])

        def thread(index: int, call: Callable[[], object], at_point: bool) -> None:
            try:
                if at_point:
                    self._local.go = partial(go, index)
                else:
                    go(index)
                results[index] = call()
            except Exception as exc:  # judged by the test: only the documented errors pass
                results[index] = exc
            finally:
                self._local.go = None

        threads = [
            threading.Thread(target=thread, args=(0, first, False)),
            threading.Thread(target=thread, args=(1, second, second_at_point)),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert not any(t.is_alive() for t in threads), "a call hung: a deadlock?"
        return results


@pytest.fixture
def racer(monkeypatch: pytest.MonkeyPatch, storage: Storage) -> Racer:
    """A racer, with the calls slowed where they hold the run's lock, and an event's race point
    where it starts recording."""
    racer = Racer()
    complete, abort = storage.complete_multipart, storage.abort_multipart
    record, settle = events.record, events.settle

    def slow_complete(key: str, upload_id: str, parts: list[tuple[int, str]]) -> str:
        time.sleep(HOLD)
        return complete(key, upload_id, parts)

    def slow_abort(key: str, upload_id: str) -> None:
        time.sleep(HOLD)
        abort(key, upload_id)

    def slow_settle(session: Session, run: Run) -> None:
        time.sleep(HOLD)
        settle(session, run)

    def record_at_point(*args: Any) -> Outcome:
        racer.point()
        return record(*args)

    monkeypatch.setattr(storage, "complete_multipart", slow_complete)
    monkeypatch.setattr(storage, "abort_multipart", slow_abort)
    monkeypatch.setattr(events, "settle", slow_settle)
    monkeypatch.setattr(events, "record", record_at_point)
    return racer


@pytest.fixture
def race_settings(settings: Settings) -> Settings:
    """Parts of 8 MiB: a file just over the 5 MiB threshold is a multipart upload of one part,
    which a small part completes (the last part may be any size): no 5 MiB upload per round."""
    return Settings.model_validate(settings.model_dump() | {"inlet_part_size": 8 * MiB})


@dataclass(frozen=True)
class State:
    """A run and its one file, as the database and the bucket hold them."""

    run_status: str
    file_status: str
    upload_completed: bool
    object_present: bool
    open_uploads: int


def state(db: Database, storage: Storage, run_id: uuid.UUID) -> State:
    with db.session() as session:
        run = session.get(Run, run_id)
        assert run is not None
        (file,) = run.files
        return State(
            run_status=run.status,
            file_status=file.status,
            upload_completed=file.upload_completed_at is not None,
            object_present=storage.head(file.object_key) is not None,
            open_uploads=len(open_uploads(storage, str(run_id))),
        )


@dataclass(frozen=True)
class Multipart:
    """A pending run whose one file is a multipart upload, its one part uploaded."""

    run_id: uuid.UUID
    file_id: str
    key: str
    request: CompleteRequest


def multipart_run(db: Database, storage: Storage, settings: Settings) -> Multipart:
    created = create(db, storage, settings, PART, sizes=[5 * MiB + 1], declare_sha256=False)
    (file,) = created.files
    upload = file.upload
    assert isinstance(upload, MultipartUpload)
    assert upload.part_count == 1
    etag = upload_part(storage, file.key, upload.upload_id, 1, PART)
    request = CompleteRequest(parts=[CompletedPart(part_number=1, etag=etag)])
    return Multipart(created.run.id, str(file.id), file.key, request)


def single_run(db: Database, storage: Storage, settings: Settings) -> tuple[uuid.UUID, ObjectEvent]:
    """A pending run of one single-PUT file, its object already in the bucket; its event."""
    data = uuid.uuid4().bytes * 64
    created = create(db, storage, settings, data)
    return created.run.id, put(storage, created.files[0].key, data)


def late_event(storage: Storage, key: str) -> ObjectEvent:
    """The event of an object that a completed multipart upload left in the bucket."""
    info = storage.head(key)
    assert info is not None
    return ObjectEvent(storage.bucket, key, info.size, info.etag.strip('"'))


def expiry_time(db: Database, run_id: uuid.UUID) -> datetime:
    """A `now` at which the run is two TTLs old, so `expire_runs` takes it if still pending."""
    with db.session() as session:
        run = session.get(Run, run_id)
        assert run is not None
        return run.created_at + 2 * DAY


def rounds(seed: int) -> Iterator[tuple[int, random.Random]]:
    """Each round's number (for the failure message) and its own seeded randomness."""
    for index in range(ROUNDS):
        yield index, random.Random(seed * 1000 + index)


def assert_both_orders(seen: Counter[str], *orders: str) -> None:
    """The lags make both orders happen; a race that always goes one way proves little."""
    assert set(seen) == set(orders), seen


def judge_complete(
    handler: BucketEvents, mp: Multipart, completed: object, ended: str, n: int
) -> bool:
    """Judge `complete`'s answer in a race with a call that ends the run (`ended`: cancelled,
    expired); whether complete came first. First: the object is in the bucket and the run ended
    all the same, its file pending, and the completed object's event is ignored. Second: the
    upload was aborted and complete answered `run_not_pending`. Never an upload left open."""
    db, storage = handler.db, handler.storage
    after = state(db, storage, mp.run_id)
    if isinstance(completed, FileOut):
        assert after == State(ended, "pending", True, True, 0), f"round {n}"
        assert handler.process(late_event(storage, mp.key)) == Outcome.IGNORED
        assert state(db, storage, mp.run_id) == after
        return True
    assert isinstance(completed, RunNotPending), f"round {n}: {completed!r}"
    assert after == State(ended, "pending", False, False, 0), f"round {n}"
    return False


def test_cancel_vs_complete(
    db: Database, storage: Storage, race_settings: Settings, racer: Racer
) -> None:
    """Cancel first: the upload is aborted, complete answers `run_not_pending`. Complete first:
    the object is in the bucket, then cancel cancels (a completed upload has nothing to abort).
    Either way the run is cancelled, cancel succeeds, no upload is left open, and the event of a
    completed object is ignored."""
    uploads = Uploads(db, storage, race_settings)
    handler = BucketEvents(db, storage, race_settings)
    seen: Counter[str] = Counter()
    for n, rng in rounds(1):
        mp = multipart_run(db, storage, race_settings)

        cancelled, completed = racer.run(
            rng,
            partial(uploads.cancel, str(mp.run_id), owner=None),
            partial(uploads.complete, str(mp.run_id), mp.file_id, mp.request, owner=None),
        )

        assert isinstance(cancelled, RunOut), f"round {n}: {cancelled!r}"
        assert cancelled.status == "cancelled"
        first = judge_complete(handler, mp, completed, "cancelled", n)
        seen["complete first" if first else "cancel first"] += 1
    assert_both_orders(seen, "complete first", "cancel first")


def test_cancel_vs_event(db: Database, storage: Storage, settings: Settings, racer: Racer) -> None:
    """Cancel first: the run is cancelled and the event ignored, its file left pending. Event
    first: the run is stored and cancel answers `run_not_pending`. Never a cancelled run with a
    stored file, never a cancel that claims a run the event stored."""
    uploads = Uploads(db, storage, settings)
    handler = BucketEvents(db, storage, settings)
    seen: Counter[str] = Counter()
    for n, rng in rounds(2):
        run_id, event = single_run(db, storage, settings)

        cancelled, outcome = racer.run(
            rng,
            partial(uploads.cancel, str(run_id), owner=None),
            partial(handler.process, event),
            second_at_point=True,
        )

        after = state(db, storage, run_id)
        if isinstance(cancelled, RunOut):
            seen["cancel first"] += 1
            assert cancelled.status == "cancelled"
            assert outcome == Outcome.IGNORED, f"round {n}: {outcome!r}"
            assert after == State("cancelled", "pending", False, True, 0), f"round {n}"
        else:
            seen["event first"] += 1
            assert isinstance(cancelled, RunNotPending), f"round {n}: {cancelled!r}"
            assert outcome == Outcome.STORED, f"round {n}: {outcome!r}"
            assert after == State("stored", "stored", False, True, 0), f"round {n}"
    assert_both_orders(seen, "cancel first", "event first")


def test_expiry_vs_complete(
    db: Database, storage: Storage, race_settings: Settings, racer: Racer
) -> None:
    """As cancel vs complete: the run always expires (a completed upload leaves it pending until
    its event), its upload is aborted or completed, never left open, and complete answers
    `run_not_pending` when it comes second."""
    uploads = Uploads(db, storage, race_settings)
    handler = BucketEvents(db, storage, race_settings)
    seen: Counter[str] = Counter()
    for n, rng in rounds(3):
        mp = multipart_run(db, storage, race_settings)

        expired, completed = racer.run(
            rng,
            partial(expire_runs, db, storage, DAY, now=expiry_time(db, mp.run_id)),
            partial(uploads.complete, str(mp.run_id), mp.file_id, mp.request, owner=None),
        )

        assert expired == 1, f"round {n}: {expired!r}"
        first = judge_complete(handler, mp, completed, "expired", n)
        seen["complete first" if first else "expiry first"] += 1
    assert_both_orders(seen, "complete first", "expiry first")


def test_expiry_vs_event(db: Database, storage: Storage, settings: Settings, racer: Racer) -> None:
    """Expiry first: the run is expired and the event ignored. Event first: the run is stored
    and expiry passes it by (0 expired). Never an expired run with a stored file, never a stored
    run expired."""
    handler = BucketEvents(db, storage, settings)
    seen: Counter[str] = Counter()
    for n, rng in rounds(4):
        run_id, event = single_run(db, storage, settings)

        expired, outcome = racer.run(
            rng,
            partial(expire_runs, db, storage, DAY, now=expiry_time(db, run_id)),
            partial(handler.process, event),
            second_at_point=True,
        )

        after = state(db, storage, run_id)
        if expired == 1:
            seen["expiry first"] += 1
            assert outcome == Outcome.IGNORED, f"round {n}: {outcome!r}"
            assert after == State("expired", "pending", False, True, 0), f"round {n}"
        else:
            seen["event first"] += 1
            assert expired == 0, f"round {n}: {expired!r}"
            assert outcome == Outcome.STORED, f"round {n}: {outcome!r}"
            assert after == State("stored", "stored", False, True, 0), f"round {n}"
    assert_both_orders(seen, "expiry first", "event first")
