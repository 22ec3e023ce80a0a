"""The one S3 interface. Works against AWS, LocalStack and moto (`S3_ENDPOINT_URL`)."""

from __future__ import annotations

import base64
import re
import time
import unicodedata
from collections.abc import Generator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from chalicelib.config import Settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

READ_CHUNK = 1024 * 1024
CHECKSUM_HEADER = "x-amz-checksum-sha256"
IF_NONE_MATCH = "If-None-Match"
# The empty object that closes a single-PUT key of a cancelled or expired run
# (`Storage.write_tombstone`): what a HEAD of it shows (metadata `x-amz-meta-inlet-tombstone`).
TOMBSTONE_CONTENT_TYPE = "application/x-inlet-tombstone"
TOMBSTONE_METADATA = {"inlet-tombstone": "closed"}
TOMBSTONE_ATTEMPTS = 3


# Connections a client keeps to the bucket: the most requests Inlet makes at once (botocore's
# default is 10; a run's multipart uploads are created BUCKET_CONNECTIONS at a time).
BUCKET_CONNECTIONS = 20


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
        "max_pool_connections": BUCKET_CONNECTIONS,
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
class PresignedPost:
    """A browser form upload (S3 POST Object): send `fields`, then the file, to `url`."""

    url: str
    fields: dict[str, str]


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
    # The version described (None on a store that keeps no versions, and for S3's "null"
    # version: an object written before versioning was enabled).
    version_id: str | None = None


@dataclass(frozen=True)
class DeleteMarker:
    """What a versioned bucket holds at a deleted key: a marker, a version of its own."""

    version_id: str | None


def _version(value: str | None) -> str | None:
    """S3 spells "no version" as an absent header or as the version "null"."""
    return None if value in (None, "", "null") else value


def s3_checksum(sha256: str) -> str:
    """A hex SHA-256 as S3 takes it in `x-amz-checksum-sha256`: the digest in base64."""
    return base64.b64encode(bytes.fromhex(sha256)).decode("ascii")


