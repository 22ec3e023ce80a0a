"""Companion's S3 routes (what Uppy's `@uppy/aws-s3` calls when given a Companion URL), served on
Inlet's runs, with Inlet's key, limits, owner and verification. A file is a run of one file, or
claims a declared file of a run (docs/uppy.md):
- `metadata[runId]` names a pending run of the token's owner (a batch picked together);
- or Uppy is pointed at a run's own Companion endpoint (`POST /v1/companion/runs`), whose key in
  the path stands for a token: Uppy 6 sends no headers of the app's.

Uppy never sends a file's size, and Inlet signs exact sizes: for a run of one file the app adds it
to the file's meta (`metadata[size]`); a declared file has its size. Responses and errors have
Companion's shapes (packages/@uppy/companion/src/server/controllers/s3.ts).
"""

from __future__ import annotations

import hmac
import json
import re
import secrets
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from chalice.app import Response
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from chalicelib.config import MAX_PARTS, MAX_SINGLE_PUT, MIN_PART_SIZE
from chalicelib.errors import (
    BadRequest,
    FileNotPending,
    Invalid,
    NotFound,
    RunNotPending,
    TooLarge,
    UploadMismatch,
)
from chalicelib.http import RUN_ENDPOINT
from chalicelib.models import File, FileStatus, Run, RunStatus
from chalicelib.runs import parse_run_id, visible, visible_file
from chalicelib.schemas import (
    CompanionComplete,
    CompanionCreate,
    CompanionRunOut,
    CompanionRunRequest,
    CompleteRequest,
    CreateUploadRequest,
    FileOut,
    MultipartUpload,
    SignPartsRequest,
)
from chalicelib.tokens import hash_token
from chalicelib.uploads import UploadPlan, Uploads, choose_part_size

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


@dataclass(frozen=True)
class Caller:
    """Who calls a Companion route: the token's owner (None: authentication is off) and, on a
    run's own endpoint, that run, the only one it may upload to."""

    owner: str | None
    run: str | None = None


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


def _same_name(a: str, b: str) -> bool:
    """Names as people see them: macOS gives a browser `é` as `e` and a combining accent."""
    return unicodedata.normalize("NFC", a) == unicodedata.normalize("NFC", b)


def _uppy_part_size(size: int) -> int:
    """The parts Uppy cuts a file of `size` bytes in, where Inlet can sign them."""
    if size == 0:
        raise BadRequest("an empty file has no parts; upload it with a POST (s3/params)")
    if size > MAX_MULTIPART_SIZE:
        raise TooLarge(
            f"files above {MAX_MULTIPART_SIZE} bytes are cut by Uppy in parts that Inlet does "
            "not sign; upload them with Inlet's own API"
        )
    part_size = choose_part_size(size, UPPY_PARTS)
    assert part_size is not None
    return part_size


