"""At-least-once delivery under concurrency: every event delivered several times, shuffled, by
concurrent workers calling the core function. Postgres is what production runs; SQLite too."""

from __future__ import annotations

import os
import random
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chalicelib import events
from chalicelib.config import Settings
from chalicelib.db import Database
from chalicelib.events import BucketEvents, Outcome
from chalicelib.models import File, Run
from chalicelib.sqs import ObjectEvent
from chalicelib.storage import Storage
from tests.support.events import create, detail, put, row_counts, sha256

RUNS, FILES_PER_RUN, DELIVERIES, WORKERS = 40, 5, 3, 8


@pytest.fixture
def slow_settle(monkeypatch: pytest.MonkeyPatch) -> None:
    """Widen the race window: pause between recording a file and counting its run's files, so
    concurrent finishers of one run overlap there, as they can in production. Without the lock
    on the run, each would count the others as pending and the run would stay pending."""
    original = events.settle

    def settle(session: Session, run: Run) -> None:
        time.sleep(0.02)
        original(session, run)

    monkeypatch.setattr(events, "settle", settle)


def deliver(
    db: Database, storage: Storage, settings: Settings, events: list[ObjectEvent], times: int
) -> Counter[Outcome]:
    """Every event `times` times, shuffled, by concurrent workers: as SQS may deliver them."""
    deliveries = events * times
    random.Random(3).shuffle(deliveries)
    process = BucketEvents(db, storage, settings).process
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        return Counter(pool.map(process, deliveries))


@pytest.mark.usefixtures("slow_settle")
def test_every_run_is_stored_exactly_once(
    db: Database, storage: Storage, settings: Settings
) -> None:
    expected: dict[str, dict[str, bytes]] = {}
    delivered: list[ObjectEvent] = []
    for _ in range(RUNS):
        contents = [os.urandom(random.randint(1, 4096)) for _ in range(FILES_PER_RUN)]
        created = create(db, storage, settings, *contents)
        expected[str(created.run.id)] = {}
        for file, data in zip(created.files, contents, strict=True):
            expected[str(created.run.id)][file.key] = data
            delivered.append(put(storage, file.key, data))

    outcomes = deliver(db, storage, settings, delivered, DELIVERIES)

    files = RUNS * FILES_PER_RUN
    assert outcomes == {Outcome.STORED: files, Outcome.DUPLICATE: files * (DELIVERIES - 1)}
    assert row_counts(db) == (RUNS, files)
    for run_id, by_key in expected.items():
        run = detail(db, run_id)
        assert (run.status, run.file_count) == ("stored", FILES_PER_RUN)
        assert run.total_bytes == sum(len(data) for data in by_key.values())
        assert {f.key: f.sha256 for f in run.files} == {k: sha256(d) for k, d in by_key.items()}
        assert all(f.status == "stored" for f in run.files)
    with db.session() as session:
        assert session.scalar(select(func.count()).where(File.status == "pending")) == 0
        assert session.scalar(select(func.count()).where(Run.status == "pending")) == 0


@pytest.mark.usefixtures("slow_settle")
def test_runs_with_a_bad_file_all_fail(db: Database, storage: Storage, settings: Settings) -> None:
    run_ids: list[uuid.UUID] = []
    delivered: list[ObjectEvent] = []
    for _ in range(10):
        contents = [os.urandom(100) for _ in range(FILES_PER_RUN)]
        created = create(db, storage, settings, *contents)
        run_ids.append(created.run.id)
        delivered.extend(
            put(storage, f.key, d) for f, d in zip(created.files[1:], contents[1:], strict=True)
        )
        delivered.append(put(storage, created.files[0].key, b"x" * 100))  # not what was declared

    deliver(db, storage, settings, delivered, DELIVERIES)

    for run_id in run_ids:
        run = detail(db, run_id)
        assert run.status == "failed"
        assert sorted(f.status for f in run.files) == ["failed"] + ["stored"] * 4


def test_dropped_file_delivered_five_times_at_once_is_one_run(
    db: Database, storage: Storage, settings: Settings
) -> None:
    data = os.urandom(10_000)
    event = put(storage, "inbox/app_bundle/x.tgz", data)

    outcomes = deliver(db, storage, settings, [event], 5)

    assert outcomes == {Outcome.STORED: 1, Outcome.DUPLICATE: 4}
    assert row_counts(db) == (1, 1)
    with db.session() as session:
        run = session.scalars(select(Run)).one()
        assert (run.type, run.source, run.status) == ("app_bundle", "bucket", "stored")
        assert session.scalars(select(File.sha256)).one() == sha256(data)
