"""`python -m local.init`: create the cloud resources Inlet needs on the configured endpoint.

The one entry point to `local/resources.py` for every local stack: `make dev`'s embedded moto
server, the docker compose stack (LocalStack, or MinIO with `--notify webhook`), and any
S3-compatible endpoint named by S3_ENDPOINT_URL. Idempotent: run it as often as you like.

- the upload bucket (INLET_BUCKET), versioned, with its CORS rule (INLET_CORS_ORIGINS; browsers
  PUT straight to the bucket and read each part's ETag);
- `--notify sqs` (default): the events queue (INLET_EVENTS_QUEUE), its dead-letter queue
  (INLET_MAX_RECEIVES) and the bucket notification of `runs/` and `inbox/` (objects created and
  removed) to the queue; and the processing queue (INLET_PROCESSING_QUEUE) with its own
  dead-letter queue, which stored runs' events are sent to (chalicelib/outbox.py);
- `--notify webhook`: the bucket notification to a MinIO webhook target instead
  (`--webhook-arn`, default `arn:minio:sqs::INLET:webhook`; see docs/minio.md);
- `--migrate`: create the Postgres database of DATABASE_URL when it is missing, then apply
  the migrations (for stacks without their own migration step).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, TypeVar

from botocore.exceptions import ConnectionClosedError, EndpointConnectionError

from chalicelib.bucket import WEBHOOK_EVENTS
from chalicelib.config import Settings
from chalicelib.migrate import upgrade_url
from chalicelib.storage import make_s3_client
from local.resources import (
    EventQueue,
    ensure_bucket_notification,
    ensure_event_queue,
    ensure_queue,
    ensure_upload_bucket,
    make_sqs_client,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient

# MinIO names a webhook target `arn:minio:sqs:<region>:<ID>:webhook`, <ID> being the suffix of
# its MINIO_NOTIFY_WEBHOOK_*_<ID> variables; the region is empty unless MINIO_REGION is set.
MINIO_WEBHOOK_ARN = "arn:minio:sqs::INLET:webhook"
Notify = Literal["sqs", "webhook", "none"]
T = TypeVar("T")
# A message of the processing queue stays invisible this long while the pump processes it (one
# at a time: local/pump.py), and a failed one comes back after it. AWS: 6 x the 900 s timeout.
PROCESSING_VISIBILITY_SECONDS = 300


@dataclass(frozen=True)
class Resources:
    bucket: str
    cors: bool  # False: the server has no bucket CORS (MinIO: MINIO_API_CORS_ALLOW_ORIGIN)
    queue: EventQueue | None
    notify_target: str | None
    versioned: bool = True  # False: no versioning API; enable it yourself (docs/minio.md)
    processing: EventQueue | None = None  # with `sqs` only: the other servers have no SQS


def init_resources(
    settings: Settings,
    *,
    notify: Notify = "sqs",
    webhook_arn: str = MINIO_WEBHOOK_ARN,
    s3: S3Client | None = None,
    sqs: SQSClient | None = None,
) -> Resources:
    """Bucket, CORS, and the bucket's notifications (for `sqs`: the events queue, and the
    processing queue, each with its dead-letter queue)."""
    s3 = s3 or make_s3_client(settings)
    bucket = ensure_upload_bucket(
        s3, settings.inlet_bucket, settings.inlet_cors_origins, settings.aws_region
    )
    queue: EventQueue | None = None
    processing: EventQueue | None = None
    target: str | None = None
    if notify == "sqs":
        sqs = sqs or make_sqs_client(settings)
        queue = ensure_event_queue(
            s3,
            sqs,
            settings.inlet_bucket,
            settings.inlet_events_queue,
            settings.inlet_max_receives,
        )
        processing = ensure_queue(
            sqs,
            settings.inlet_processing_queue,
            settings.inlet_max_receives,
            PROCESSING_VISIBILITY_SECONDS,
        )
        target = queue.arn
    elif notify == "webhook":
        ensure_bucket_notification(s3, settings.inlet_bucket, webhook_arn, WEBHOOK_EVENTS)
        target = webhook_arn
    return Resources(
        settings.inlet_bucket, bucket.cors, queue, target, bucket.versioned, processing
    )


def ensure_database(database_url: str) -> bool:
    """Create the Postgres database of `database_url` when it does not exist; True if created.
    SQLite files are created on first connect: nothing to do."""
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    if not url.get_backend_name().startswith("postgresql") or not url.database:
        return False
    import psycopg
    from psycopg import sql

    admin = url.set(drivername="postgresql", database="postgres")
    conninfo = admin.render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True, connect_timeout=10) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (url.database,))
        if exists.fetchone():
            return False
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(url.database)))
    return True


def retrying(action: Callable[[], T], seconds: float, what: str) -> T:
    """Run `action`, again and again while the endpoint does not answer (a stack starting up)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return action()
        except (EndpointConnectionError, ConnectionClosedError) as exc:
            if time.monotonic() >= deadline:
                raise SystemExit(f"{what} did not answer within {seconds:.0f} s: {exc}") from None
            time.sleep(1)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m local.init", description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument("--notify", choices=["sqs", "webhook", "none"], default="sqs")
    parser.add_argument("--webhook-arn", default=MINIO_WEBHOOK_ARN)
    parser.add_argument("--migrate", action="store_true", help="create the database, migrate")
    parser.add_argument("--wait", type=float, default=60, help="seconds to wait for the endpoint")
    args = parser.parse_args(argv)

    settings = Settings.from_env()
    endpoint = settings.s3_endpoint_url or f"AWS ({settings.aws_region})"
    made = retrying(
        lambda: init_resources(settings, notify=args.notify, webhook_arn=args.webhook_arn),
        args.wait,
        endpoint,
    )
    cors = "CORS for " + (
        ", ".join(settings.inlet_cors_origins) or "no origin (no browser uploads)"
    )
    if not made.cors:
        cors = "no bucket CORS on this server (MinIO: MINIO_API_CORS_ALLOW_ORIGIN)"
    lines = [f"Inlet resources on {endpoint}", f"  bucket        {made.bucket}  ({cors})"]
    if not made.versioned:
        lines.append(
            "  versioning    NOT ENABLED: this server has no versioning API; enable it yourself"
            " (MinIO: mc version enable ALIAS/BUCKET), or stored files are not protected"
        )
    if made.queue is not None:
        lines.append(f"  events queue  {made.queue.url}")
        lines.append(f"  dead letters  {made.queue.dead_letter_url}")
    if made.processing is not None:
        lines.append(f"  processing    {made.processing.url}")
        lines.append(f"  dead letters  {made.processing.dead_letter_url}")
    lines.append(f"  notifications runs/ and inbox/ -> {made.notify_target or 'none'}")
    if args.migrate:
        created = ensure_database(settings.database_url)
        upgrade_url(settings.database_url)
        lines.append(f"  database      {'created and ' if created else ''}migrated to head")
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    main()
