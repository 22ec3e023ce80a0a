"""`python -m infra.pump`: the queue pump as a process of its own (the docker compose `pump`
service). `make dev` runs the same `chalicelib.pump.Pump` in a thread of its runner.

It long-polls INLET_EVENTS_QUEUE on S3_ENDPOINT_URL and invokes the app's own Chalice handlers
as Lambda would (bucket events, and the expiry job every `--schedule-every` seconds). With
`--schedule-only` there is no queue (MinIO pushes its events to `POST /v1/bucket-events`): only
the expiry job runs. SIGTERM or Ctrl-C stops it within a poll.
"""

from __future__ import annotations

import argparse
import signal
import threading
from collections.abc import Sequence

from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError

from chalicelib.config import Settings
from chalicelib.logs import logger
from chalicelib.pump import LocalContext, Pump, make_sqs_client, scheduled_event

QUEUE_WAIT_SECONDS = 120


def queue_url(settings: Settings, stop: threading.Event) -> str | None:
    """The events queue's URL, waiting for it to be created (by `python -m infra.init`)."""
    sqs = make_sqs_client(settings)
    for _ in range(QUEUE_WAIT_SECONDS):
        try:
            return sqs.get_queue_url(QueueName=settings.inlet_events_queue)["QueueUrl"]
        except (ClientError, EndpointConnectionError, ConnectionClosedError) as exc:
            logger.info("waiting for the events queue", extra={"error": repr(exc)})
        if stop.wait(1):
            return None
    raise SystemExit(f"the queue {settings.inlet_events_queue} does not exist; run infra.init")


def run_schedule_only(region: str, every: float, stop: threading.Event) -> None:
    import app  # after the environment is complete: the handlers read their settings from it

    while not stop.is_set():
        try:
            app.expire_pending_runs(scheduled_event(region), LocalContext(function_name="schedule"))
        except Exception:
            logger.exception("the expiry job failed; it runs again later")
        stop.wait(every)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m infra.pump", description=__doc__)
    parser.add_argument("--schedule-only", action="store_true", help="no queue: expiry only")
    parser.add_argument("--schedule-every", type=float, default=60.0, help="seconds")
    parser.add_argument("--wait-seconds", type=int, default=5, help="SQS long-poll wait")
    args = parser.parse_args(argv)

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    settings = Settings.from_env()
    if args.schedule_only:
        run_schedule_only(settings.aws_region, args.schedule_every, stop)
        return
    url = queue_url(settings, stop)
    if url is None:
        return
    import app

    pump = Pump(
        make_sqs_client(settings),
        url,
        app.handle_bucket_events,
        app.expire_pending_runs,
        schedule_every=args.schedule_every,
        wait_seconds=args.wait_seconds,
    )
    logger.info("pumping bucket events", extra={"queue_url": url})
    pump.run(stop)


if __name__ == "__main__":
    main()
