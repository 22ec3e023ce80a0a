"""The concurrent event path: a batch's records processed at once, failures still reported per
record, and the local pump's concurrent receivers under duplicated, shuffled deliveries (a moto
server for S3 and SQS, each database)."""

from __future__ import annotations

import json
import os
import random
import threading
from collections import Counter

import pytest
from chalice.test import Client
from sqlalchemy import select

import app as app_module
from chalicelib.config import Settings
from chalicelib.db import Database
from chalicelib.models import File
from chalicelib.sqs import ObjectEvent, handle_batch
from chalicelib.storage import Storage
from local.pump import Pump
from local.resources import EventQueue, make_sqs_client
from tests.support.api import use_settings
from tests.support.events import (
    create,
    detail,
    incidents,
    put,
    s3_record,
    sha256,
    sqs_message,
    wait_until,
)
from tests.support.queues import queue_depth

BARRIER_SECONDS = 30  # a bound for a stuck test, not a measure of speed


def notification(key: str) -> str:
    return json.dumps({"Records": [s3_record("b", key)]})


def test_a_batch_is_processed_concurrently_and_failures_are_reported_per_record() -> None:
    """Four records meet at a barrier: it only opens when all four are in flight at once.
    One of them fails after it, and one message is no notification at all."""
    together = threading.Barrier(4, timeout=BARRIER_SECONDS)
    seen: list[str] = []

    def process(event: ObjectEvent) -> None:
        together.wait()
        if event.key == "runs/explodes":
            raise RuntimeError("database down")
        seen.append(event.key)

    batch = {
        "Records": [
            sqs_message("1", notification("runs/a")),
            sqs_message("2", notification("runs/explodes")),
            sqs_message("3", "garbage"),
            sqs_message("4", notification("runs/b")),
            sqs_message("5", notification("inbox/c")),
        ]
    }
    result = handle_batch(batch, process, concurrency=5)

    assert result == {"batchItemFailures": [{"itemIdentifier": "2"}, {"itemIdentifier": "3"}]}
    assert sorted(seen) == ["inbox/c", "runs/a", "runs/b"]


def test_one_at_a_time_needs_no_threads() -> None:
    threads: set[str] = set()

    def process(event: ObjectEvent) -> None:
        threads.add(threading.current_thread().name)

    batch = {"Records": [sqs_message(str(n), notification(f"runs/{n}")) for n in range(3)]}
    assert handle_batch(batch, process, concurrency=1) == {"batchItemFailures": []}
    assert threads == {threading.current_thread().name}


def test_concurrent_receivers_record_every_file_and_drop_once(
    monkeypatch: pytest.MonkeyPatch,
    event_app: Client,
    db: Database,
    event_storage: Storage,
    event_settings: Settings,
    event_queue: EventQueue,
) -> None:
    """Every event S3 sends (moto's own) and each again twice, shuffled, with versions, through
    four receivers processing four records at a time: each file is recorded once and right,
    each version dropped into inbox/ is one run, and the one message that is no notification
    is the only one left: its batch's other messages were deleted."""
    settings = use_settings(monkeypatch, event_settings, inlet_event_concurrency=4)
    bucket = event_storage.bucket
    records: list[dict[str, object]] = []
    expected: dict[str, dict[str, str]] = {}
    for _ in range(6):
        contents = [os.urandom(random.randint(1, 4096)) for _ in range(3)]
        created = create(db, event_storage, settings, *contents)
        expected[str(created.run.id)] = {}
        for file, data in zip(created.files, contents, strict=True):
            expected[str(created.run.id)][file.key] = sha256(data)
            stored = put(event_storage, file.key, data)
            records.append(s3_record(bucket, file.key, version_id=stored.version_id))
    drops = [f"inbox/pump/{n}.txt" for n in range(2)]
    for key in drops:
        for version in (b"first", b"second version"):
            stored = put(event_storage, key, version)
            records.append(s3_record(bucket, key, version_id=stored.version_id))
    deliveries = records * 2
    random.Random(14).shuffle(deliveries)
    bodies = [json.dumps({"Records": [record]}) for record in deliveries] + ["no notification"]
    sqs = make_sqs_client(settings)
    for body in bodies:
        sqs.send_message(QueueUrl=event_queue.url, MessageBody=body)
    # A message in flight stays invisible to the other receivers (the fixture's 0 s would hand
    # it to them again at once, and on to the dead-letter queue).
    sqs.set_queue_attributes(QueueUrl=event_queue.url, Attributes={"VisibilityTimeout": "10"})

    def all_stored() -> bool:
        return queue_depth(sqs, event_queue.url) == 1 and all(
            detail(db, run_id).status == "stored" for run_id in expected
        )

    with Pump(sqs, event_queue.url, app_module.handle_bucket_events, receivers=4).running():
        wait_until(all_stored, "every run stored, one message left")

    assert queue_depth(sqs, event_queue.dead_letter_url) == 0
    left = sqs.receive_message(QueueUrl=event_queue.url, WaitTimeSeconds=20)["Messages"]
    assert [m["Body"] for m in left] == ["no notification"]  # reported failed, so not deleted
    for run_id, sha256s in expected.items():
        run = detail(db, run_id)
        assert run.status == "stored"
        assert {f.key: f.sha256 for f in run.files} == sha256s
        assert incidents(db, run_id) == []
    with db.session() as session:
        dropped = session.execute(
            select(File.object_key, File.version_id, File.run_id, File.status).where(
                File.object_key.in_(drops)
            )
        ).all()
    assert Counter(key for key, *_ in dropped) == dict.fromkeys(drops, 2)
    assert len({version for _, version, *_ in dropped}) == 4  # one run per version
    assert {status for *_, status in dropped} == {"stored"}
    assert all(detail(db, run_id).status == "stored" for *_, run_id, _ in dropped)
