"""The queue pump: what AWS does for the deployed event functions, on one machine.

`chalice local` serves HTTP routes but no event sources. A `Pump` long-polls one queue with
`receivers` threads, as Lambda's event source polls with several concurrent invocations; each
invokes the app's registered SQS handler with a Lambda-shaped event and context, so Chalice's
wrapper and middleware run exactly as on Lambda; it deletes the messages that succeeded and
leaves the reported failures to SQS (redelivery, then the dead-letter queue). Two pumps run:
- the events queue's, batches of 10 to `handle_bucket_events` (which processes a batch's records
  INLET_EVENT_CONCURRENCY at a time); it also invokes the scheduled handler (the scheduled job:
  lost events, expiry, orphaned objects, unpublished run events) every `SCHEDULE_EVERY` seconds,
  where AWS does every 15 minutes;
- the processing queue's (INLET_PROCESSING_QUEUE: the stored runs' events the outbox sends), one
  message at a time to `process_stored_runs`, as its event source mapping does on AWS.

`make dev` runs both in threads of its runner; `python -m local.pump` runs them as a process of
its own (the docker compose `pump` service), the processing queue's from the moment it exists.
With `--schedule-only` there is no queue (MinIO pushes its events to `POST /v1/bucket-events`,
and has no SQS): only the scheduled job runs. SIGTERM or Ctrl-C stops it within a poll.
"""

from __future__ import annotations

import argparse
import signal
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError
from chalice.local import LambdaContext

from chalicelib.config import Settings
from chalicelib.logs import logger
from local.resources import make_sqs_client

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef

# A Chalice event handler object, called as Lambda calls it.
Handler = Callable[[dict[str, Any], Any], Any]

# Threads long-polling the queue, each invoking the handler with its own batch.
RECEIVERS = 4
# The processing queue: one stored run at a time, so a slow archive is never received twice
# (its visibility timeout is local/init.py's PROCESSING_VISIBILITY_SECONDS).
PROCESSING_RECEIVERS = 1

# How often the scheduled job runs locally. With INLET_RECONCILE_AFTER_SECONDS (60) an upload
# whose event is lost is stored within 90 s (plus its hashing): "within two minutes" in make dev.
SCHEDULE_EVERY = 30.0


def lambda_context(function_name: str) -> LambdaContext:
    """Chalice's own stand-in for Lambda's context, with Lambda's longest run time."""
    return LambdaContext(function_name, memory_size=1024, max_runtime_ms=900_000)


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
        schedule_every: float = SCHEDULE_EVERY,
        wait_seconds: int = 1,
        receivers: int = RECEIVERS,
        batch_size: int = 10,
        function_name: str = "handle_bucket_events",
    ) -> None:
        self.sqs = sqs
        self.queue_url = queue_url
        self.on_messages = on_messages
        self.on_schedule = on_schedule
        self.schedule_every = schedule_every
        self.wait_seconds = wait_seconds
        self.receivers = receivers
        self.batch_size = batch_size  # the event source mapping's BatchSize (at most 10)
        self.function_name = function_name
        self.region = sqs.meta.region_name
        attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
        self.queue_arn = attributes["Attributes"]["QueueArn"]

    def poll_once(self) -> int:
        """Receive one batch (waiting up to `wait_seconds`), invoke the handler, delete the
        messages it did not report as failed. Returns how many messages were received."""
        response = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=self.batch_size,
            WaitTimeSeconds=self.wait_seconds,
            MessageSystemAttributeNames=["All"],
        )
        messages = response.get("Messages", [])
        if not messages:
            return 0
        context = lambda_context(self.function_name)
        try:
            result = self.on_messages(sqs_event(messages, self.queue_arn, self.region), context)
        except Exception:  # as on Lambda: an invocation error leaves the whole batch to SQS
            logger.exception(
                "the queue's handler failed; its batch will be delivered again",
                extra={"function": self.function_name},
            )
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
            self.on_schedule(scheduled_event(self.region), lambda_context("schedule"))

    def run(self, stop: threading.Event) -> None:
        """Pump with `receivers` threads until `stop` is set (within `wait_seconds`); this one
        also runs the scheduled job. Errors are logged, not fatal."""
        others = [
            threading.Thread(
                target=self._receive, args=(stop, False), name=f"inlet-pump-{n}", daemon=True
            )
            for n in range(1, self.receivers)
        ]
        for thread in others:
            thread.start()
        self._receive(stop, self.on_schedule is not None)
        for thread in others:
            thread.join()

    def _receive(self, stop: threading.Event, schedules: bool) -> None:
        next_schedule = time.monotonic()
        while not stop.is_set():
            try:
                if schedules and time.monotonic() >= next_schedule:
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
        thread = threading.Thread(
            target=self.run, args=(stop,), name=f"inlet-pump-{self.function_name}", daemon=True
        )
        thread.start()
        try:
            yield self
        finally:
            stop.set()
            thread.join()


