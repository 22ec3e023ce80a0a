"""The one S3 interface. Works against AWS, LocalStack and moto (`S3_ENDPOINT_URL`)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from chalicelib.config import Settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


def make_s3_client(settings: Settings) -> S3Client:
    """An S3 client for the configured endpoint (AWS when none is set)."""
    options: dict[str, Any] = {
        "region_name": settings.aws_region,
        "signature_version": "s3v4",
        "retries": {"max_attempts": 3, "mode": "standard"},
        "connect_timeout": 5,
        "read_timeout": 60,
    }
    if settings.s3_endpoint_url:
        # S3-compatible servers want path-style URLs and reject boto3's default CRC checksums.
        options |= {
            "s3": {"addressing_style": "path"},
            "request_checksum_calculation": "when_required",
            "response_checksum_validation": "when_required",
        }
    return boto3.client("s3", endpoint_url=settings.s3_endpoint_url, config=Config(**options))


@dataclass(frozen=True)
class Presigned:
    url: str
    expires_at: datetime


@dataclass(frozen=True)
class Part:
    part_number: int
    etag: str
    size: int


@dataclass(frozen=True)
class ObjectInfo:
    size: int
    etag: str
    content_type: str | None


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class Storage:
    """One bucket. Methods take object keys the server chose; clients never pick keys."""

    def __init__(self, client: S3Client, bucket: str, presign_ttl: int) -> None:
        self.client = client
        self.bucket = bucket
        self.presign_ttl = presign_ttl

    def _presign(self, operation: str, params: dict[str, Any]) -> Presigned:
        expires_at = datetime.now(UTC) + timedelta(seconds=self.presign_ttl)
        url = self.client.generate_presigned_url(
            operation, Params={"Bucket": self.bucket, **params}, ExpiresIn=self.presign_ttl
        )
        return Presigned(url=url, expires_at=expires_at.replace(microsecond=0))

    def presign_put(self, key: str, content_type: str) -> Presigned:
        return self._presign("put_object", {"Key": key, "ContentType": content_type})

    def create_multipart(self, key: str, content_type: str) -> str:
        response = self.client.create_multipart_upload(
            Bucket=self.bucket, Key=key, ContentType=content_type
        )
        return response["UploadId"]

    def presign_part(self, key: str, upload_id: str, part_number: int) -> Presigned:
        return self._presign(
            "upload_part", {"Key": key, "UploadId": upload_id, "PartNumber": part_number}
        )

    def list_parts(self, key: str, upload_id: str) -> list[Part]:
        parts: list[Part] = []
        paginator = self.client.get_paginator("list_parts")
        for page in paginator.paginate(Bucket=self.bucket, Key=key, UploadId=upload_id):
            parts.extend(
                Part(part_number=p["PartNumber"], etag=p["ETag"], size=p["Size"])
                for p in page.get("Parts", [])
            )
        return parts

    def complete_multipart(self, key: str, upload_id: str, parts: list[tuple[int, str]]) -> str:
        response = self.client.complete_multipart_upload(
            Bucket=self.bucket,
            Key=key,
            UploadId=upload_id,
            MultipartUpload={"Parts": [{"PartNumber": n, "ETag": etag} for n, etag in parts]},
        )
        return response.get("ETag", "")

    def abort_multipart(self, key: str, upload_id: str) -> None:
        """Abort; an upload that is already gone counts as aborted."""
        try:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
        except ClientError as exc:
            if error_code(exc) != "NoSuchUpload":
                raise

    def head(self, key: str) -> ObjectInfo | None:
        """Size, ETag and content type of an object, or None when it does not exist."""
        try:
            response = self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if error_code(exc) in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return ObjectInfo(
            size=response["ContentLength"],
            etag=response["ETag"],
            content_type=response.get("ContentType"),
        )

    def read_range(self, key: str, start: int, end: int) -> Iterator[bytes]:
        """Stream bytes `start..end` (inclusive) of an object in chunks, never the whole range."""
        response = self.client.get_object(Bucket=self.bucket, Key=key, Range=f"bytes={start}-{end}")
        yield from response["Body"].iter_chunks(chunk_size=1024 * 1024)

    def check(self) -> None:
        self.client.head_bucket(Bucket=self.bucket)
