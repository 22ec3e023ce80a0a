"""Publishing run events from the outbox: retries with back-off until a receiver that was down
takes every event, signatures that verify (and refuse a tampered body, another secret, a stale
time), a process killed between its commit and its publish, concurrent drains that never send
one delivery twice, dead letters after the last attempt and their replay. On both databases,
with a real HTTP receiver; moto serves the quiet bucket."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest

from chalicelib.config import Settings
from chalicelib.db import Database
from chalicelib.models import utcnow
from chalicelib.outbox import Backoff, Outbox
from chalicelib.publishers import Publishers, signature_header, verify_signature
from chalicelib.storage import Storage
from chalicelib.uploads import Uploads
from tests.support.config import ROOT
from tests.support.events import create, wait_until
from tests.support.webhooks import SECRET, WebhookReceiver, deliveries, run_events, with_events

T = 1_800_000_000  # a signature's time, in unix seconds


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver().start()
    yield receiver
    receiver.open.set()
    receiver.stop()


@pytest.fixture
def out(quiet_settings: Settings, receiver: WebhookReceiver) -> Settings:
    return with_events(quiet_settings, receiver)


@pytest.fixture
def cancel(db: Database, quiet_storage: Storage, out: Settings) -> Callable[[], uuid.UUID]:
    """Cancel a new run: its `run.cancelled` event's id (one delivery: the receiver)."""

    def cancelled() -> uuid.UUID:
        created = create(db, quiet_storage, out, b"never uploaded")
        Uploads(db, quiet_storage, out).cancel(str(created.run.id), None)
        (event,) = run_events(db, created.run.id)
        return event.id

    return cancelled


def test_a_receiver_down_then_restarted_gets_every_event_signed(
    db: Database, out: Settings, receiver: WebhookReceiver, cancel: Callable[[], uuid.UUID]
) -> None:
    receiver.stop()
    sent = {str(cancel()) for _ in range(3)}
    outbox = Outbox.from_settings(db, out)

    report = outbox.drain()
    # One attempt per drain for a destination that fails; the others wait, untried.
    assert (report.published, report.retried) == (0, 1)
    [tried] = [d for d in deliveries(db) if d.attempts]
    assert "unreachable" in (tried.last_error or "")
    assert tried.next_attempt_at > utcnow()

    receiver.start()
    report = outbox.drain(utcnow() + timedelta(hours=1))  # past every back-off
    assert (report.published, report.retried) == (3, 0)
    assert sorted(receiver.ids()) == sorted(sent)
    for got in receiver.received:
        assert got.headers["inlet-event-id"] == got.event["id"]
        assert verify_signature(SECRET, got.headers["inlet-signature"], got.body)
    assert all(d.delivered_at is not None for d in deliveries(db))
    assert outbox.drain(utcnow() + timedelta(hours=2)).published == 0


def test_a_signature_fails_for_a_tampered_body_another_secret_or_a_stale_time() -> None:
    body = '{"id":"8b0c4f6e-0000-4000-8000-000000000000","type":"run.stored"}'
    header = signature_header(SECRET, body, T)
    assert verify_signature(SECRET, header, body, now=T + 10)
    assert verify_signature(SECRET, header, body.encode(), now=T - 10)

    assert not verify_signature(SECRET, header, body.replace("stored", "failed"), now=T)
    assert not verify_signature(SECRET, header, body + " ", now=T)
    # Bytes that are not UTF-8 (a forged body) are a failed check, never an error.
    assert not verify_signature(SECRET, header, body.encode() + b"\xff", now=T)
    assert not verify_signature("another-secret-of-the-same-sort", header, body, now=T)
    assert not verify_signature(SECRET, header, body, now=T + 301)  # a replay, later
    assert not verify_signature(SECRET, header, body, now=T - 301)
    timestamp, signature = header.split(",")
    assert not verify_signature(SECRET, f"t={T + 1},{signature}", body, now=T)  # time moved
    assert not verify_signature(SECRET, timestamp, body, now=T)  # no signature
    assert not verify_signature(SECRET, "", body, now=T)
    # While a secret is rotated, the header may carry a signature per secret: one is enough.
    assert verify_signature(SECRET, f"{header},v1={'0' * 64}", body, now=T)


