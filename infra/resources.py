"""Creates the cloud resources Inlet needs on an S3-compatible endpoint (moto, LocalStack, MinIO).

One source of truth for local stacks: `make dev`'s embedded emulator and the tests use it.
On AWS the CDK app in `infra/` declares the same resources.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


def upload_cors_rules(origins: Sequence[str]) -> list[dict[str, object]]:
    """Browsers PUT straight to the bucket and must read each part's ETag to complete."""
    return [
        {
            "AllowedOrigins": list(origins) or ["*"],
            "AllowedMethods": ["PUT", "GET", "HEAD"],
            "AllowedHeaders": ["*"],
            "ExposeHeaders": ["ETag"],
            "MaxAgeSeconds": 3000,
        }
    ]


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


def ensure_upload_bucket(
    s3: S3Client, bucket: str, cors_origins: Sequence[str], region: str = "us-east-1"
) -> None:
    ensure_bucket(s3, bucket, region)
    s3.put_bucket_cors(
        Bucket=bucket,
        CORSConfiguration={"CORSRules": upload_cors_rules(cors_origins)},  # type: ignore[typeddict-item]
    )
