"""Run events (issue 15): every change of a run's state, and every integrity incident, is one
event, recorded with the change and published after it; however often, and in whatever order, the
bucket's events come. On both databases, with moto over HTTP (the quiet bucket, whose events reach
nobody: they are handed to the handler here; SQS and EventBridge on the same server) and a real
HTTP receiver of the webhooks."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import timedelta

import boto3
import pytest
from chalice.test import Client
from sqlalchemy.exc import OperationalError

from chalicelib.config import Settings
from chalicelib.db import Database
from chalicelib.events import UNSTORABLE_KEY, BucketEvents, Outcome
from chalicelib.models import utcnow
from chalicelib.outbox import Outbox
from chalicelib.publishers import verify_signature
from chalicelib.schemas import RunEvent
from chalicelib.service import Inlet
from chalicelib.sqs import ObjectEvent
from chalicelib.storage import Storage
from local.resources import make_sqs_client
from tests.support.api import closed_url, use_settings
from tests.support.events import create, put, sha256
from tests.support.webhooks import (
    SECRET,
    WebhookReceiver,
    deliveries,
    processing_queue,
    queue_name,
    received_bodies,
    run_events,
    with_events,
)


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def queue_url(quiet_settings: Settings) -> str:
    return processing_queue(quiet_settings)


@pytest.fixture
def out(quiet_settings: Settings, receiver: WebhookReceiver, queue_url: str) -> Settings:
    """The quiet bucket's settings, with run events sent to the receiver and the processing
    queue."""
    return with_events(quiet_settings, receiver, inlet_processing_queue=queue_name(queue_url))


@pytest.fixture
def events(db: Database, quiet_storage: Storage, out: Settings) -> BucketEvents:
    return BucketEvents(db, quiet_storage, out)


def test_a_stored_run_is_one_event_however_often_its_bucket_events_come(
    db: Database,
    quiet_storage: Storage,
    out: Settings,
    events: BucketEvents,
    receiver: WebhookReceiver,
    queue_url: str,
) -> None:
    contents = (b"the first file", b"the second file")
    created = create(db, quiet_storage, out, *contents)
    run_id = created.run.id
    puts = [
        put(quiet_storage, f.key, data) for f, data in zip(created.files, contents, strict=True)
    ]

    assert events.process(puts[0]) == Outcome.STORED
    assert run_events(db, run_id) == []  # the other file is pending: no change of the run
    assert events.process(puts[1]) == Outcome.STORED
    for again in [puts[1], puts[0], *puts]:  # delivered again, out of order
        assert events.process(again) == Outcome.DUPLICATE

    (event,) = run_events(db, run_id)
    assert event.type == "run.stored"
    payload = event.payload
    RunEvent.model_validate(payload)
    assert (payload["id"], payload["type"], payload["incident"]) == (
        str(event.id),
        event.type,
        None,
    )
    run = payload["run"]
    assert (run["id"], run["status"], run["source"], run["owner"]) == (
        str(run_id),
        "stored",
        "api",
        None,
    )
    assert [
        (f["key"], f["version_id"], f["size_bytes"], f["sha256"], f["status"])
        for f in payload["files"]
    ] == [
        (f.key, put_event.version_id, len(data), sha256(data), "stored")
        for f, put_event, data in zip(created.files, puts, contents, strict=True)
    ]
    assert all(put_event.version_id for put_event in puts)  # versions are in the payload
    assert sorted(d.destination for d in deliveries(db)) == [
        "processing",
        f"webhook:{receiver.url}",
    ]

    assert Outbox.from_settings(db, out).drain().published == 2
    (got,) = receiver.received
    assert got.event == payload
    assert got.headers["inlet-event-id"] == str(event.id)
    assert got.headers["inlet-event-type"] == "run.stored"
    assert got.headers["content-type"] == "application/json"
    assert verify_signature(SECRET, got.headers["inlet-signature"], got.body)
    assert [json.loads(body) for body in received_bodies(out, queue_url)] == [payload]

    # Published once: a later drain finds nothing to send.
    assert Outbox.from_settings(db, out).drain().published == 0
    assert receiver.ids() == [str(event.id)]


def test_a_failed_run_is_one_event_that_is_not_processed(
    db: Database, quiet_storage: Storage, out: Settings, events: BucketEvents
) -> None:
    created = create(db, quiet_storage, out, b"what was declared")
    wrong = put(quiet_storage, created.files[0].key, b"what was uploaded instead")

    assert events.process(wrong) == Outcome.FAILED
    assert events.process(wrong) == Outcome.DUPLICATE

    (event,) = run_events(db, created.run.id)
    assert event.type == "run.failed"
    assert event.payload["run"]["error"]["code"] == "files_failed"
    (file,) = event.payload["files"]
    assert (file["status"], file["error"]["code"]) == ("failed", "size_mismatch")
    # Only stored runs go to the processing queue.
    assert [d.destination for d in deliveries(db)] == [f"webhook:{out.inlet_event_webhooks[0]}"]


def test_cancelling_is_one_event_published_by_the_request(
    monkeypatch: pytest.MonkeyPatch,
    api: Client,
    db: Database,
    storage: Storage,
    settings: Settings,
    receiver: WebhookReceiver,
) -> None:
    changed = use_settings(
        monkeypatch,
        settings,
        inlet_event_webhooks=(receiver.url,),
        inlet_event_signing_secret=SECRET,
    )
    created = create(db, storage, changed, b"never uploaded")
    run_id = created.run.id

    assert api.http.delete(f"/v1/uploads/{run_id}").status_code == 200
    assert api.http.delete(f"/v1/uploads/{run_id}").status_code == 200  # twice is harmless

    (event,) = run_events(db, run_id)
    assert event.type == "run.cancelled"
    assert event.payload["run"]["status"] == "cancelled"
    assert [f["status"] for f in event.payload["files"]] == ["pending"]
    assert receiver.ids() == [str(event.id)]  # the request drained the outbox after its commit


def test_a_cancel_is_answered_when_publishing_fails_and_its_event_waits_for_the_next_drain(
    monkeypatch: pytest.MonkeyPatch,
    api: Client,
    db: Database,
    storage: Storage,
    settings: Settings,
    receiver: WebhookReceiver,
) -> None:
    changed = use_settings(
        monkeypatch,
        settings,
        inlet_event_webhooks=(receiver.url,),
        inlet_event_signing_secret=SECRET,
    )
    created = create(db, storage, changed, b"never uploaded")

    def unreachable(*args: object) -> None:
        raise OperationalError("SELECT ... FOR UPDATE", {}, ConnectionError("database gone"))

    with monkeypatch.context() as patched:
        patched.setattr(Outbox, "_claim", unreachable)
        cancelled = api.http.delete(f"/v1/uploads/{created.run.id}")
    assert (cancelled.status_code, cancelled.json_body["status"]) == (200, "cancelled")
    assert receiver.ids() == []

    (event,) = run_events(db, created.run.id)
    assert Outbox.from_settings(db, changed).drain().published == 1
    assert receiver.ids() == [str(event.id)]


def test_expiry_is_one_event_published_by_the_scheduled_job(
    db: Database, quiet_storage: Storage, out: Settings, receiver: WebhookReceiver
) -> None:
    created = create(db, quiet_storage, out, b"never uploaded")
    inlet = Inlet(out, db, quiet_storage)
    later = utcnow() + timedelta(hours=out.inlet_pending_ttl_hours, minutes=1)

    report = inlet.run_schedule(now=later)
    assert (report.expired, report.events_published) == (1, 1)
    assert inlet.run_schedule(now=later).expired == 0

    (event,) = run_events(db, created.run.id)
    assert event.type == "run.expired"
    assert (event.payload["run"]["status"], event.payload["run"]["error"]["code"]) == (
        "expired",
        "expired",
    )
    assert receiver.ids() == [str(event.id)]


def test_each_incident_is_one_event_and_a_lost_version_fails_the_run_once(
    db: Database,
    quiet_storage: Storage,
    out: Settings,
    events: BucketEvents,
    receiver: WebhookReceiver,
) -> None:
    data = b"stored, then written over, then deleted"
    created = create(db, quiet_storage, out, data)
    key = created.files[0].key
    stored = put(quiet_storage, key, data)
    assert events.process(stored) == Outcome.STORED

    over = put(quiet_storage, key, b"another version over the stored one")
    assert events.process(over) == Outcome.INCIDENT
    assert events.process(over) == Outcome.DUPLICATE
    assert events.process(stored) == Outcome.DUPLICATE

    quiet_storage.client.delete_object(
        Bucket=quiet_storage.bucket, Key=key, VersionId=str(stored.version_id)
    )
    gone = ObjectEvent(
        quiet_storage.bucket, key, version_id=stored.version_id, name="ObjectRemoved:Delete"
    )
    assert events.process(gone) == Outcome.INCIDENT
    assert events.process(gone) == Outcome.DUPLICATE

    recorded = run_events(db, created.run.id)
    assert [e.type for e in recorded] == [
        "run.stored",
        "run.incident",
        "run.failed",
        "run.incident",
    ]
    overwritten, failed, lost = (e.payload for e in recorded[1:])
    assert overwritten["incident"]["kind"] == "overwritten"
    assert overwritten["incident"]["recorded_version_id"] == stored.version_id
    assert overwritten["incident"]["other_version_id"] == over.version_id
    assert overwritten["run"]["status"] == "stored"
    assert failed["run"]["error"]["code"] == "files_lost"
    assert (lost["incident"]["kind"], lost["run"]["status"]) == ("version_lost", "failed")
    assert lost["files"][0]["status"] == "lost"

    Outbox.from_settings(db, out).drain()
    assert receiver.ids() == [str(e.id) for e in recorded]


def test_an_adopted_inbox_drop_is_one_event_with_the_inbox_owner(
    db: Database, quiet_storage: Storage, out: Settings
) -> None:
    owned = Settings.model_validate(out.model_dump() | {"inlet_inbox_owner": "dropbox"})
    events = BucketEvents(db, quiet_storage, owned)
    data = b"dropped into the inbox"
    dropped = put(quiet_storage, "inbox/app_bundle/drop.bin", data)

    assert events.process(dropped) == Outcome.STORED
    assert events.process(dropped) == Outcome.DUPLICATE

    (event,) = run_events(db)
    assert event.type == "run.stored"
    assert (event.payload["run"]["source"], event.payload["run"]["owner"]) == ("bucket", "dropbox")
    assert event.payload["files"][0]["version_id"] == dropped.version_id


def test_an_unstorable_inbox_key_is_one_failed_event(
    db: Database, quiet_storage: Storage, events: BucketEvents
) -> None:
    dropped = put(quiet_storage, "inbox/app_bundle/bad\x00name.bin", b"a key no row can hold")

    assert events.process(dropped) == Outcome.FAILED
    assert events.process(dropped) == Outcome.DUPLICATE

    (event,) = run_events(db)
    assert event.type == "run.failed"
    assert (event.payload["run"]["error"]["code"], event.payload["files"]) == (UNSTORABLE_KEY, [])


def test_eventbridge_gets_every_event_and_a_rule_routes_the_stored_ones(
    db: Database, quiet_storage: Storage, quiet_settings: Settings
) -> None:
    """The bus, a rule with the pattern docs/consumers.md shows, and its SQS target, on moto."""
    bridge = boto3.client(
        "events", endpoint_url=quiet_settings.s3_endpoint_url, region_name="us-east-1"
    )
    bus = f"inlet-test-{uuid.uuid4().hex[:8]}"
    bridge.create_event_bus(Name=bus)
    target = processing_queue(quiet_settings)  # a queue of its own: the rule's target
    sqs = make_sqs_client(quiet_settings)
    arn = sqs.get_queue_attributes(QueueUrl=target, AttributeNames=["QueueArn"])["Attributes"]
    pattern = {"source": ["inlet"], "detail-type": ["run.stored"]}
    bridge.put_rule(Name=f"{bus}-stored", EventBusName=bus, EventPattern=json.dumps(pattern))
    bridge.put_targets(
        Rule=f"{bus}-stored",
        EventBusName=bus,
        Targets=[{"Id": "stored-runs", "Arn": arn["QueueArn"]}],
    )
    processing = processing_queue(quiet_settings)
    settings = Settings.model_validate(
        quiet_settings.model_dump()
        | {"inlet_event_bus": bus, "inlet_processing_queue": queue_name(processing)}
    )
    events = BucketEvents(db, quiet_storage, settings)
    good, bad = (create(db, quiet_storage, settings, b"good") for _ in range(2))
    assert events.process(put(quiet_storage, good.files[0].key, b"good")) == Outcome.STORED
    assert events.process(put(quiet_storage, bad.files[0].key, b"bad!")) == Outcome.FAILED

    report = Outbox.from_settings(db, settings).drain()
    assert (report.published, report.retried) == (3, 0)  # two to the bus, one to processing

    (stored,) = run_events(db, good.run.id)
    (envelope,) = [json.loads(body) for body in received_bodies(settings, target)]
    assert (envelope["source"], envelope["detail-type"]) == ("inlet", "run.stored")
    assert envelope["detail"] == stored.payload  # the failed run's event matched no rule


def test_an_unreachable_bus_is_a_failed_delivery_retried_later(
    db: Database, quiet_storage: Storage, quiet_settings: Settings
) -> None:
    # EventBridge's endpoint refuses connections (moto refuses a missing bus too, LocalStack
    # takes events for any bus name: a closed port fails alike everywhere).
    settings = Settings.model_validate(
        quiet_settings.model_dump()
        | {"inlet_event_bus": "inlet-test", "s3_endpoint_url": closed_url("http://")}
    )
    created = create(db, quiet_storage, settings, b"cancelled")
    Inlet(settings, db, quiet_storage).uploads.cancel(str(created.run.id), None)

    report = Outbox.from_settings(db, settings).drain()
    assert (report.published, report.retried) == (0, 1)
    (delivery,) = deliveries(db)
    assert delivery.destination == "eventbridge"
    assert (delivery.attempts, delivery.delivered_at) == (1, None)
    assert "EndpointConnectionError" in (delivery.last_error or ""), delivery.last_error
    assert delivery.next_attempt_at > utcnow()
