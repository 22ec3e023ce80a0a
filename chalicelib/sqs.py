"""S3 notifications arriving through SQS: parse each message, process the records of a batch
(several at once), report the records that failed so that only they are delivered again
(partial batch response)."""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.metrics import MetricUnit

from chalicelib.logs import logger
from chalicelib.telemetry import metrics

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse


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


def handle_messages(
    event: dict[str, Any], process: Callable[[str], object], concurrency: int = 1
) -> PartialItemFailureResponse:
    """Run `process` on the body of every record of an SQS Lambda event, `concurrency` records
    at a time; `{"batchItemFailures": [...]}` names the messages to deliver again (those whose
    `process` raised). A batch whose every record failed is still a partial response: no record
    is lost or re-run because of another, and the queue's redrive policy counts each one's
    receives."""

    def failed(record: dict[str, Any]) -> str | None:
        """The message id when the record failed, else None."""
        try:
            process(record["body"])
        except Exception:
            logger.exception(
                "message failed; SQS will deliver it again",
                extra={"message_id": record["messageId"]},
            )
            metrics.add_metric(name="MessagesFailed", unit=MetricUnit.Count, value=1)
            return str(record["messageId"])
        return None

    records: list[dict[str, Any]] = event.get("Records", [])
    if concurrency > 1 and len(records) > 1:
        # Records wait on the bucket and the database, not on this CPU: overlap them.
        with ThreadPoolExecutor(min(concurrency, len(records)), "inlet-record") as pool:
            outcomes = list(pool.map(failed, records))
    else:
        outcomes = [failed(record) for record in records]
    return {"batchItemFailures": [{"itemIdentifier": m} for m in outcomes if m is not None]}


def handle_batch(
    event: dict[str, Any], process: Callable[[ObjectEvent], object], concurrency: int = 1
) -> PartialItemFailureResponse:
    """Run `process` on every object event of an SQS Lambda event of bucket notifications,
    `concurrency` records at a time (each record's events in order): `handle_messages`."""

    def each_event(body: str) -> None:
        for object_event in object_events(body):
            process(object_event)

    return handle_messages(event, each_event, concurrency)