def docs_verifier() -> Callable[..., Any]:
    """The receiver's verification function, as docs/consumers.md shows it."""
    text = (ROOT / "docs" / "consumers.md").read_text()
    [code] = re.findall(r"```python\n(# receiver\.py.*?)```", text, re.S)
    namespace: dict[str, Any] = {"__name__": "receiver_from_the_docs"}
    exec(compile(code, "docs/consumers.md", "exec"), namespace)
    verify: Callable[..., Any] = namespace["verify"]
    return verify


def test_the_verification_snippet_in_the_docs_checks_real_deliveries(
    db: Database, out: Settings, receiver: WebhookReceiver, cancel: Callable[[], uuid.UUID]
) -> None:
    cancel()
    Outbox.from_settings(db, out).drain()
    (got,) = receiver.received
    verify = docs_verifier()
    header = got.headers["inlet-signature"]

    assert verify(SECRET.encode(), header, got.body)
    assert not verify(SECRET.encode(), header, got.body.replace(b"cancelled", b"stored"))
    assert not verify(b"another-secret-of-the-same-sort", header, got.body)
    stale = signature_header(SECRET, got.body.decode(), T)
    assert not verify(SECRET.encode(), stale, got.body)


# --- a process killed after its commit --------------------------------------------------------

AFTER_COMMIT = """
import os, signal, sys
from chalice.test import Client
import app
from chalicelib.service import Inlet

# Killed where the request publishes, after its transaction committed.
Inlet.publish_events = lambda self: os.kill(os.getpid(), signal.SIGKILL)
with Client(app.app) as client:
    client.http.delete(f"/v1/uploads/{sys.argv[1]}")
"""

WHILE_PUBLISHING = """
import os, signal
from chalicelib.config import Settings
from chalicelib.publishers import WebhookPublisher
from chalicelib.service import Inlet

# Killed in the middle of a delivery it has claimed.
WebhookPublisher.publish = lambda *args: os.kill(os.getpid(), signal.SIGKILL)
Inlet.from_settings(Settings.from_env()).outbox.drain()
"""


def killed(code: str, settings: Settings, *args: str) -> None:
    env = os.environ | {
        "DATABASE_URL": settings.database_url,
        "S3_ENDPOINT_URL": str(settings.s3_endpoint_url),
        "INLET_BUCKET": settings.inlet_bucket,
        "INLET_EVENT_WEBHOOKS": ",".join(settings.inlet_event_webhooks),
        "INLET_EVENT_SIGNING_SECRET": SECRET,
    }
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr[-3000:]


def test_a_request_killed_between_its_commit_and_its_publish_is_published_by_the_next_drain(
    db: Database, quiet_storage: Storage, out: Settings, receiver: WebhookReceiver
) -> None:
    created = create(db, quiet_storage, out, b"never uploaded")

    killed(AFTER_COMMIT, out, str(created.run.id))

    (event,) = run_events(db, created.run.id)  # the cancel and its event were committed
    assert event.type == "run.cancelled"
    assert receiver.ids() == []
    assert Outbox.from_settings(db, out).drain().published == 1  # the handler's or the job's
    assert receiver.ids() == [str(event.id)]


def test_a_drain_killed_while_publishing_leaves_its_claim_to_run_out(
    db: Database, out: Settings, receiver: WebhookReceiver, cancel: Callable[[], uuid.UUID]
) -> None:
    event_id = cancel()

    killed(WHILE_PUBLISHING, out)

    (delivery,) = deliveries(db)
    assert delivery.claimed_until is not None
    assert delivery.delivered_at is None
    outbox = Outbox.from_settings(db, out)
    assert outbox.drain().published == 0  # still claimed by the dead drain
    assert outbox.drain(delivery.claimed_until + timedelta(seconds=1)).published == 1
    assert receiver.ids() == [str(event_id)]


# --- concurrent drains ------------------------------------------------------------------------


