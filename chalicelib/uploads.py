"""Creating runs and handing out presigned uploads: single PUT, or multipart signed on demand."""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import TypeVar

from botocore.exceptions import ClientError
from sqlalchemy.orm import Session

from chalicelib import limits
from chalicelib.config import MAX_PARTS, MiB, Settings
from chalicelib.db import Database
from chalicelib.errors import (
    ChecksumConflict,
    Invalid,
    NotFound,
    NotMultipart,
    ObjectExists,
    RunNotPending,
    TooLarge,
    UploadCompleted,
    UploadGone,
)
from chalicelib.logs import logger
from chalicelib.models import File, Run, RunEventType, RunSource, RunStatus
from chalicelib.outbox import record_event
from chalicelib.runs import file_out, parse_run_id, run_out, visible
from chalicelib.schemas import (
    CompleteRequest,
    CreateUploadRequest,
    CreateUploadResponse,
    FileOut,
    ListPartsResponse,
    MultipartUpload,
    RunOut,
    SignedPart,
    SignPartsRequest,
    SignPartsResponse,
    SingleUpload,
    StoredPart,
    UploadFileOut,
)
from chalicelib.storage import BUCKET_CONNECTIONS, Storage, error_code

T = TypeVar("T")
UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
MAX_SAFE_NAME = 128


def safe_name(name: str) -> str:
    """The base name reduced to `[A-Za-z0-9._-]`, never hidden, empty or a dot path."""
    base = re.split(r"[/\\]", name)[-1]
    cleaned = UNSAFE.sub("", base).lstrip(".")[:MAX_SAFE_NAME]
    return cleaned or "file"


def object_key(run_id: uuid.UUID, file_id: uuid.UUID, name: str) -> str:
    return f"runs/{run_id}/{file_id}/{safe_name(name)}"


@dataclass(frozen=True)
class UploadPlan:
    """How a run's files go up: one PUT up to `threshold` bytes, else parts of `part_size`, and
    URLs for the first `first_urls` parts of the run signed with it. The settings give `/v1`'s;
    the Companion routes (chalicelib/companion.py) follow Uppy's instead."""

    threshold: int
    part_size: int
    first_urls: int

    @classmethod
    def of(cls, settings: Settings) -> UploadPlan:
        return cls(
            settings.inlet_multipart_threshold, settings.inlet_part_size, settings.inlet_parts_batch
        )


