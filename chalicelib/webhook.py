"""`POST /v1/bucket-events`: bucket notifications pushed over HTTP, as MinIO's webhook target
sends them, processed by the same core function as the SQS path (`events.BucketEvents.process`).

MinIO posts one JSON document per event, `{"EventName", "Key", "Records": [...]}`, whose records
follow S3's event structure except for the event names (`s3:ObjectCreated:Put` where S3 writes
`ObjectCreated:Put`). The records are parsed by the SQS path's parser, so both paths agree on
keys (URL-decoded), sizes, ETags and versions. Like the queue's, these events are hints: the
handler acts on what the bucket holds, so a forged one changes nothing the bucket does not show.

The endpoint is off unless INLET_WEBHOOK_SECRET is set (404), and refuses any request without
`Authorization: Bearer <secret>` (401). MinIO delivers at least once and retries on any answer
but 2xx: a transient failure (database or bucket down) answers 503, and the delivery is retried;
processing is idempotent, so duplicates are harmless.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from chalicelib import sqs
from chalicelib.bucket import WEBHOOK_EVENTS
from chalicelib.errors import Invalid, NotFound, Unauthorized
from chalicelib.http import bearer_token
from chalicelib.logs import logger
from chalicelib.sqs import ObjectEvent
from chalicelib.telemetry import metrics

# The events that put new bytes under a key or remove them (an object, a version, a delete
# marker). MinIO also files tagging, retention and legal-hold changes under ObjectCreated: those
# are acknowledged and ignored.
HANDLED = frozenset(name.removeprefix("s3:") for name in WEBHOOK_EVENTS)


class BucketNotification(BaseModel):
    """What MinIO's webhook target posts (only `Records` is read)."""

    model_config = ConfigDict(extra="allow")

    EventName: str | None = None
    Key: str | None = Field(default=None, description="bucket/key of the object")
    Records: list[dict[str, Any]] = Field(description="S3 event records")


class ProcessedObject(BaseModel):
    key: str
    outcome: str


class BucketEventsResult(BaseModel):
    processed: list[ProcessedObject]


def authorize(authorization: str | None, secret: SecretStr | None) -> None:
    """404 when the endpoint is not configured; 401 unless the header carries the secret."""
    if secret is None:
        raise NotFound("the bucket-events webhook is not enabled (INLET_WEBHOOK_SECRET is unset)")
    token = bearer_token(authorization)
    expected = secret.get_secret_value().encode()
    if token is None or not hmac.compare_digest(token.encode(), expected):
        raise Unauthorized("a bearer token with the webhook secret is required")


def object_events(notification: BucketNotification) -> list[ObjectEvent]:
    """The object events of a notification, read by the SQS path's parser."""
    handled = []
    for record in notification.Records:
        name = str(record.get("eventName", "")).removeprefix("s3:")
        if name in HANDLED:
            handled.append(record | {"eventName": name})
    try:
        return sqs.object_events(json.dumps({"Records": handled}))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise Invalid(
            "not an S3 event notification: a record lacks s3.bucket.name or s3.object.key",
            [{"field": "Records", "message": f"{type(exc).__name__}: {exc}"}],
        ) from None


def receive(
    notification: BucketNotification, process: Callable[[ObjectEvent], object]
) -> BucketEventsResult:
    """Process every object record; any failure raises (the sender retries them all)."""
    found = object_events(notification)
    processed = []
    try:
        for event in found:
            outcome = process(event)
            processed.append(ProcessedObject(key=event.key, outcome=str(outcome)))
    finally:
        if metrics.metric_set:
            metrics.flush_metrics()
    logger.info(
        "bucket events received",
        extra={"event_name": notification.EventName, "records": len(notification.Records)},
    )
    return BucketEventsResult(processed=processed)
