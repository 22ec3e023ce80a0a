"""Companion's S3 routes (what Uppy's `@uppy/aws-s3` calls when given a Companion URL), served on
Inlet's runs: each file is a run of one file, with Inlet's key, limits, owner and verification.

Uppy never sends a file's size, and Inlet signs exact sizes: the app adds it to the file's meta
(`metadata[size]`, docs/uppy.md). Responses and errors have Companion's shapes
(packages/@uppy/companion/src/server/controllers/s3.ts).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, TypeVar

from chalice.app import Response
from pydantic import BaseModel, ValidationError

from chalicelib.config import MAX_PARTS, MAX_SINGLE_PUT, MIN_PART_SIZE
from chalicelib.errors import BadRequest, Invalid, NotFound, TooLarge
from chalicelib.runs import visible_file
from chalicelib.schemas import (
    CompanionComplete,
    CompanionCreate,
    CompleteRequest,
    CreateUploadRequest,
    MultipartUpload,
    SignPartsRequest,
)
from chalicelib.uploads import UploadPlan, Uploads

# The size Uppy gives every part but the last: 5 MiB, or more for files over 10,000 parts of it
# (@uppy/aws-s3 MultipartUploader). Inlet signs each part's length, so it must cut the same parts;
# it rounds larger parts up to whole MiB, so Uppy's and Inlet's agree up to this size.
MAX_MULTIPART_SIZE = MAX_PARTS * MIN_PART_SIZE
# A POST carries a file of any size up to S3's single-upload limit; Uppy's multipart uploads are
# in its 5 MiB parts, whatever Inlet's own threshold and part size, and it asks for each part's
# URL itself (none are signed with the run).
POST_PLAN = UploadPlan(threshold=MAX_SINGLE_PUT, part_size=MIN_PART_SIZE, first_urls=0)
UPPY_PARTS = UploadPlan(threshold=0, part_size=MIN_PART_SIZE, first_urls=0)
KEY = re.compile(r"runs/(?P<run_id>[^/]+)/(?P<file_id>[^/]+)/[^/]+")
Model = TypeVar("Model", bound=BaseModel)


def companion_error(response: Response) -> Response:
    """An error response of Inlet's (`{"error": {"code", "message"}}`) in Companion's shape,
    `{"error": "..."}`, with the `message` Uppy's client shows the user on a 4xx."""
    if response.status_code < 400:
        return response
    error = json.loads(response.body)["error"]
    response.body = json.dumps(
        {"error": error["message"], "message": error["message"], "code": error["code"]}
    )
    return response


def _metadata(query: Mapping[str, str]) -> dict[str, str]:
    """`metadata[name]=value` query parameters (how Uppy sends a file's meta with a GET)."""
    return {
        name[len("metadata[") : -1]: value
        for name, value in query.items()
        if name.startswith("metadata[") and name.endswith("]")
    }


def _size(metadata: Mapping[str, Any]) -> int:
    raw = str(metadata.get("size", ""))
    if not raw.isascii() or not raw.isdigit():
        raise BadRequest(
            "the file's size must be in its metadata (metadata[size], a whole number of bytes): "
            "Inlet signs uploads of an exact size, and Uppy does not send it on its own"
        )
    if len(raw.lstrip("0")) > 19:  # over any limit; int() refuses over 4,300 digits (a 500)
        raise TooLarge(f"a size of {len(raw)} digits is over every limit")
    return int(raw)


def _validated(model: type[Model], data: dict[str, Any]) -> Model:
    """`data` as Inlet's request `model`: 422 when invalid, as a `/v1` body would be."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        summary = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise Invalid(f"invalid request: {summary}") from None


def _part_number(raw: str) -> int:
    """A part number as Uppy writes it (its range is checked against the file's parts)."""
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 5):
        raise BadRequest(f"{raw[:20]!r} is not a part number; part numbers are 1 to {MAX_PARTS}")
    return int(raw)


