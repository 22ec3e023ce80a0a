"""Where run events go (docs/consumers.md): one publisher per destination of an `EventDelivery`.

- `eventbridge`: PutEvents on INLET_EVENT_BUS (Source `inlet`, DetailType the event type,
  Detail the event);
- `processing`: SendMessage of the event to INLET_PROCESSING_QUEUE (its processors' queue);
- `webhook:<url>`: an HTTP POST of the event, signed in Stripe's scheme (`Inlet-Signature:
  t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`); any 2xx answer delivers it.

A publisher raises `PublishError` (or anything else) when the destination did not take the
event; the outbox then retries it later. boto3 loads, and its clients are built, on first use.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any, Protocol

from chalicelib.config import Settings
from chalicelib.models import RunEventType

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

EVENTBRIDGE = "eventbridge"
PROCESSING = "processing"
WEBHOOK_PREFIX = "webhook:"
EVENT_SOURCE = "inlet"
SIGNATURE_HEADER = "Inlet-Signature"
# Long enough for a receiver that answers, short enough that a hung one does not hold the API
# request that drains the outbox after its commit (the next drain retries).
TIMEOUT_SECONDS = 5.0
# How far a signature's timestamp may be from the receiver's clock (Stripe's default): older
# requests are refused as replays.
SIGNATURE_TOLERANCE_SECONDS = 300
# What of a refusal's body is kept as the delivery's last error.
ERROR_EXCERPT = 200


class PublishError(Exception):
    """The destination refused the event or could not be reached: retried later."""


class Publisher(Protocol):
    def publish(self, event: dict[str, Any], body: str, timeout: float) -> None:
        """Send the event (`body` is its JSON); raise if the destination did not take it."""


def event_body(event: dict[str, Any]) -> str:
    """The JSON every destination gets (and a webhook's signature covers): compact, ASCII."""
    return json.dumps(event, separators=(",", ":"))


def _signature(secret: str, body: bytes, timestamp: int) -> str:
    """HMAC-SHA256 of "<timestamp>.<body>", over the body's exact bytes."""
    return hmac.new(secret.encode(), b"%d." % timestamp + body, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: str, timestamp: int) -> str:
    return f"t={timestamp},v1={_signature(secret, body.encode(), timestamp)}"


def verify_signature(
    secret: str,
    header: str,
    body: str | bytes,
    tolerance: int = SIGNATURE_TOLERANCE_SECONDS,
    now: float | None = None,
) -> bool:
    """Whether `header` (an `Inlet-Signature` value) signs `body` with `secret`, at a time within
    `tolerance` seconds of `now`. Several `v1=` entries may be given (during a secret's rotation);
    one matching is enough. Compares in constant time. Receivers can copy this function, or the
    shorter one in docs/consumers.md."""
    data = body if isinstance(body, bytes) else body.encode()
    timestamp: int | None = None
    candidates: list[str] = []
    for item in header.split(","):
        name, _, value = item.strip().partition("=")
        if name == "t" and value.isdigit():
            timestamp = int(value)
        elif name == "v1":
            candidates.append(value)
    if timestamp is None or not candidates:
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = _signature(secret, data, timestamp)
    return any(hmac.compare_digest(expected, candidate) for candidate in candidates)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is no delivery (urllib would turn the POST into a GET without the event)."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirects)


class WebhookPublisher:
    def __init__(self, url: str, secret: str) -> None:
        self.url = url
        self.secret = secret

    def publish(self, event: dict[str, Any], body: str, timeout: float) -> None:
        request = urllib.request.Request(  # noqa: S310 (http(s) only: checked by Settings)
            self.url,
            data=body.encode(),
            method="POST",
            headers={
                "Content-Type": "application/json",
                "User-Agent": "inlet-events",
                "Inlet-Event-Id": str(event["id"]),
                "Inlet-Event-Type": str(event["type"]),
                SIGNATURE_HEADER: signature_header(self.secret, body, int(time.time())),
            },
        )
        try:
            with _opener.open(request, timeout=timeout) as response:
                response.read(ERROR_EXCERPT)
        except urllib.error.HTTPError as exc:
            excerpt = exc.read(ERROR_EXCERPT).decode(errors="replace")
            raise PublishError(f"HTTP {exc.code} from {self.url}: {excerpt}") from None
        except (OSError, ValueError) as exc:  # refused, reset, timed out, unresolvable
            raise PublishError(f"{self.url} unreachable: {exc}") from None


def _client_options(settings: Settings) -> dict[str, Any]:
    """What the outbox's boto3 clients share: the endpoint the bucket is on (moto and LocalStack
    serve SQS and EventBridge there too), and short timeouts (the next drain retries)."""
    from botocore.config import Config

    config = Config(
        region_name=settings.aws_region,
        connect_timeout=TIMEOUT_SECONDS,
        read_timeout=TIMEOUT_SECONDS,
        retries={"max_attempts": 2, "mode": "standard"},
    )
    return {"endpoint_url": settings.s3_endpoint_url, "config": config}


class EventBridgePublisher:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._client: Any = None

    def publish(self, event: dict[str, Any], body: str, timeout: float) -> None:
        bus = self.settings.inlet_event_bus
        if not bus:
            raise PublishError("INLET_EVENT_BUS is not set (any more)")
        if self._client is None:
            import boto3

            self._client = boto3.client("events", **_client_options(self.settings))
        answer = self._client.put_events(
            Entries=[
                {
                    "Source": EVENT_SOURCE,
                    "DetailType": event["type"],
                    "Detail": body,
                    "EventBusName": bus,
                }
            ]
        )
        # PutEvents answers 200 even when it refused the entry: each entry says.
        if answer.get("FailedEntryCount"):
            [entry] = answer.get("Entries") or [{}]
            reason = f"{entry.get('ErrorCode')} {entry.get('ErrorMessage')}"
            raise PublishError(f"EventBridge refused the event: {reason}")


class QueuePublisher:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._client: SQSClient | None = None
        self._queue_url: str | None = None

    def publish(self, event: dict[str, Any], body: str, timeout: float) -> None:
        if self._client is None:
            import boto3

            self._client = boto3.client("sqs", **_client_options(self.settings))
        if self._queue_url is None:  # looked up once per process
            name = self.settings.inlet_processing_queue
            self._queue_url = self._client.get_queue_url(QueueName=name)["QueueUrl"]
        self._client.send_message(QueueUrl=self._queue_url, MessageBody=body)


class Publishers:
    """The publisher of each destination, built on first use and kept for the process."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._built: dict[str, Publisher] = {}

    def __call__(self, destination: str) -> Publisher:
        if destination not in self._built:
            self._built[destination] = self._build(destination)
        return self._built[destination]

    def _build(self, destination: str) -> Publisher:
        if destination == EVENTBRIDGE:
            return EventBridgePublisher(self.settings)
        if destination == PROCESSING:
            return QueuePublisher(self.settings)
        if destination.startswith(WEBHOOK_PREFIX):
            secret = self.settings.inlet_event_signing_secret
            if secret is None:
                raise PublishError("INLET_EVENT_SIGNING_SECRET is not set (any more)")
            return WebhookPublisher(destination[len(WEBHOOK_PREFIX) :], secret.get_secret_value())
        raise PublishError(f"unknown destination {destination!r}")


def destinations(settings: Settings, event_type: str) -> list[str]:
    """Where an event of this type goes: EventBridge when INLET_EVENT_BUS is set, the processing
    queue for `run.stored` (unless INLET_PROCESSING=off), and every INLET_EVENT_WEBHOOKS URL."""
    found = [EVENTBRIDGE] if settings.inlet_event_bus else []
    if event_type == RunEventType.STORED and settings.inlet_processing == "queue":
        found.append(PROCESSING)
    return found + [WEBHOOK_PREFIX + url for url in settings.inlet_event_webhooks]