def test_two_drains_never_send_a_delivery_at_once(
    db: Database, out: Settings, receiver: WebhookReceiver, cancel: Callable[[], uuid.UUID]
) -> None:
    sent = sorted(str(cancel()) for _ in range(6))
    receiver.open.clear()  # requests wait: each drain holds one delivery in flight
    outboxes = [Outbox(db, Publishers(out), 12, timeout=60) for _ in range(2)]
    with ThreadPoolExecutor(2) as pool:
        running = [pool.submit(outbox.drain, budget=120, batch=1) for outbox in outboxes]
        wait_until(lambda: receiver.in_flight == 2, "both drains sending")
        receiver.open.set()
        reports = [future.result() for future in running]

    assert sorted(receiver.ids()) == sent  # each once
    assert [report.published >= 1 for report in reports] == [True, True]
    assert sum(report.published for report in reports) == len(sent)


def test_many_drains_at_once_send_each_delivery_once(
    db: Database, out: Settings, receiver: WebhookReceiver, cancel: Callable[[], uuid.UUID]
) -> None:
    sent = sorted(str(cancel()) for _ in range(24))
    outboxes = [Outbox(db, Publishers(out), 12, timeout=60) for _ in range(4)]
    with ThreadPoolExecutor(len(outboxes)) as pool:
        reports = list(pool.map(lambda outbox: outbox.drain(budget=120, batch=2), outboxes))

    assert sorted(receiver.ids()) == sent
    assert sum(report.published for report in reports) == len(sent)
    assert all(d.delivered_at is not None and d.attempts == 1 for d in deliveries(db))


def test_a_hung_receiver_costs_one_timeout_and_leaves_the_rest_to_the_next_drain(
    db: Database, out: Settings, receiver: WebhookReceiver, cancel: Callable[[], uuid.UUID]
) -> None:
    for _ in range(3):
        cancel()
    receiver.open.clear()  # accepts, never answers (until the test ends)
    outbox = Outbox(db, Publishers(out), 12, timeout=1.0)

    report = outbox.drain(budget=0.5)

    assert (report.published, report.retried) == (0, 1)
    tried = [d for d in deliveries(db) if d.attempts]
    untried = [d for d in deliveries(db) if not d.attempts]
    assert len(tried) == 1
    assert "timed out" in (tried[0].last_error or "")
    assert len(untried) == 2
    assert all(d.claimed_until is None for d in untried)  # due for the next drain at once


# --- retries, dead letters, replay ------------------------------------------------------------


def test_the_back_off_doubles_to_an_hour_and_its_second_half_is_random() -> None:
    full = Backoff(jitter=lambda: 1.0)
    half = Backoff(jitter=lambda: 0.0)
    expected = [10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600]
    assert [full.delay(n).total_seconds() for n in range(1, 12)] == expected
    assert [half.delay(n).total_seconds() for n in range(1, 12)] == [s / 2 for s in expected]


def test_a_delivery_refused_to_its_last_attempt_is_a_dead_letter_until_replayed(
    db: Database, out: Settings, receiver: WebhookReceiver, cancel: Callable[[], uuid.UUID]
) -> None:
    receiver.status = 500
    event_id = cancel()
    outbox = Outbox(db, Publishers(out), max_attempts=3, backoff=Backoff(jitter=lambda: 1.0))
    clock = utcnow()
    for attempt in (1, 2):
        assert outbox.drain(clock).retried == 1
        (delivery,) = deliveries(db)
        assert delivery.attempts == attempt
        assert (delivery.last_error or "").startswith("PublishError: HTTP 500")
        assert delivery.next_attempt_at == clock + timedelta(seconds=10 * 2 ** (attempt - 1))
        assert outbox.drain(clock).retried == 0  # not due before its back-off
        clock = delivery.next_attempt_at

    assert outbox.drain(clock).dead == 1
    assert deliveries(db) == []
    (letter,) = outbox.dead_letters()
    assert (letter.event_id, letter.type, letter.attempts) == (event_id, "run.cancelled", 3)
    assert letter.destination == f"webhook:{receiver.url}"
    assert "HTTP 500" in (letter.last_error or "")
    assert (receiver.attempts, receiver.ids()) == (3, [])

    receiver.status = 200
    assert outbox.replay([uuid.uuid4()]) == 0  # another event's: nothing
    assert outbox.replay([event_id]) == 1
    assert outbox.dead_letters() == []
    assert outbox.drain().published == 1
    assert receiver.ids() == [str(event_id)]
    [state] = outbox.history(letter.run_id)
    assert [(d.state, d.attempts) for d in state.deliveries] == [("delivered", 1)]