class Companion:
    """Companion's S3 operations on Inlet's uploads. Uppy names an upload by its key and upload
    id; the key (`runs/{run}/{file}/{name}`) names the run and file, whose owner is checked."""

    def __init__(self, uploads: Uploads) -> None:
        self.uploads = uploads
        self.db, self.storage, self.settings = uploads.db, uploads.storage, uploads.settings

    def _request(
        self, filename: str, content_type: str, size: int, metadata: Mapping[str, Any]
    ) -> CreateUploadRequest:
        """The `POST /v1/uploads` request of a run of this one file: 422 when invalid, before
        any other refusal, as a `/v1` body would be."""
        spec: dict[str, Any] = {"name": filename, "size": size}
        if content_type:
            spec["content_type"] = content_type
        if metadata.get("sha256"):
            spec["sha256"] = metadata["sha256"]
        return _validated(
            CreateUploadRequest,
            {
                "type": metadata.get("runType") or self.settings.inlet_default_run_type,
                "label": metadata.get("label") or None,
                "files": [spec],
            },
        )

    def params(self, query: Mapping[str, str] | None, owner: str | None) -> dict[str, Any]:
        """`GET s3/params`: a presigned POST for a new run of one file."""
        query = query or {}
        metadata = _metadata(query)
        size = _size(metadata)
        request = self._request(query.get("filename", ""), query.get("type", ""), size, metadata)
        if size > MAX_SINGLE_PUT:
            raise TooLarge(
                f"a single POST carries at most {MAX_SINGLE_PUT} bytes; upload this file in parts"
            )
        file = self.uploads.create(request, owner, POST_PLAN).files[0]
        post = self.storage.presign_post(
            file.key, file.size_bytes, file.content_type, file.declared_sha256
        )
        return {
            "method": "POST",
            "url": post.url,
            "fields": post.fields,
            "expires": self.storage.presign_ttl,
        }

    def create_multipart(self, body: CompanionCreate, owner: str | None) -> dict[str, Any]:
        """`POST s3/multipart`: a new run of one file, uploaded in Uppy's parts."""
        size = _size(body.metadata)
        request = self._request(body.filename, body.type, size, body.metadata)
        if size == 0:
            raise BadRequest("an empty file has no parts; upload it with a POST (s3/params)")
        if size > MAX_MULTIPART_SIZE:
            raise TooLarge(
                f"files above {MAX_MULTIPART_SIZE} bytes are cut by Uppy in parts that Inlet does "
                "not sign; upload them with Inlet's own API"
            )
        file = self.uploads.create(request, owner, UPPY_PARTS).files[0]
        assert isinstance(file.upload, MultipartUpload)
        return {"key": file.key, "uploadId": file.upload.upload_id, "bucket": self.storage.bucket}

    def _locate(
        self, upload_id: str, query: Mapping[str, str] | None, owner: str | None
    ) -> tuple[str, str, str]:
        """The key (`?key=`), run and file ids of the multipart upload `upload_id`, of `owner`."""
        key = (query or {}).get("key", "")
        if not key:
            raise BadRequest("the object key must be passed as a query parameter (?key=...)")
        found = KEY.fullmatch(key)
        if found is None:
            raise NotFound(f"no upload at key {key!r}")
        run_id, file_id = found["run_id"], found["file_id"]
        with self.db.session() as session:
            file = visible_file(session, run_id, file_id, owner)
            if file.object_key != key or file.multipart_upload_id != upload_id:
                raise NotFound(f"no upload {upload_id!r} at key {key!r}")
        return key, run_id, file_id

    def list_parts(
        self, upload_id: str, query: Mapping[str, str] | None, owner: str | None
    ) -> list[dict[str, Any]]:
        """`GET s3/multipart/{uploadId}`: the parts in the bucket, as S3's `Part` objects."""
        _, run_id, file_id = self._locate(upload_id, query, owner)
        parts = self.uploads.list_parts(run_id, file_id, owner).parts
        return [{"PartNumber": p.part_number, "ETag": p.etag, "Size": p.size} for p in parts]

    def _sign(
        self,
        upload_id: str,
        query: Mapping[str, str] | None,
        numbers: list[int],
        owner: str | None,
    ) -> dict[int, str]:
        _, run_id, file_id = self._locate(upload_id, query, owner)
        request = _validated(SignPartsRequest, {"part_numbers": numbers})
        signed = self.uploads.sign_parts(run_id, file_id, request, owner).parts
        return {part.part_number: part.url for part in signed}

    def sign_part(
        self, upload_id: str, number: str, query: Mapping[str, str] | None, owner: str | None
    ) -> dict[str, Any]:
        """`GET s3/multipart/{uploadId}/{partNumber}`: one part's URL (its length is signed)."""
        part = _part_number(number)
        url = self._sign(upload_id, query, [part], owner)[part]
        return {"url": url, "expires": self.storage.presign_ttl}

    def sign_batch(
        self, upload_id: str, query: Mapping[str, str] | None, owner: str | None
    ) -> dict[str, Any]:
        """`GET s3/multipart/{uploadId}/batch?partNumbers=1,2`: several parts' URLs."""
        numbers = [_part_number(n) for n in (query or {}).get("partNumbers", "").split(",")]
        urls = self._sign(upload_id, query, numbers, owner)
        return {"presignedUrls": {str(number): url for number, url in urls.items()}}

    def complete(
        self,
        upload_id: str,
        query: Mapping[str, str] | None,
        body: CompanionComplete,
        owner: str | None,
    ) -> dict[str, Any]:
        """`POST s3/multipart/{uploadId}/complete`: the run turns `stored` once the bucket's event
        is processed and the bytes verified, as for `/v1` uploads."""
        key, run_id, file_id = self._locate(upload_id, query, owner)
        parts = sorted(body.parts, key=lambda p: p.PartNumber)
        request = _validated(
            CompleteRequest,
            {"parts": [{"part_number": p.PartNumber, "etag": p.ETag} for p in parts]},
        )
        self.uploads.complete(run_id, file_id, request, owner)
        return {"location": self.storage.object_url(key), "key": key, "bucket": self.storage.bucket}

    def abort(
        self, upload_id: str, query: Mapping[str, str] | None, owner: str | None
    ) -> dict[str, Any]:
        """`DELETE s3/multipart/{uploadId}`: the file's run is cancelled, its upload aborted."""
        _, run_id, _ = self._locate(upload_id, query, owner)
        self.uploads.cancel(run_id, owner)
        return {}
