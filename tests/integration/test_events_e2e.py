"""End to end: the API hands out presigned URLs, plain HTTP uploads land in a moto bucket, moto
notifies an SQS queue, the pump invokes the app's Chalice handler, and the run is stored.
Also: retries while the database is down, and a poison message ending in the dead-letter queue."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

import pytest
import requests
from chalice.test import Client
from sqlalchemy import select

import app as app_module
from chalicelib.config import MiB, Settings
from chalicelib.db import Database
from chalicelib.models import Run
from chalicelib.storage import Storage
from chalicelib.telemetry import metrics
from local.pump import Pump
from local.resources import EventQueue, ensure_event_queue, make_sqs_client
from tests.support.api import closed_url, create_run, file_path, send, spec, use_clients
from tests.support.events import sha256, wait_until
from tests.support.logs import LogLines
from tests.support.queues import queue_depth


def make_pump(settings: Settings, queue: EventQueue) -> Pump:
    return Pump(
        make_sqs_client(settings),
        queue.url,
        app_module.handle_bucket_events,
        app_module.expire_pending_runs,
    )


def pump_until(pump: Pump, done: Callable[[], bool], what: str) -> None:
    """Poll the queue (each poll invokes the handler on what it receives) until `done()`."""

    def polled() -> bool:
        pump.poll_once()
        return done()

    wait_until(polled, what, every=0)


def drained(settings: Settings, queue: EventQueue) -> bool:
    return queue_depth(settings, queue.url) == 0


def run_of(api: Client, run_id: str) -> dict[str, Any]:
    response = send(api, "GET", f"/v1/runs/{run_id}")
    assert response.status_code == 200, response.body
    body: dict[str, Any] = response.json_body
    return body


def upload_put(file: dict[str, Any], data: bytes) -> None:
    upload = file["upload"]
    response = requests.put(upload["url"], data=data, headers=upload["headers"], timeout=30)
    assert response.status_code == 200, response.text


def upload_multipart(api: Client, run_id: str, file: dict[str, Any], data: bytes) -> None:
    upload = file["upload"]
    size = upload["part_size"]
    parts = []
    for part in upload["parts"]:
        start = (part["part_number"] - 1) * size
        put = requests.put(part["url"], data=data[start : start + size], timeout=30)
        assert put.status_code == 200, put.text
        parts.append({"part_number": part["part_number"], "etag": put.headers["ETag"]})
    completed = send(api, "POST", file_path(run_id, file["id"], "complete"), {"parts": parts})
    assert completed.status_code == 200, completed.body


def test_single_put_upload_is_stored(
    event_app: Client,
    event_queue: EventQueue,
    event_settings: Settings,
    log_lines: LogLines,
    capsys: pytest.CaptureFixture[str],
) -> None:
    metrics.clear_metrics()  # what earlier tests added outside any invocation
    data = os.urandom(70_000)
    created = create_run(event_app, spec("etc.tgz", len(data), sha256=sha256(data)))
    run_id, file = created["run"]["id"], created["files"][0]
    assert file["upload"]["method"] == "PUT"

    upload_put(file, data)
    pump_until(
        make_pump(event_settings, event_queue),
        lambda: drained(event_settings, event_queue),
        "the queue draining",
    )

    run = run_of(event_app, run_id)
    assert run["status"] == "stored"
    assert (run["files"][0]["status"], run["files"][0]["sha256"]) == ("stored", sha256(data))
    (processed,) = [line for line in log_lines() if line["message"] == "object processed"]
    assert (processed["run_id"], processed["file_id"]) == (run_id, file["id"])
    assert (processed["key"], processed["bytes"]) == (file["key"], len(data))
    # How long hashing took, and so the rate, depend on the machine: reported, not judged.
    assert isinstance(processed["duration_ms"], float)
    assert processed["duration_ms"] >= 0
    assert isinstance(processed["mb_per_s"], float)
    assert processed["mb_per_s"] >= 0
    assert processed["correlation_id"]  # the invocation's request id, set by the middleware
    (emf,) = [json.loads(line) for line in capsys.readouterr().out.splitlines() if "_aws" in line]
    assert emf["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Inlet"
    assert (emf["ObjectsProcessed"], emf["BytesHashed"]) == ([1.0], [float(len(data))])


def test_multipart_upload_is_stored(
    event_app: Client,
    event_queue: EventQueue,
    event_settings: Settings,
    log_lines: LogLines,
) -> None:
    data = os.urandom(12 * MiB)
    created = create_run(event_app, spec("big.bin", len(data)))
    run_id, file = created["run"]["id"], created["files"][0]
    assert file["upload"]["part_count"] == 3

    upload_multipart(event_app, run_id, file, data)
    pump_until(
        make_pump(event_settings, event_queue),
        lambda: drained(event_settings, event_queue),
        "the queue draining",
    )

    run = run_of(event_app, run_id)
    assert (run["status"], run["files"][0]["sha256"]) == ("stored", sha256(data))
    # moto sends two events for one multipart upload: the second is a duplicate. S3 and
    # LocalStack (the LocalStack leg sets INLET_TEST_S3_ENDPOINT) send one.
    duplicates = 0 if os.environ.get("INLET_TEST_S3_ENDPOINT") else 1
    messages = [line["message"] for line in log_lines()]
    assert (messages.count("object processed"), messages.count("duplicate event")) == (
        1,
        duplicates,
    )


def test_dropped_file_becomes_a_run(
    event_app: Client,
    event_queue: EventQueue,
    event_settings: Settings,
    event_storage: Storage,
    db: Database,
) -> None:
    data = os.urandom(5000)
    event_storage.client.put_object(
        Bucket=event_storage.bucket, Key="inbox/app_bundle/x.tgz", Body=data
    )
    pump_until(
        make_pump(event_settings, event_queue),
        lambda: drained(event_settings, event_queue),
        "the queue draining",
    )

    with db.session() as session:
        (run_id,) = session.scalars(select(Run.id)).all()
    run = run_of(event_app, str(run_id))
    assert (run["type"], run["source"], run["status"]) == ("app_bundle", "bucket", "stored")
    assert run["files"][0]["sha256"] == sha256(data)


def test_message_is_retried_while_the_database_is_down(
    monkeypatch: pytest.MonkeyPatch,
    event_app: Client,
    event_queue: EventQueue,
    event_settings: Settings,
    db: Database,
) -> None:
    pump = make_pump(event_settings, event_queue)
    pump_until(pump, lambda: drained(event_settings, event_queue), "S3's test event consumed")
    data = b"recorded once the database is back"
    created = create_run(event_app, spec("late.txt", len(data)))
    run_id = created["run"]["id"]
    upload_put(created["files"][0], data)

    down = Database.from_url(closed_url("postgresql://postgres@"))
    use_clients(monkeypatch, db=down)
    wait_until(lambda: pump.poll_once() == 1, "the upload's event delivered, the database down")
    assert queue_depth(event_settings, event_queue.url) == 1  # not acknowledged
    down.engine.dispose()

    use_clients(monkeypatch, db=db)
    pump_until(pump, lambda: drained(event_settings, event_queue), "the event delivered again")
    assert run_of(event_app, run_id)["status"] == "stored"
    assert queue_depth(event_settings, event_queue.dead_letter_url) == 0


def test_poison_message_reaches_the_dead_letter_queue(
    event_app: Client, event_queue: EventQueue, event_settings: Settings
) -> None:
    sqs = make_sqs_client(event_settings)
    sqs.send_message(QueueUrl=event_queue.url, MessageBody="this is no S3 notification")
    pump = make_pump(event_settings, event_queue)

    pump_until(
        pump,
        lambda: queue_depth(sqs, event_queue.dead_letter_url) == 1,
        "the message dead-lettered",
    )

    assert queue_depth(sqs, event_queue.url) == 0
    (message,) = sqs.receive_message(QueueUrl=event_queue.dead_letter_url)["Messages"]
    assert message["Body"] == "this is no S3 notification"


def test_background_pump_stores_an_upload(
    event_app: Client, event_queue: EventQueue, event_settings: Settings
) -> None:
    data = os.urandom(1000)
    created = create_run(event_app, spec("bg.bin", len(data)))
    run_id = created["run"]["id"]

    with make_pump(event_settings, event_queue).running():
        upload_put(created["files"][0], data)
        # The pump's thread stores it; poll the API as a client would.
        wait_until(
            lambda: run_of(event_app, run_id)["status"] != "pending",
            "the pump's thread settling the run",
            every=0.1,
        )
    assert run_of(event_app, run_id)["status"] == "stored"


def test_event_queue_setup_is_idempotent(
    event_queue: EventQueue, event_settings: Settings, event_storage: Storage
) -> None:
    sqs = make_sqs_client(event_settings)
    name = event_queue.url.rsplit("/", 1)[-1]
    again = ensure_event_queue(event_storage.client, sqs, event_storage.bucket, name, 7, 30)

    assert again == event_queue
    attributes = sqs.get_queue_attributes(QueueUrl=again.url, AttributeNames=["All"])["Attributes"]
    redrive = json.loads(attributes["RedrivePolicy"])
    assert (redrive["deadLetterTargetArn"], int(redrive["maxReceiveCount"])) == (
        event_queue.dead_letter_arn,
        7,
    )
    config = event_storage.client.get_bucket_notification_configuration(Bucket=event_storage.bucket)
    rules = {
        rule["Filter"]["Key"]["FilterRules"][0]["Value"]: (rule["QueueArn"], rule["Events"])
        for rule in config["QueueConfigurations"]
    }
    # Removals too: an overwrite or a delete over a stored file is an integrity incident.
    assert rules == {
        "runs/": (again.arn, ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]),
        "inbox/": (again.arn, ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]),
    }


def test_a_failed_invocation_leaves_the_whole_batch_queued(
    event_queue: EventQueue, event_settings: Settings
) -> None:
    def crash(event: dict[str, Any], context: Any) -> Any:
        assert context.get_remaining_time_in_millis() > 0
        raise RuntimeError("the function crashed")

    sqs = make_sqs_client(event_settings)
    # S3's test event(s): moto sends one, LocalStack one per notification rule.
    test_events = queue_depth(sqs, event_queue.url)
    for body in ("one", "two"):
        sqs.send_message(QueueUrl=event_queue.url, MessageBody=body)
    pump = Pump(sqs, event_queue.url, crash)

    assert pump.poll_once() == 2 + test_events  # both, and the test event(s)
    assert queue_depth(sqs, event_queue.url) == 2 + test_events
