"""Run events in the tests: a real HTTP receiver of webhooks (it keeps every request it answers
2xx, answers with the status it is told, can hold requests until released, and can be stopped,
the port then refusing connections, and started again at the same URL); settings that send
events to it; queues on the test endpoint; the outbox's rows."""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sqlalchemy import select

from chalicelib.config import Settings
from chalicelib.db import Database
from chalicelib.models import EventDelivery, RunEvent
from local.processes import HOST, free_port
from local.resources import make_sqs_client

SECRET = "run-events-signing-secret-for-tests"


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]  # names in lower case
    body: bytes

    @property
    def event(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


class WebhookReceiver:
    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}/hooks/inlet"
        self.received: list[Received] = []
        self.attempts = 0  # requests answered, whatever the status
        self.status = 200
        # Cleared: requests wait (in flight) until it is set again.
        self.open = threading.Event()
        self.open.set()
        self.in_flight = 0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> WebhookReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver._lock:
                    receiver.in_flight += 1
                receiver.open.wait(timeout=60)
                with receiver._lock:
                    receiver.in_flight -= 1
                    status = receiver.status
                    receiver.attempts += 1
                    if 200 <= status < 300:
                        headers = {name.lower(): value for name, value in self.headers.items()}
                        receiver.received.append(Received(headers, body))
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer((HOST, self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop listening: deliveries to the URL are refused until `start`."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def events(self) -> list[dict[str, Any]]:
        """The events received (and answered 2xx), in order."""
        with self._lock:
            return [request.event for request in self.received]

    def ids(self) -> list[str]:
        return [str(event["id"]) for event in self.events()]


def with_events(settings: Settings, receiver: WebhookReceiver, **more: object) -> Settings:
    """`settings`, sending every run event to `receiver`, signed with SECRET."""
    changes = {
        "inlet_event_webhooks": (receiver.url,),
        "inlet_event_signing_secret": SECRET,
        **more,
    }
    return Settings.model_validate(settings.model_dump() | changes)


def processing_queue(settings: Settings) -> str:
    """A fresh queue on the test endpoint, as the processing queue (its URL)."""
    name = f"inlet-processing-{uuid.uuid4().hex[:8]}"
    return make_sqs_client(settings).create_queue(QueueName=name)["QueueUrl"]


def queue_name(url: str) -> str:
    return url.rsplit("/", 1)[-1]


def received_bodies(settings: Settings, url: str) -> list[str]:
    """Every message the queue at `url` holds now, received (and deleted)."""
    sqs = make_sqs_client(settings)
    bodies: list[str] = []
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
            "Messages", []
        )
        if not messages:
            return bodies
        for message in messages:
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def run_events(db: Database, run_id: uuid.UUID | str | None = None) -> list[RunEvent]:
    """The recorded run events (of one run, or all), oldest first."""
    query = select(RunEvent).order_by(RunEvent.occurred_at, RunEvent.id)
    if run_id is not None:
        query = query.where(RunEvent.run_id == uuid.UUID(str(run_id)))
    with db.session() as session:
        return list(session.scalars(query))


def deliveries(db: Database) -> list[EventDelivery]:
    with db.session() as session:
        return list(
            session.scalars(
                select(EventDelivery).order_by(EventDelivery.event_id, EventDelivery.destination)
            )
        )