def choose_part_size(size: int, plan: UploadPlan) -> int | None:
    """None for a single PUT, else the part size: the plan's, grown to fit 10,000 parts."""
    if size <= plan.threshold:
        return None
    needed = -(-size // MAX_PARTS)
    return max(plan.part_size, -(-needed // MiB) * MiB)


def _validate_limits(request: CreateUploadRequest, settings: Settings) -> None:
    types = settings.inlet_run_types
    if request.type not in types:
        raise Invalid(
            f"unknown run type {request.type!r}; expected one of: {', '.join(types)}",
            [{"field": "type", "message": "unknown run type"}],
        )
    most = settings.inlet_max_files_per_run
    if len(request.files) > most:
        raise TooLarge(f"{len(request.files)} files in one run; the limit is {most}")
    for index, spec in enumerate(request.files):
        if spec.size > settings.inlet_max_file_size:
            raise TooLarge(
                f"file {spec.name!r} is {spec.size} bytes; the limit is "
                f"{settings.inlet_max_file_size} bytes",
                [{"field": f"files[{index}].size", "message": "larger than the maximum file size"}],
            )


def part_length(file: File, number: int) -> int:
    """The exact length of part `number`: the part size, or what remains for the last part."""
    assert file.part_size is not None
    return min(file.part_size, file.size_bytes - (number - 1) * file.part_size)


def _signed_parts(storage: Storage, file: File, numbers: list[int]) -> list[SignedPart]:
    assert file.multipart_upload_id is not None
    signed = []
    for number in numbers:
        presigned = storage.presign_part(
            file.object_key, file.multipart_upload_id, number, part_length(file, number)
        )
        signed.append(
            SignedPart(part_number=number, url=presigned.url, expires_at=presigned.expires_at)
        )
    return signed


def _upload_for(storage: Storage, file: File, signed_parts: int) -> SingleUpload | MultipartUpload:
    """How the file is uploaded; a multipart one with URLs for its first `signed_parts` parts."""
    if file.part_size is None:
        # The size, If-None-Match: * and a declared sha256 are signed into the URL: the bucket
        # itself refuses another length, other bytes and a second write to the key.
        presigned = storage.presign_put(
            file.object_key, file.content_type, file.size_bytes, file.declared_sha256
        )
        return SingleUpload(
            url=presigned.url, headers=presigned.headers, expires_at=presigned.expires_at
        )
    assert file.multipart_upload_id is not None
    return MultipartUpload(
        upload_id=file.multipart_upload_id,
        part_size=file.part_size,
        part_count=file.part_count,
        parts=_signed_parts(storage, file, list(range(1, signed_parts + 1))),
    )


def first_part_urls(files: list[File], budget: int) -> list[int]:
    """How many part URLs each file gets with its run: `budget` (INLET_PARTS_BATCH) for the
    whole run, the first parts of the first files. Signing is CPU work (about 0.2 ms a URL):
    URLs for every file of a large run would cost more than creating it, for parts sent
    minutes later; clients sign the rest on demand, in batches (POST .../parts)."""
    shares = []
    for file in files:
        share = min(file.part_count, budget)
        shares.append(share)
        budget -= share
    return shares


def _pending_multipart_file(
    session: Session, run_id: str, file_id: str, owner: str | None, sha256: str | None = None
) -> File:
    """The file, locked, checked to be an open multipart upload of a pending run of `owner`
    (and, given the `sha256` a complete declares, that the file declared no other)."""
    run = visible(session.get(Run, parse_run_id(run_id), with_for_update=True), run_id, owner)
    try:
        file = session.get(File, uuid.UUID(file_id), with_for_update=True)
    except ValueError:
        file = None
    if file is None or file.run_id != run.id:
        raise NotFound(f"file {file_id} not found in run {run_id}")
    if run.status != RunStatus.PENDING:
        raise RunNotPending(f"run {run_id} is {run.status}; only pending runs take uploads")
    if file.multipart_upload_id is None:
        raise NotMultipart(f"file {file_id} is a single PUT upload; it has no parts")
    if sha256 is not None and file.declared_sha256 not in (None, sha256):
        raise ChecksumConflict(
            f"file {file_id} declared sha256 {file.declared_sha256}; the complete says {sha256}",
            [{"field": "sha256", "message": "differs from the sha256 the file declared"}],
        )
    if file.upload_completed_at is not None:
        raise UploadCompleted(f"the upload of file {file_id} is already completed")
    return file


def _check_part_numbers(file: File, numbers: list[int]) -> None:
    too_high = [n for n in numbers if n > file.part_count]
    if too_high:
        raise Invalid(
            f"part numbers {too_high} are beyond this file's {file.part_count} parts",
            [{"field": "part_numbers", "message": f"must be from 1 to {file.part_count}"}],
        )


def _completable_file(
    session: Session, run_id: str, file_id: str, request: CompleteRequest, owner: str | None
) -> File:
    """The file `request` may complete: every part listed, no other sha256 declared."""
    file = _pending_multipart_file(session, run_id, file_id, owner, request.sha256)
    numbers = [p.part_number for p in request.parts]
    if numbers != list(range(1, file.part_count + 1)):
        raise Invalid(
            f"parts must be exactly 1 to {file.part_count}, in order",
            [{"field": "parts", "message": f"got {len(numbers)} part(s)"}],
        )
    return file


def _upload_gone(exc: ClientError, file_id: str) -> UploadGone | None:
    if error_code(exc) == "NoSuchUpload":
        return UploadGone(f"the multipart upload of file {file_id} no longer exists in the bucket")
    return None


# S3's answers to a bad part list are the client's mistake, not ours.
PART_ERRORS = {"InvalidPart", "InvalidPartOrder", "EntityTooSmall", "MalformedXML"}


def multipart_etag(etags: Iterable[str]) -> str | None:
    """The ETag S3 gives an object completed from parts with these ETags (the MD5 of their
    MD5s, a dash, the part count), or None when a part's ETag is no MD5 (SSE-KMS)."""
    digests = []
    for etag in etags:
        plain = etag.strip('"')
        if not re.fullmatch(r"[0-9a-fA-F]{32}", plain):
            return None
        digests.append(bytes.fromhex(plain))
    combined = hashlib.md5(b"".join(digests), usedforsecurity=False).hexdigest()
    return f"{combined}-{len(digests)}"


# Requests to the bucket in flight at once: one per pooled connection, so that a 20-file run
# waits for one round trip, not three.
BUCKET_CONCURRENCY = BUCKET_CONNECTIONS


def in_parallel(tasks: Sequence[Callable[[], T]]) -> list[T]:
    """The results of `tasks` (bucket calls), run BUCKET_CONCURRENCY at a time (a single one in
    this thread). After a failure, tasks not started yet are dropped; the first failure is
    raised once every started task has ended, so the caller sees all that happened."""
    if len(tasks) <= 1:
        return [task() for task in tasks]
    with ThreadPoolExecutor(min(BUCKET_CONCURRENCY, len(tasks)), thread_name_prefix="s3") as pool:
        futures = [pool.submit(task) for task in tasks]
        wait(futures, return_when=FIRST_EXCEPTION)
        pool.shutdown(cancel_futures=True)
    return [future.result() for future in futures if not future.cancelled()]


def close_open_uploads(storage: Storage, files: Iterable[File]) -> None:
    """Make the presigned URLs of a run that leaves `pending` (cancelled, expired) useless where
    the bucket enforces them: abort its multipart uploads that were never completed (their part
    URLs then answer 404 NoSuchUpload), and put an empty tombstone at each single-PUT key that
    holds no object yet, so a late PUT through its still-valid URL, which must carry the signed
    If-None-Match: *, gets 412. An object already at a key stays. Callers close before they
    commit the run's new status: if the bucket fails, the run stays pending, to be closed again
    (aborting and tombstoning twice are harmless)."""
    tasks: list[Callable[[], object]] = []
    for file in files:
        if file.multipart_upload_id is None:
            tasks.append(partial(storage.write_tombstone, file.object_key))
        elif file.upload_completed_at is None:
            key, upload_id = file.object_key, file.multipart_upload_id
            tasks.append(partial(storage.abort_multipart, key, upload_id))
    in_parallel(tasks)


# The name chalicelib/expiry.py imports; it closes single-PUT keys too now.
abort_open_uploads = close_open_uploads


class Uploads:
    """Runs created through the API: their presigned uploads, parts, completion and cancel."""

    def __init__(self, db: Database, storage: Storage, settings: Settings) -> None:
        self.db = db
        self.storage = storage
        self.settings = settings

    def create(
        self,
        request: CreateUploadRequest,
        owner: str | None,
        plan: UploadPlan | None = None,
        companion_key_sha256: str | None = None,
    ) -> CreateUploadResponse:
        """A pending run of `owner` with its files; multipart uploads are created in the bucket up
        front, once the owner's quotas allow the run (`limits.check_creation`: 429 otherwise,
        with nothing created). `plan`: the settings' unless given; `companion_key_sha256`: of
        the key of the run's Companion endpoint, if it has one (chalicelib/companion.py)."""
        plan = plan or UploadPlan.of(self.settings)
        _validate_limits(request, self.settings)
        declared = sum(spec.size for spec in request.files)
        limits.check_size(self.settings, declared)
        run = Run(
            id=uuid.uuid4(),
            type=request.type,
            label=request.label or None,
            notes=request.notes or None,
            status=RunStatus.PENDING.value,
            source=RunSource.API.value,
            owner=owner,
            companion_key_sha256=companion_key_sha256,
        )
        files = []
        for spec in request.files:
            file_id = uuid.uuid4()
            files.append(
                File(
                    id=file_id,
                    run_id=run.id,
                    name=spec.name,
                    object_key=object_key(run.id, file_id, spec.name),
                    size_bytes=spec.size,
                    content_type=spec.content_type,
                    declared_sha256=spec.sha256,
                    part_size=choose_part_size(spec.size, plan),
                )
            )
        multipart = [file for file in files if file.part_size is not None]
        if multipart:
            # Over a quota: refused before anything is created in the bucket.
            with self.db.session() as session:
                limits.check_creation(session, self.settings, owner, declared)
        shares = first_part_urls(files, plan.first_urls)
        try:
            in_parallel([partial(self._open_upload, file) for file in multipart])
            # Signing is CPU work: in this thread, once the bucket has answered.
            uploads = [
                _upload_for(self.storage, file, share)
                for file, share in zip(files, shares, strict=True)
            ]
            # Counted (again) under the owner's lock, in the transaction that inserts the run, so
            # two concurrent creations cannot both pass a limit; the bucket calls above hold
            # neither the lock nor a connection.
            with self.db.session(serialize=True) as session:
                run.created_at = run.updated_at = limits.check_creation(
                    session, self.settings, owner, declared
                )
                session.add(run)
                session.add_all(files)
        except Exception:
            # Nothing half-written: the run is not in the database, so its uploads must not live on.
            opened = [file for file in multipart if file.multipart_upload_id is not None]
            in_parallel([partial(self._abort_quietly, file) for file in opened])
            raise
        logger.append_keys(run_id=str(run.id))
        logger.info(
            "run created",
            extra={
                "files": len(files),
                "bytes": sum(f.size_bytes for f in files),
                "type": run.type,
            },
        )
        return CreateUploadResponse(
            run=run_out(run, len(files), sum(f.size_bytes for f in files)),
            files=[
                UploadFileOut(**file_out(f).model_dump(), upload=upload)
                for f, upload in zip(files, uploads, strict=True)
            ],
        )

    def _open_upload(self, file: File) -> None:
        key, content_type = file.object_key, file.content_type
        file.multipart_upload_id = self.storage.create_multipart(key, content_type)

    def _abort_quietly(self, file: File) -> None:
        assert file.multipart_upload_id is not None
        try:
            self.storage.abort_multipart(file.object_key, file.multipart_upload_id)
        except Exception:  # the bucket's lifecycle rule removes what this could not
            logger.warning("could not abort upload", extra={"key": file.object_key})

    def sign_parts(
        self, run_id: str, file_id: str, request: SignPartsRequest, owner: str | None
    ) -> SignPartsResponse:
        with self.db.session() as session:
            file = _pending_multipart_file(session, run_id, file_id, owner)
            _check_part_numbers(file, request.part_numbers)
            return SignPartsResponse(parts=_signed_parts(self.storage, file, request.part_numbers))

    def list_parts(self, run_id: str, file_id: str, owner: str | None) -> ListPartsResponse:
        with self.db.session() as session:
            file = _pending_multipart_file(session, run_id, file_id, owner)
            key, upload_id = file.object_key, file.multipart_upload_id
        assert upload_id is not None
        try:
            parts = self.storage.list_parts(key, upload_id)
        except ClientError as exc:
            raise _upload_gone(exc, file_id) or exc from None
        return ListPartsResponse(
            parts=[StoredPart(part_number=p.part_number, etag=p.etag, size=p.size) for p in parts]
        )

    def complete(
        self, run_id: str, file_id: str, request: CompleteRequest, owner: str | None
    ) -> FileOut:
        """Complete a multipart upload; the file turns `stored` when its event is processed. A
        sha256 given here becomes the file's declared one, committed before the bucket is asked
        to complete: the object's event may be processed before this request ends, and must
        find it. (It stays declared if the bucket then refuses the part list.)"""
        if request.sha256 is not None:
            with self.db.session(serialize=True) as session:
                file = _completable_file(session, run_id, file_id, request, owner)
                file.declared_sha256 = request.sha256
        with self.db.session(serialize=True) as session:
            file = _completable_file(session, run_id, file_id, request, owner)
            assert file.multipart_upload_id is not None
            parts = [(p.part_number, p.etag) for p in request.parts]
            try:
                self.storage.complete_multipart(file.object_key, file.multipart_upload_id, parts)
            except ClientError as exc:
                self._refused_completion(exc, file, file_id, [etag for _, etag in parts])
            file.upload_completed_at = datetime.now(UTC)
            logger.info(
                "multipart upload completed", extra={"file_id": file_id, "parts": len(parts)}
            )
            return file_out(file)

    def _refused_completion(
        self, exc: ClientError, file: File, file_id: str, etags: list[str]
    ) -> None:
        """Raise what the bucket's refusal to complete means, or return when the object at the
        key is this very upload, completed by an earlier call whose answer (or commit) was lost:
        S3 then answers 412 (If-None-Match: an object is there) or 404 NoSuchUpload."""
        code = error_code(exc)
        if code in ("PreconditionFailed", "NoSuchUpload"):
            info = self.storage.head(file.object_key)
            expected = multipart_etag(etags)
            if info is not None and expected and info.etag.strip('"') == expected:
                logger.info("multipart upload found completed", extra={"file_id": file_id})
                return
            if info is not None and code == "PreconditionFailed":
                raise ObjectExists(
                    f"an object is at the key of file {file_id} already; the bucket keeps it "
                    "and refused to complete the upload over it"
                ) from None
        gone = _upload_gone(exc, file_id)
        if gone:
            raise gone from None
        if code in PART_ERRORS:
            message = exc.response.get("Error", {}).get("Message") or code
            raise Invalid(f"the bucket refused the part list: {message}") from None
        raise exc

    def reopen(self, run_id: str, file_id: str, owner: str | None) -> int:
        """Abort a file's multipart upload, so that it can be uploaded again from the start
        (Uppy aborts a file the user removes, and may add it back); the run stays pending. Its
        file count: a run of this one file is better cancelled (`cancel`)."""
        with self.db.session(serialize=True) as session:
            run = visible(session.get(Run, parse_run_id(run_id)), run_id, owner)
            count = len(run.files)
            if count > 1:
                file = _pending_multipart_file(session, run_id, file_id, owner)
                assert file.multipart_upload_id is not None
                self.storage.abort_multipart(file.object_key, file.multipart_upload_id)
                file.multipart_upload_id = file.part_size = None
        return count

    def cancel(self, run_id: str, owner: str | None) -> RunOut:
        """Cancel a pending run and close its uploads (`close_open_uploads`): aborted multipart
        uploads, tombstones at single-PUT keys; twice is harmless (one `run.cancelled` event)."""
        with self.db.session(serialize=True) as session:
            run = visible(
                session.get(Run, parse_run_id(run_id), with_for_update=True), run_id, owner
            )
            if run.status not in (RunStatus.PENDING, RunStatus.CANCELLED):
                raise RunNotPending(
                    f"run {run_id} is {run.status}; only pending runs can be cancelled"
                )
            if run.status == RunStatus.PENDING:
                # Close before committing: if the bucket fails, the run stays pending to retry.
                close_open_uploads(self.storage, run.files)
                run.status = RunStatus.CANCELLED.value
                run.updated_at = datetime.now(UTC)
                record_event(session, self.settings, run, RunEventType.CANCELLED)
                logger.info("run cancelled")
            files = run.files
            return run_out(run, len(files), sum(f.size_bytes for f in files))
