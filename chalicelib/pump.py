"""Local only (never used on Lambda): do what AWS does for the deployed functions.

`chalice local` serves HTTP routes but no event sources. The pump long-polls the events queue
and invokes the app's registered SQS handler with a Lambda-shaped event and context, so Chalice's
wrapper and middleware run exactly as on Lambda; it deletes the messages that succeeded and
leaves the reported failures to SQS (redelivery, then the dead-letter queue). It also invokes the
scheduled handler now and then.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import boto3

from chalicelib.config import Settings
from chalicelib.logs import logger

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef

# A Chalice event handler object, called as Lambda calls it.
Handler = Callable[[dict[str, Any], Any], Any]


def make_sqs_client(settings: Settings) -> SQSClient:
    """SQS on the same endpoint as the bucket (moto and LocalStack serve both)."""
    return boto3.client(
        "sqs", endpoint_url=settings.s3_endpoint_url, region_name=settings.aws_region
    )


@dataclass
class LocalContext:
    """The parts of Lambda's context object that handlers and Powertools read."""

    function_name: str
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = "arn:aws:lambda:local:000000000000:function:inlet"
    log_group_name: str = "/aws/lambda/inlet-local"

    def get_remaining_time_in_millis(self) -> int:
        return 900_000


def sqs_event(messages: list[MessageTypeDef], queue_arn: str, region: str) -> dict[str, Any]:
    """Received messages in the shape Lambda's SQS event source hands to a function."""
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": {},
                "md5OfBody": m["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for m in messages
        ]
    }


def scheduled_event(region: str) -> dict[str, Any]:
    """What EventBridge Scheduler hands to a `@app.schedule` function."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "000000000000",
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [f"arn:aws:events:{region}:000000000000:rule/inlet-local"],
        "detail": {},
    }


class Pump:
    def __init__(
        self,
        sqs: SQSClient,
        queue_url: str,
        on_messages: Handler,
        on_schedule: Handler | None = None,
        *,
        schedule_every: float = 60.0,
        wait_seconds: int = 1,
    ) -> None:
        self.sqs = sqs
        self.queue_url = queue_url
        self.on_messages = on_messages
        self.on_schedule = on_schedule
        self.schedule_every = schedule_every
        self.wait_seconds = wait_seconds
        self.region = sqs.meta.region_name
        attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
        self.queue_arn = attributes["Attributes"]["QueueArn"]

    def poll_once(self) -> int:
        """Receive one batch (waiting up to `wait_seconds`), invoke the handler, delete the
        messages it did not report as failed. Returns how many messages were received."""
        response = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=self.wait_seconds,
            MessageSystemAttributeNames=["All"],
        )
        messages = response.get("Messages", [])
        if not messages:
            return 0
        context = LocalContext(function_name="handle_bucket_events")
        try:
            result = self.on_messages(sqs_event(messages, self.queue_arn, self.region), context)
        except Exception:  # as on Lambda: an invocation error leaves the whole batch to SQS
            logger.exception("the events handler failed; its batch will be delivered again")
            return len(messages)
        failed = {item["itemIdentifier"] for item in (result or {}).get("batchItemFailures", [])}
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)
                ],
            )
        return len(messages)

    def run_schedule(self) -> None:
        if self.on_schedule is not None:
            self.on_schedule(scheduled_event(self.region), LocalContext(function_name="schedule"))

    def run(self, stop: threading.Event) -> None:
        """Pump until `stop` is set (within `wait_seconds`); errors are logged, not fatal."""
        next_schedule = time.monotonic()
        while not stop.is_set():
            try:
                if self.on_schedule is not None and time.monotonic() >= next_schedule:
                    next_schedule = time.monotonic() + self.schedule_every
                    self.run_schedule()
                self.poll_once()
            except Exception:
                logger.exception("event pump error; retrying shortly")
                stop.wait(1.0)

    @contextmanager
    def running(self) -> Iterator[Pump]:
        """Pump in a background thread for the duration of the `with` block."""
        stop = threading.Event()
        thread = threading.Thread(target=self.run, args=(stop,), name="inlet-pump", daemon=True)
        thread.start()
        try:
            yield self
        finally:
            stop.set()
            thread.join()