QUEUE_WAIT_SECONDS = 120


def queue_url(
    settings: Settings,
    name: str,
    stop: threading.Event,
    seconds: float | None = QUEUE_WAIT_SECONDS,
) -> str | None:
    """The URL of the queue `name`, waiting for it to be created (by `python -m local.init`) at
    most `seconds` (None: until stopped); None if stopped first."""
    sqs = make_sqs_client(settings)
    deadline = None if seconds is None else time.monotonic() + seconds
    waiting = False
    while True:
        try:
            return sqs.get_queue_url(QueueName=name)["QueueUrl"]
        except (ClientError, EndpointConnectionError, ConnectionClosedError) as exc:
            if not waiting:
                logger.info("waiting for a queue", extra={"queue": name, "error": repr(exc)})
                waiting = True
        if deadline is not None and time.monotonic() >= deadline:
            raise SystemExit(f"the queue {name} does not exist; run local.init")
        if stop.wait(1):
            return None


def processing_pump(sqs: SQSClient, url: str, wait_seconds: int = 1) -> Pump:
    """Stored runs' events to the app's processor, one at a time (BatchSize 1 on AWS too)."""
    import app  # after the environment is complete: the handlers read their settings from it

    return Pump(
        sqs,
        url,
        app.process_stored_runs,
        wait_seconds=wait_seconds,
        receivers=PROCESSING_RECEIVERS,
        batch_size=1,
        function_name="process_stored_runs",
    )


def pump_stored_runs(settings: Settings, sqs: SQSClient, wait: int, stop: threading.Event) -> None:
    """The processing queue's pump, from the moment the queue exists until `stop`. It does not
    hold up the events: a stack whose init predates the processing queue still stores uploads
    (their `run.stored` events wait in the outbox, retried, until the queue is there)."""
    url = queue_url(settings, settings.inlet_processing_queue, stop, seconds=None)
    if url is not None:
        logger.info("pumping stored runs", extra={"processing_queue_url": url})
        processing_pump(sqs, url, wait).run(stop)


def run_schedule_only(region: str, every: float, stop: threading.Event) -> None:
    import app  # after the environment is complete: the handlers read their settings from it

    while not stop.is_set():
        try:
            app.expire_pending_runs(scheduled_event(region), lambda_context("schedule"))
        except Exception:
            logger.exception("the scheduled job failed; it runs again later")
        stop.wait(every)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m local.pump", description=__doc__)
    parser.add_argument(
        "--schedule-only", action="store_true", help="no queue: the scheduled job only"
    )
    parser.add_argument("--schedule-every", type=float, default=SCHEDULE_EVERY, help="seconds")
    parser.add_argument("--wait-seconds", type=int, default=5, help="SQS long-poll wait")
    parser.add_argument(
        "--receivers", type=int, default=RECEIVERS, help="threads polling the queue"
    )
    args = parser.parse_args(argv)

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    settings = Settings.from_env()
    if args.schedule_only:
        run_schedule_only(settings.aws_region, args.schedule_every, stop)
        return
    url = queue_url(settings, settings.inlet_events_queue, stop)
    if url is None:
        return
    import app

    sqs = make_sqs_client(settings)
    pump = Pump(
        sqs,
        url,
        app.handle_bucket_events,
        app.expire_pending_runs,
        schedule_every=args.schedule_every,
        wait_seconds=args.wait_seconds,
        receivers=args.receivers,
    )
    logger.info("pumping bucket events", extra={"queue_url": url, "receivers": args.receivers})
    stored_runs = threading.Thread(
        target=pump_stored_runs,
        args=(settings, sqs, args.wait_seconds, stop),
        name="inlet-pump-stored-runs",
        daemon=True,
    )
    stored_runs.start()
    pump.run(stop)
    stored_runs.join()


if __name__ == "__main__":
    main()