def _run_named(metadata: Mapping[str, Any], endpoint_run: str | None) -> str | None:
    """The run a file joins: the endpoint's, or the one its meta names (`runId`)."""
    named = str(metadata.get("runId") or "") or None
    if endpoint_run is not None and named not in (None, endpoint_run):
        raise NotFound(
            f"run {named} not found; this Companion endpoint uploads to run {endpoint_run}"
        )
    return endpoint_run or named


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
    id; the key (`runs/{run}/{file}/{name}`) names the run and file, whose owner is checked.
    Each operation takes its `Caller`."""

    def __init__(self, uploads: Uploads) -> None:
        self.uploads = uploads
        self.db, self.storage, self.settings = uploads.db, uploads.storage, uploads.settings

    def declare(self, request: CompanionRunRequest, owner: str | None) -> CompanionRunOut:
        """`POST /v1/companion/runs`: a pending run of the declared files, planned as Uppy sends
        them (no multipart upload opens until Uppy asks for one), and its Companion endpoint."""
        request = request.model_copy(
            update={"type": request.type or self.settings.inlet_default_run_type}
        )
        key = secrets.token_urlsafe(32)
        created = self.uploads.create(
            request, owner, POST_PLAN, companion_key_sha256=hash_token(key)
        )
        return CompanionRunOut(
            run=created.run,
            files=[FileOut.model_validate(f.model_dump(exclude={"upload"})) for f in created.files],
            companion_endpoint=RUN_ENDPOINT.format(run_id=created.run.id, endpoint_key=key),
        )

    def endpoint_caller(self, run_id: str, key: str) -> Caller:
        """The caller of the run's Companion endpoint with this `key`: as the run's owner, for
        that run only. Any other key: 404."""
        with self.db.session() as session:
            run = session.get(Run, parse_run_id(run_id))
            found = run.companion_key_sha256 if run is not None else None
            if run is None or found is None or not hmac.compare_digest(found, hash_token(key)):
                raise NotFound(f"run {run_id} has no Companion endpoint with this key")
            return Caller(run.owner, run_id)

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

    def _claim(
        self,
        session: Session,
        run_id: str,
        filename: str,
        metadata: Mapping[str, Any],
        owner: str | None,
    ) -> File:
        """The declared file of pending run `run_id` that Uppy's file is, locked: the one its
        meta names (`fileId`), else the one named `filename` (of `metadata[size]` bytes, if
        given). Declared files have their size: the app need not add it."""
        run = visible(session.get(Run, parse_run_id(run_id), with_for_update=True), run_id, owner)
        if run.status != RunStatus.PENDING:
            raise RunNotPending(f"run {run_id} is {run.status}; only pending runs take uploads")
        file_id = str(metadata.get("fileId") or "")
        size = _size(metadata) if metadata.get("size") not in (None, "") else None
        if file_id:
            found = [f for f in run.files if str(f.id) == file_id]
            missing = f"file {file_id} not found in run {run_id}"
        else:
            found = [
                f
                for f in run.files
                if _same_name(f.name, filename) and size in (None, f.size_bytes)
            ]
            of_size = "" if size is None else f" of {size} bytes"
            missing = f"run {run_id} declares no file named {filename!r}{of_size}"
        if not found:
            raise NotFound(missing)
        if len(found) > 1:
            raise BadRequest(
                f"run {run_id} declares {len(found)} files named {filename!r}{of_size}: name "
                "the one this is with metadata[fileId]"
            )
        file = found[0]
        if file.status != FileStatus.PENDING:
            raise FileNotPending(f"file {file.id} of run {run_id} is {file.status} already")
        return file

    def params(self, query: Mapping[str, str] | None, caller: Caller) -> dict[str, Any]:
        """`GET s3/params`: a presigned POST for a declared file, or a new run of one file."""
        query = query or {}
        metadata = _metadata(query)
        filename = query.get("filename", "")
        run = _run_named(metadata, caller.run)
        if run is not None:
            with self.db.session() as session:
                file = self._claim(session, run, filename, metadata, caller.owner)
                if file.part_size is not None:
                    raise UploadMismatch(
                        f"file {file.id} of run {run} is uploading in parts; it takes no POST"
                    )
                key, size = file.object_key, file.size_bytes
                content_type, sha256 = file.content_type, file.declared_sha256
        else:
            size = _size(metadata)
            request = self._request(filename, query.get("type", ""), size, metadata)
            if size > MAX_SINGLE_PUT:
                raise TooLarge(
                    f"a single POST carries at most {MAX_SINGLE_PUT} bytes; "
                    "upload this file in parts"
                )
            created = self.uploads.create(request, caller.owner, POST_PLAN).files[0]
            key, size = created.key, created.size_bytes
            content_type, sha256 = created.content_type, created.declared_sha256
        post = self.storage.presign_post(key, size, content_type, sha256)
        return {
            "method": "POST",
            "url": post.url,
            "fields": post.fields,
            "expires": self.storage.presign_ttl,
        }

    def create_multipart(self, body: CompanionCreate, caller: Caller) -> dict[str, Any]:
        """`POST s3/multipart`: Uppy's parts for a declared file, or a new run of one file. Asked
        again for a declared file (Uppy retries), it answers with the same upload."""
        run = _run_named(body.metadata, caller.run)
        if run is None:
            size = _size(body.metadata)
            request = self._request(body.filename, body.type, size, body.metadata)
            _uppy_part_size(size)
            created = self.uploads.create(request, caller.owner, UPPY_PARTS).files[0]
            assert isinstance(created.upload, MultipartUpload)
            key, upload_id = created.key, created.upload.upload_id
        else:
            with self.db.session(serialize=True) as session:
                file = self._claim(session, run, body.filename, body.metadata, caller.owner)
                part_size = _uppy_part_size(file.size_bytes)
                if file.multipart_upload_id is None:
                    file.part_size = part_size
                    file.multipart_upload_id = self.storage.create_multipart(
                        file.object_key, file.content_type
                    )
                elif file.part_size != part_size or file.upload_completed_at is not None:
                    raise UploadMismatch(
                        f"file {file.id} of run {run} is uploading already, in parts of "
                        f"{file.part_size} bytes (Uppy sends {part_size}); declare runs for "
                        "Uppy with POST /v1/companion/runs"
                    )
                key, upload_id = file.object_key, file.multipart_upload_id
        return {"key": key, "uploadId": upload_id, "bucket": self.storage.bucket}

    def _locate(
        self, upload_id: str, query: Mapping[str, str] | None, caller: Caller
    ) -> tuple[str, str, str]:
        """The key (`?key=`), run and file ids of the multipart upload `upload_id`, of the
        caller's owner (and of its run, on a run's endpoint)."""
        key = (query or {}).get("key", "")
        if not key:
            raise BadRequest("the object key must be passed as a query parameter (?key=...)")
        found = KEY.fullmatch(key)
        if found is None or caller.run not in (None, found["run_id"]):
            raise NotFound(f"no upload at key {key!r}")
        run_id, file_id = found["run_id"], found["file_id"]
        with self.db.session() as session:
            file = visible_file(session, run_id, file_id, caller.owner)
            if file.object_key != key or file.multipart_upload_id != upload_id:
                raise NotFound(f"no upload {upload_id!r} at key {key!r}")
        return key, run_id, file_id

    def list_parts(
        self, upload_id: str, query: Mapping[str, str] | None, caller: Caller
    ) -> list[dict[str, Any]]:
        """`GET s3/multipart/{uploadId}`: the parts in the bucket, as S3's `Part` objects."""
        _, run_id, file_id = self._locate(upload_id, query, caller)
        parts = self.uploads.list_parts(run_id, file_id, caller.owner).parts
        return [{"PartNumber": p.part_number, "ETag": p.etag, "Size": p.size} for p in parts]

    def _sign(
        self, upload_id: str, query: Mapping[str, str] | None, numbers: list[int], caller: Caller
    ) -> dict[int, str]:
        _, run_id, file_id = self._locate(upload_id, query, caller)
        request = _validated(SignPartsRequest, {"part_numbers": numbers})
        signed = self.uploads.sign_parts(run_id, file_id, request, caller.owner).parts
        return {part.part_number: part.url for part in signed}

    def sign_part(
        self, upload_id: str, number: str, query: Mapping[str, str] | None, caller: Caller
    ) -> dict[str, Any]:
        """`GET s3/multipart/{uploadId}/{partNumber}`: one part's URL (its length is signed)."""
        part = _part_number(number)
        url = self._sign(upload_id, query, [part], caller)[part]
        return {"url": url, "expires": self.storage.presign_ttl}

    def sign_batch(
        self, upload_id: str, query: Mapping[str, str] | None, caller: Caller
    ) -> dict[str, Any]:
        """`GET s3/multipart/{uploadId}/batch?partNumbers=1,2`: several parts' URLs."""
        numbers = [_part_number(n) for n in (query or {}).get("partNumbers", "").split(",")]
        urls = self._sign(upload_id, query, numbers, caller)
        return {"presignedUrls": {str(number): url for number, url in urls.items()}}

    def complete(
        self,
        upload_id: str,
        query: Mapping[str, str] | None,
        body: CompanionComplete,
        caller: Caller,
    ) -> dict[str, Any]:
        """`POST s3/multipart/{uploadId}/complete`: the run turns `stored` once the bucket's event
        is processed and the bytes verified, as for `/v1` uploads."""
        key, run_id, file_id = self._locate(upload_id, query, caller)
        parts = sorted(body.parts, key=lambda p: p.PartNumber)
        request = _validated(
            CompleteRequest,
            {"parts": [{"part_number": p.PartNumber, "etag": p.ETag} for p in parts]},
        )
        self.uploads.complete(run_id, file_id, request, caller.owner)
        return {"location": self.storage.object_url(key), "key": key, "bucket": self.storage.bucket}

    def abort(
        self, upload_id: str, query: Mapping[str, str] | None, caller: Caller
    ) -> dict[str, Any]:
        """`DELETE s3/multipart/{uploadId}`: a run of this one file is cancelled. A declared file
        of a larger run has its upload aborted and can be claimed again (Uppy aborts a file the
        user removes, and may add it back); the run waits for it, or is cancelled by the app."""
        _, run_id, file_id = self._locate(upload_id, query, caller)
        if self.uploads.reopen(run_id, file_id, caller.owner) == 1:
            self.uploads.cancel(run_id, caller.owner)
        return {}
