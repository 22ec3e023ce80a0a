"""Creates the cloud resources Inlet needs on an S3-compatible endpoint (moto, LocalStack, MinIO).

One source of truth for local stacks: `make dev`'s embedded emulator and the tests use it.
On AWS the CDK app in `infra/` declares the same resources.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import boto3
from botocore.exceptions import ClientError

from chalicelib.bucket import EVENT_PREFIXES, QUEUE_EVENTS, upload_cors_rules
from chalicelib.config import Settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.literals import EventType
    from mypy_boto3_s3.type_defs import QueueConfigurationTypeDef
    from mypy_boto3_sqs import SQSClient


def make_sqs_client(settings: Settings) -> SQSClient:
    """SQS on the same endpoint as the bucket (moto and LocalStack serve both)."""
    return boto3.client(
        "sqs", endpoint_url=settings.s3_endpoint_url, region_name=settings.aws_region
    )


def ensure_bucket(s3: S3Client, bucket: str, region: str = "us-east-1") -> None:
    try:
        if region == "us-east-1":
            s3.create_bucket(Bucket=bucket)
        else:
            s3.create_bucket(
                Bucket=bucket,
                CreateBucketConfiguration={"LocationConstraint": region},  # type: ignore[typeddict-item]
            )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in (
            "BucketAlreadyOwnedByYou",
            "BucketAlreadyExists",
        ):
            raise


@dataclass(frozen=True)
class UploadBucket:
    """What the server let `ensure_upload_bucket` configure."""

    versioned: bool  # False: no versioning API (MinIO in its old FS mode: docs/minio.md)
    cors: bool  # False: no bucket CORS (MinIO: MINIO_API_CORS_ALLOW_ORIGIN instead)


def _unless_not_implemented(configure: Callable[[], object]) -> bool:
    """Run a bucket configuration call; False when the server does not implement it."""
    try:
        configure()
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "NotImplemented":
            raise
        return False
    return True


def ensure_upload_bucket(
    s3: S3Client, bucket: str, cors_origins: Sequence[str], region: str = "us-east-1"
) -> UploadBucket:
    """The upload bucket, versioned (a stored file's recorded version stays readable whatever is
    written or deleted over its key: docs/events.md), with its CORS rule. MinIO answers
    PutBucketCors with NotImplemented, and so do servers without versioning for
    PutBucketVersioning: both are reported, not raised."""
    ensure_bucket(s3, bucket, region)
    versioned = _unless_not_implemented(
        lambda: s3.put_bucket_versioning(
            Bucket=bucket, VersioningConfiguration={"Status": "Enabled"}
        )
    )
    rules = upload_cors_rules(cors_origins)
    if rules:
        cors = _unless_not_implemented(
            lambda: s3.put_bucket_cors(
                Bucket=bucket,
                CORSConfiguration={"CORSRules": rules},  # type: ignore[typeddict-item]
            )
        )
    else:  # no origin configured: no browser may upload (S3 refuses an empty rule list)
        cors = _unless_not_implemented(lambda: s3.delete_bucket_cors(Bucket=bucket))
    return UploadBucket(versioned=versioned, cors=cors)


@dataclass(frozen=True)
class EventQueue:
    """A queue and its dead-letter queue: the bucket-events queue, or the processing queue."""

    url: str
    arn: str
    dead_letter_url: str
    dead_letter_arn: str


def _queue(sqs: SQSClient, name: str, attributes: dict[str, str]) -> tuple[str, str]:
    """Create or update a queue; its URL and ARN."""
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    if attributes:
        sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)  # type: ignore[arg-type]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    return url, arn["QueueArn"]


def ensure_queue(
    sqs: SQSClient, queue_name: str, max_receives: int = 5, visibility_timeout: int = 30
) -> EventQueue:
    """A queue with its dead-letter queue `<queue_name>-dlq` (a message lands there after
    `max_receives` failed deliveries, and is kept 14 days). Idempotent."""
    dlq_url, dlq_arn = _queue(sqs, f"{queue_name}-dlq", {"MessageRetentionPeriod": "1209600"})
    redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receives)}
    url, arn = _queue(
        sqs,
        queue_name,
        {"RedrivePolicy": json.dumps(redrive), "VisibilityTimeout": str(visibility_timeout)},
    )
    return EventQueue(url=url, arn=arn, dead_letter_url=dlq_url, dead_letter_arn=dlq_arn)


def ensure_event_queue(
    s3: S3Client,
    sqs: SQSClient,
    bucket: str,
    queue_name: str,
    max_receives: int = 5,
    visibility_timeout: int = 30,
) -> EventQueue:
    """The bucket-events queue with its dead-letter queue, and the bucket's notification of
    every object created or removed under `runs/` and `inbox/` to it. Idempotent."""
    queue = ensure_queue(sqs, queue_name, max_receives, visibility_timeout)
    ensure_bucket_notification(s3, bucket, queue.arn)
    return queue


def ensure_bucket_notification(
    s3: S3Client, bucket: str, target_arn: str, events: Sequence[str] = QUEUE_EVENTS
) -> None:
    """Notify `target_arn` (an SQS queue, or a MinIO target such as
    `arn:minio:sqs::INLET:webhook`) of `events` (objects created and removed) under `runs/` and
    `inbox/`. Replaces the bucket's notification configuration: idempotent."""
    rules: list[QueueConfigurationTypeDef] = [
        {
            "Id": f"inlet-{prefix.rstrip('/')}",
            "QueueArn": target_arn,
            "Events": [cast("EventType", name) for name in events],
            "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": prefix}]}},
        }
        for prefix in EVENT_PREFIXES
    ]
    s3.put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration={"QueueConfigurations": rules}
    )