def attachment_disposition(name: str) -> str:
    """`Content-Disposition: attachment` naming the file by the last segment of `name` (RFC 6266
    4.3: a recipient must not be told a folder to write to): `filename*` carries it exactly,
    UTF-8 percent-encoded (RFC 5987); `filename`, for clients that ignore `filename*`, an ASCII
    stand-in with `_` for every other character and for `"`, `\\` and `%` (some clients take
    `%XX` there for an escape, RFC 6266 appendix D)."""
    base = re.split(r"[/\\]", name)[-1] or "file"
    fallback = "".join(
        ch if " " <= ch <= "~" and ch not in '"\\%' else "_"
        for ch in unicodedata.normalize("NFKD", base)
        if not unicodedata.combining(ch)  # é -> e, not e_
    )
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(base, safe='')}"


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
        self,
        operation: str,
        params: dict[str, Any],
        headers: dict[str, str] | None = None,
        ttl: int | None = None,
    ) -> Presigned:
        """`ttl`: seconds the URL lives (the upload URLs' `presign_ttl` when None)."""
        ttl = self.presign_ttl if ttl is None else ttl
        expires_at = datetime.now(UTC) + timedelta(seconds=ttl)
        url = self.presigner.generate_presigned_url(
            operation, Params={"Bucket": self.bucket, **params}, ExpiresIn=ttl
        )
        return Presigned(
            url=url, expires_at=expires_at.replace(microsecond=0), headers=headers or {}
        )

    def presign_put(
        self, key: str, content_type: str, size: int, sha256: str | None = None
    ) -> Presigned:
        """A single PUT of exactly `size` bytes that only creates: `Content-Length` and
        `If-None-Match: *` are signed headers, so a signature-checking bucket refuses another
        length (403) and any PUT once an object is at the key (412): a second PUT through the
        URL, or one after the run was closed (`write_tombstone`). With the declared `sha256`
        (hex), the checksum is signed too: the bucket refuses the upload unless the bytes hash
        to it (S3: 400 BadDigest). A request that leaves out or changes a signed header is
        refused (403). `Content-Disposition: attachment` is signed and stored with the object,
        so a GET of an upload downloads it instead of rendering it (an uploaded HTML page never
        runs on the bucket's origin: docs/security.md, "Origins and the token")."""
        params: dict[str, Any] = {
            "Key": key,
            "ContentType": content_type,
            "ContentLength": size,
            "ContentDisposition": "attachment",
            "IfNoneMatch": "*",
        }
        # Content-Length is signed too, but every HTTP client sends it itself.
        headers = {
            "Content-Type": content_type,
            "Content-Disposition": "attachment",
            IF_NONE_MATCH: "*",
        }
        if sha256:
            params["ChecksumSHA256"] = headers[CHECKSUM_HEADER] = s3_checksum(sha256)
        return self._presign("put_object", params, headers)

    def presign_post(
        self, key: str, size: int, content_type: str, sha256: str | None, ttl: int | None = None
    ) -> PresignedPost:
        """A POST policy for exactly this upload: the key, a length of exactly `size`
        (`content-length-range`), the content type and `Content-Disposition: attachment` (as a
        single PUT signs them), and the declared `sha256` (hex) as the `x-amz-checksum-sha256`
        field, which S3 checks against the bytes. Every field is pinned by an exact condition: a
        form that changes one is refused (403). Unlike the PUT URL, it signs no If-None-Match: *:
        the policy stays usable until it expires (`ttl` seconds; `presign_ttl` when None)."""
        ttl = self.presign_ttl if ttl is None else ttl
        fields = {
            "Content-Type": content_type,
            "Content-Disposition": "attachment",
            # S3 answers 201 with the object's Location and ETag (what Companion asks for).
            "success_action_status": "201",
        }
        if sha256:
            # The algorithm field too: a store may check the checksum field only with it
            # (LocalStack does).
            fields["x-amz-checksum-algorithm"] = "SHA256"
            fields[CHECKSUM_HEADER] = s3_checksum(sha256)
        conditions: list[Any] = [{name: value} for name, value in fields.items()]
        conditions.append(["content-length-range", size, size])
        post = self.presigner.generate_presigned_post(
            self.bucket, key, Fields=fields, Conditions=conditions, ExpiresIn=ttl
        )
        return PresignedPost(url=post["url"], fields=post["fields"])

    def object_url(self, key: str) -> str:
        """Where the object is in the bucket, as S3 names it in a response's `Location` (not
        readable without a signature: downloads go through Inlet)."""
        endpoint = self.presigner.meta.endpoint_url.rstrip("/")
        return f"{endpoint}/{self.bucket}/{quote(key)}"

    def presign_get(self, key: str, version_id: str | None, filename: str, ttl: int) -> Presigned:
        """A GET of exactly the version `version_id` of `key` (the current object when None: a
        store without versions), living `ttl` seconds. The bucket answers it with
        `Content-Disposition: attachment` under `filename` (`attachment_disposition`): the
        override is a query parameter, signed like the rest, so it cannot be changed either."""
        params: dict[str, Any] = {
            "Key": key,
            "ResponseContentDisposition": attachment_disposition(filename),
        }
        if version_id is not None:
            params["VersionId"] = version_id
        return self._presign("get_object", params, ttl=ttl)

    def create_multipart(self, key: str, content_type: str) -> str:
        """The object it completes is stored as an attachment, like a single PUT's."""
        response = self.client.create_multipart_upload(
            Bucket=self.bucket, Key=key, ContentType=content_type, ContentDisposition="attachment"
        )
        return response["UploadId"]

    def presign_part(self, key: str, upload_id: str, part_number: int, size: int) -> Presigned:
        """One part of exactly `size` bytes (a signed `Content-Length`: another length is 403).
        A part cannot carry If-None-Match; completing does (`complete_multipart`)."""
        return self._presign(
            "upload_part",
            {"Key": key, "UploadId": upload_id, "PartNumber": part_number, "ContentLength": size},
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
        """Complete, only if no object is at the key (If-None-Match: *): otherwise the bucket
        answers 412 PreconditionFailed and the upload stays open."""
        response = self.client.complete_multipart_upload(
            Bucket=self.bucket,
            Key=key,
            UploadId=upload_id,
            MultipartUpload={"Parts": [{"PartNumber": n, "ETag": etag} for n, etag in parts]},
            IfNoneMatch="*",
        )
        return response.get("ETag", "")

    def write_tombstone(self, key: str) -> bool:
        """Close a single-PUT key whose run will take no upload: put an empty object there
        unless one is there already (If-None-Match: *). A still-valid URL for the key signs
        If-None-Match: *, so a PUT through it then gets 412. True when written, False when the
        key held an object. S3 answers 409 ConditionalRequestConflict while another conditional
        write to the key is in flight (a client's PUT): asked again, one of the two has won."""
        attempt = 1
        while True:
            try:
                self.client.put_object(
                    Bucket=self.bucket,
                    Key=key,
                    Body=b"",
                    ContentType=TOMBSTONE_CONTENT_TYPE,
                    Metadata=TOMBSTONE_METADATA,
                    IfNoneMatch="*",
                )
                return True
            except ClientError as exc:
                code = error_code(exc)
                if code == "PreconditionFailed":
                    return False
                if code != "ConditionalRequestConflict" or attempt >= TOMBSTONE_ATTEMPTS:
                    raise
            time.sleep(0.2 * attempt)
            attempt += 1

    def abort_multipart(self, key: str, upload_id: str) -> None:
        """Abort; an upload that is already gone counts as aborted."""
        try:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
        except ClientError as exc:
            if error_code(exc) != "NoSuchUpload":
                raise

    def head(self, key: str) -> ObjectInfo | None:
        """Size, ETag, content type and version of an object, or None when it does not exist
        (a delete marker included)."""
        found = self.head_version(key)
        return found if isinstance(found, ObjectInfo) else None

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

    def read_version(
        self, key: str, version_id: str, start: int, end: int | None
    ) -> Generator[bytes, None, None]:
        """`read_range` of one version of the object: its bytes whatever was written or deleted
        over the key since (a version never changes). A version that is gone: 404 NoSuchVersion."""
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": key, "VersionId": version_id}
        if end is not None or start:
            params["Range"] = f"bytes={start}-{'' if end is None else end}"
        body = self.client.get_object(**params)["Body"]
        try:
            yield from body.iter_chunks(chunk_size=READ_CHUNK)
        finally:
            body.close()

    def head_version(
        self, key: str, version_id: str | None = None
    ) -> ObjectInfo | DeleteMarker | None:
        """What the bucket holds at `key` now (or as the version `version_id`): an object, a
        delete marker, or None (no such key, or no such version)."""
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if version_id is not None:
            params["VersionId"] = version_id
        try:
            response = self.client.head_object(**params)
        except ClientError as exc:
            # A delete marker: 404 as the current version, 405 when asked for by its id.
            headers = exc.response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
            if headers.get("x-amz-delete-marker") == "true":
                return DeleteMarker(_version(headers.get("x-amz-version-id")))
            # Some stores (LocalStack) answer 405 for a marker's id without the header.
            if version_id is not None and error_code(exc) in ("405", "MethodNotAllowed"):
                return DeleteMarker(_version(version_id))
            if error_code(exc) in ("404", "NoSuchKey", "NotFound", "NoSuchVersion"):
                return None
            raise
        return ObjectInfo(
            size=response["ContentLength"],
            etag=response["ETag"],
            content_type=response.get("ContentType"),
            version_id=_version(response.get("VersionId")),
        )

    def check(self) -> None:
        self.client.head_bucket(Bucket=self.bucket)

    # --- the scheduled job (chalicelib/maintenance.py) -------------------------------------

    def upload_arrived_at(self, key: str) -> datetime | None:
        """When an upload's bytes landed at `key` (the object's LastModified), or None when no
        upload is there: no object, a delete marker, or a run's closing placeholder."""
        try:
            response = self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if error_code(exc) in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        placeholder = (
            response.get("ContentLength") == 0
            and response.get("ContentType") == TOMBSTONE_CONTENT_TYPE
            and response.get("Metadata", {}).items() >= TOMBSTONE_METADATA.items()
        )
        return None if placeholder else response["LastModified"]

    def purge_prefix(self, prefix: str) -> tuple[int, int]:
        """Delete every version and every delete marker under `prefix` (a versioned bucket keeps
        what was overwritten or deleted as noncurrent versions): how many, and their bytes.
        Raises when the bucket refuses to delete any of them (e.g. Object Lock retention)."""
        found: list[tuple[str, str, int]] = []
        paginator = self.client.get_paginator("list_object_versions")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            for version in page.get("Versions", []):
                found.append((version["Key"], version["VersionId"], version.get("Size", 0)))
            for marker in page.get("DeleteMarkers", []):
                found.append((marker["Key"], marker["VersionId"], 0))
        most = 1000  # DeleteObjects takes at most 1,000 keys a request
        for start in range(0, len(found), most):
            batch = found[start : start + most]
            response = self.client.delete_objects(
                Bucket=self.bucket,
                Delete={
                    "Objects": [{"Key": key, "VersionId": version} for key, version, _ in batch],
                    "Quiet": True,
                },
            )
            errors = response.get("Errors", [])
            if errors:
                first = errors[0]
                raise RuntimeError(
                    f"the bucket kept {len(errors)} of {len(batch)} versions under {prefix}: "
                    f"{first.get('Code')} {first.get('Message')} ({first.get('Key')})"
                )
        return len(found), sum(size for _, _, size in found)
