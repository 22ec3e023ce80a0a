"""The one S3 interface. Works against AWS, LocalStack and moto (`S3_ENDPOINT_URL`)."""

from __future__ import annotations

import base64
from collections.abc import Generator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from chalicelib.config import Settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

READ_CHUNK = 1024 * 1024
CHECKSUM_HEADER = "x-amz-checksum-sha256"


def make_s3_client(settings: Settings, *, public: bool = False) -> S3Client:
    """An S3 client for the configured endpoint (AWS when none is set). `public=True`: for
    signing URLs that clients use, at S3_PUBLIC_ENDPOINT_URL when that is set."""
    endpoint = (public and settings.s3_public_endpoint_url) or settings.s3_endpoint_url
    options: dict[str, Any] = {
        "region_name": settings.aws_region,
        "signature_version": "s3v4",
        "retries": {"max_attempts": 3, "mode": "standard"},
        "connect_timeout": 5,
        "read_timeout": 60,
    }
    if endpoint:
        # S3-compatible servers want path-style URLs and reject boto3's default CRC checksums.
        options |= {
            "s3": {"addressing_style": "path"},
            "request_checksum_calculation": "when_required",
            "response_checksum_validation": "when_required",
        }
    return boto3.client("s3", endpoint_url=endpoint, config=Config(**options))


@dataclass(frozen=True)
class Presigned:
    url: str
    expires_at: datetime
    # Signed headers the client must send exactly as given (a single PUT's Content-Type, and its
    # x-amz-checksum-sha256 when a checksum was declared).
    headers: dict[str, str] = field(default_factory=dict)


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

    def __init__(
        self,
        client: S3Client,
        bucket: str,
        presign_ttl: int,
        *,
        presigner: S3Client | None = None,
    ) -> None:
        self.client = client
        self.bucket = bucket
        self.presign_ttl = presign_ttl
        # Signs the URLs clients use: the same client, unless clients reach the store elsewhere.
        self.presigner = presigner or client

    def _presign(
        self, operation: str, params: dict[str, Any], headers: dict[str, str] | None = None
    ) -> Presigned:
        expires_at = datetime.now(UTC) + timedelta(seconds=self.presign_ttl)
        url = self.presigner.generate_presigned_url(
            operation, Params={"Bucket": self.bucket, **params}, ExpiresIn=self.presign_ttl
        )
        return Presigned(
            url=url, expires_at=expires_at.replace(microsecond=0), headers=headers or {}
        )

    def presign_put(self, key: str, content_type: str, sha256: str | None = None) -> Presigned:
        """A single PUT. With the declared `sha256` (hex), the checksum is a signed header: the
        bucket refuses the upload unless the bytes hash to it (S3: 400 BadDigest), and refuses
        a request that leaves the header out or changes it (403)."""
        params: dict[str, Any] = {"Key": key, "ContentType": content_type}
        headers = {"Content-Type": content_type}
        if sha256:
            checksum = base64.b64encode(bytes.fromhex(sha256)).decode("ascii")
            params["ChecksumSHA256"] = checksum
            headers[CHECKSUM_HEADER] = checksum
        return self._presign("put_object", params, headers)

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

    def read_range(
        self, key: str, start: int, end: int | None, if_match: str | None = None
    ) -> Generator[bytes, None, None]:
        """Stream bytes `start..end` (inclusive; `end=None` with `start=0`: the whole object, no
        Range header) in chunks, never the whole range at once. With `if_match` (an ETag) the
        bucket answers 412 PreconditionFailed once the object has been replaced."""
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if end is not None or start:
            params["Range"] = f"bytes={start}-{'' if end is None else end}"
        if if_match:
            params["IfMatch"] = if_match
        body = self.client.get_object(**params)["Body"]
        try:
            yield from body.iter_chunks(chunk_size=READ_CHUNK)
        finally:
            body.close()  # a reader that stops early must not leave the connection half read

    def check(self) -> None:
        self.client.head_bucket(Bucket=self.bucket)
