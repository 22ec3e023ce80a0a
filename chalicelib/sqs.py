"""S3 notifications arriving through SQS: parse each message, process each record, report the
records that failed so that only they are delivered again (partial batch response)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from chalicelib.logs import logger
from chalicelib.telemetry import metrics


@dataclass(frozen=True)
class ObjectEvent:
    """One `ObjectCreated:*` or `ObjectRemoved:*` record (the key already URL-decoded): a hint
    that something happened at a key. The handler acts on the bucket and key only, and asks the
    bucket what is there; `version_id` at most points it at a version to ask about. Size, ETag
    and the event's name are logged, never believed (docs/events.md, "Events are hints")."""

    bucket: str
    key: str
    size: int = 0
    etag: str = ""
    version_id: str | None = None
    name: str = ""


TEST_EVENT = "s3:TestEvent"
EVENT_KINDS = ("ObjectCreated:", "ObjectRemoved:")


def object_events(body: str) -> list[ObjectEvent]:
    """The object-created and object-removed records of one message; none for the test event
    S3 sends when a notification is configured. A body that is not an S3 notification raises:
    retried, it ends in the dead-letter queue, where someone can look at it."""
    message = json.loads(body)
    if message.get("Event") == TEST_EVENT:
        return []
    found = []
    for record in message["Records"]:
        name = record["eventName"]
        if not name.startswith(EVENT_KINDS):
            continue
        s3 = record["s3"]
        obj = s3["object"]
        found.append(
            ObjectEvent(
                bucket=s3["bucket"]["name"],
                # S3 URL-encodes keys in events, with `+` for spaces.
                key=unquote_plus(obj["key"]),
                size=int(obj.get("size", 0)),
                etag=obj.get("eTag", ""),
                version_id=obj.get("versionId") or None,
                name=name,
            )
        )
    return found


def handle_batch(
    event: dict[str, Any], process: Callable[[ObjectEvent], object]
) -> PartialItemFailureResponse:
    """Run `process` on every object event of an SQS Lambda event; `{"batchItemFailures": [...]}`
    names the messages to deliver again."""

    def handle_record(record: SQSRecord) -> None:
        try:
            for object_event in object_events(record.body):
                process(object_event)
        except Exception:
            logger.exception(
                "message failed; SQS will deliver it again",
                extra={"message_id": record.message_id},
            )
            metrics.add_metric(name="MessagesFailed", unit=MetricUnit.Count, value=1)
            raise

    # A batch whose every record failed is still a partial response: no record is lost or
    # re-run because of another, and the queue's redrive policy counts each one's receives.
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return process_partial_response(event=event, record_handler=handle_record, processor=processor)
