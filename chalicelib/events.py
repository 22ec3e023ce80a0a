"""Bucket events: an object landed in the bucket; verify it, record it, move its run forward.

S3 delivers events at least once, unordered, sometimes concurrently, so `BucketEvents.process`
is idempotent and race-free:
- a file already final for the event's ETag (or for a newer event of its key) is a duplicate;
- the object is hashed outside any transaction, then the result is recorded under a lock on the
  run row (Postgres: SELECT ... FOR UPDATE; SQLite: its database write lock), re-checking that
  nobody recorded it meanwhile, and the run is settled from its files' statuses in that same
  transaction, so the last of several files finishing together always sees the others;
- an `inbox/` object is adopted as a run of its own exactly once, through the files' unique
  object key (INSERT ... ON CONFLICT DO NOTHING).
Permanent conditions (unknown keys, inactive runs, bad objects) are recorded or logged and return
normally; transient errors (database, bucket, timeouts) raise, so the message is delivered again.
"""

from __future__ import annotations

import enum
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import ClientError
from sqlalchemy import delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from chalicelib import sqs, webhook
from chalicelib.bucket import INBOX_PREFIX, RUNS_PREFIX
from chalicelib.config import MiB, Settings
from chalicelib.db import Database
from chalicelib.hashing import sha256_object
from chalicelib.logs import logger
from chalicelib.models import File, FileStatus, Run, RunSource, RunStatus, utcnow
from chalicelib.sqs import ObjectEvent
from chalicelib.storage import Storage, error_code
from chalicelib.telemetry import metrics
from chalicelib.webhook import BucketEventsResult, BucketNotification

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse

INACTIVE_RUNS = (RunStatus.CANCELLED, RunStatus.EXPIRED)
MISSING_OBJECT_CODES = ("404", "NoSuchKey", "NotFound")


class Outcome(enum.StrEnum):
    STORED = "stored"  # verified and recorded
    FAILED = "failed"  # recorded as failed: wrong size or checksum, or the object is gone
    DUPLICATE = "duplicate"  # already recorded for this object version or a newer one
    IGNORED = "ignored"  # nothing to record: unknown key, another bucket, an inactive run


@dataclass(frozen=True)
class Verdict:
    """What the bucket holds for a file, ready to be recorded."""

    status: FileStatus
    etag: str | None = None
    size: int | None = None
    sha256: str | None = None
    error_code: str | None = None
    error_message: str | None = None


@dataclass(frozen=True)
class Target:
    """The file an event is about, as read before the (slow) hashing."""

    file_id: uuid.UUID
    run_id: uuid.UUID
    size: int
    sha256: str | None


def plain_etag(etag: str) -> str:
    """ETags as events spell them: HEAD quotes them, event records do not."""
    return etag.strip('"')


def is_older(sequencer: str, than: str) -> bool:
    """S3's rule: left-pad the shorter sequencer with zeros, then compare as strings."""
    width = max(len(sequencer), len(than))
    return sequencer.upper().rjust(width, "0") < than.upper().rjust(width, "0")


def run_type_for(key: str, settings: Settings) -> str:
    """`inbox/<type>/...` names a configured run type; anything else gets the default type."""
    folder, slash, _ = key[len(INBOX_PREFIX) :].partition("/")
    if slash and folder in settings.inlet_run_types:
        return folder
    return settings.inlet_default_run_type


@contextmanager
def _log_keys(**keys: Any) -> Iterator[None]:
    logger.thread_safe_append_keys(**keys)
    try:
        yield
    finally:
        logger.thread_safe_remove_keys(keys)


def _ignore(event: ObjectEvent, reason: str) -> Outcome:
    logger.info(
        "event ignored",
        extra={"key": event.key, "bucket": event.bucket, "size": event.size, "reason": reason},
    )
    return Outcome.IGNORED


def _already_done(file: File, run_status: str, event: ObjectEvent) -> Outcome | None:
    """Why this event needs no work on this file, or None when it does."""
    if run_status in INACTIVE_RUNS:
        logger.info(
            "event for an inactive run ignored",
            extra={"key": event.key, "run_id": str(file.run_id), "run_status": run_status},
        )
        return Outcome.IGNORED
    if file.status == FileStatus.PENDING:
        return None
    if event.sequencer and file.sequencer and is_older(event.sequencer, file.sequencer):
        reason = "a newer version of the object is already recorded"
    elif file.etag is not None and file.etag == plain_etag(event.etag):
        reason = f"already {file.status} for this version of the object"
    else:
        return None
    logger.info("duplicate event", extra={"key": event.key, "reason": reason})
    return Outcome.DUPLICATE


def _missing(key: str) -> Verdict:
    return Verdict(
        FileStatus.FAILED,
        error_code="object_missing",
        error_message=f"the object {key} is no longer in the bucket",
    )


def verify(storage: Storage, settings: Settings, key: str, target: Target) -> Verdict:
    """Read the object (size first, then every byte) and judge it against the declaration."""
    info = storage.head(key)
    if info is None:
        return _missing(key)
    etag = plain_etag(info.etag)
    if info.size != target.size:
        message = f"declared {target.size} bytes; the bucket holds {info.size}"
        return Verdict(FileStatus.FAILED, etag, info.size, None, "size_mismatch", message)
    try:
        digest = sha256_object(
            storage,
            key,
            info.size,
            etag=info.etag,
            range_size=settings.inlet_hash_range_size,
            concurrency=settings.inlet_hash_concurrency,
        )
    except ClientError as exc:
        # Deleted while being read. (Replaced while being read is a 412: raised and retried.)
        if error_code(exc) in MISSING_OBJECT_CODES:
            return _missing(key)
        raise
    if digest.size != info.size:
        raise RuntimeError(f"read {digest.size} bytes of {key}, which holds {info.size}")
    if target.sha256 and digest.sha256 != target.sha256.lower():
        message = f"declared sha256 {target.sha256}; the stored bytes hash to {digest.sha256}"
        return Verdict(
            FileStatus.FAILED, etag, info.size, digest.sha256, "checksum_mismatch", message
        )
    return Verdict(FileStatus.STORED, etag, info.size, digest.sha256)


def settle(session: Session, run: Run) -> None:
    """The run's status from its files': stored when all are, failed when all are final and one
    failed. Callers hold the run's lock, so a concurrent finisher waits and then sees this one."""
    by_status = select(File.status, func.count()).where(File.run_id == run.id).group_by(File.status)
    counts: dict[str, int] = dict(session.execute(by_status).all())
    if not counts or counts.get(FileStatus.PENDING):
        return
    failed, total = counts.get(FileStatus.FAILED, 0), sum(counts.values())
    if failed:
        run.status, run.stored_at = RunStatus.FAILED.value, None
        run.error_code = "files_failed"
        run.error_message = f"{failed} of {total} files failed verification"
    else:
        run.status, run.stored_at = RunStatus.STORED.value, utcnow()
        run.error_code = run.error_message = None


def record(db: Database, target: Target, event: ObjectEvent, verdict: Verdict) -> Outcome:
    """Write the verdict and settle the run, unless another delivery got there first."""
    with db.session(serialize=True) as session:
        # Lock order run, then file: the same as the upload endpoints, so no deadlocks.
        run = session.get(Run, target.run_id, with_for_update=True)
        file = session.get(File, target.file_id, with_for_update=True)
        if run is None or file is None:
            return _ignore(event, "the run was deleted while its object was read")
        done = _already_done(file, run.status, event)
        if done is not None:
            return done
        file.status = verdict.status.value
        file.etag, file.stored_size, file.sha256 = verdict.etag, verdict.size, verdict.sha256
        file.error_code, file.error_message = verdict.error_code, verdict.error_message
        file.sequencer = event.sequencer
        file.stored_at = utcnow() if verdict.status == FileStatus.STORED else None
        settle(session, run)
    return Outcome.STORED if verdict.status == FileStatus.STORED else Outcome.FAILED


def _report(outcome: Outcome, verdict: Verdict, seconds: float) -> None:
    hashed = (verdict.size or 0) if verdict.sha256 else 0
    logger.info(
        "object processed",
        extra={
            "outcome": outcome.value,
            "bytes": hashed,
            "duration_ms": round(seconds * 1000, 1),
            "mb_per_s": round(hashed / MiB / seconds, 1) if hashed and seconds else None,
            "error_code": verdict.error_code,
        },
    )
    metrics.add_metric(name="BytesHashed", unit=MetricUnit.Bytes, value=hashed)
    if outcome in (Outcome.STORED, Outcome.FAILED):
        metrics.add_metric(name="ObjectsProcessed", unit=MetricUnit.Count, value=1)
    if outcome == Outcome.FAILED:
        metrics.add_metric(name="ObjectsFailed", unit=MetricUnit.Count, value=1)


def _insert_ignoring_duplicates(db: Database) -> postgresql.Insert | sqlite.Insert:
    if db.is_sqlite:
        return sqlite.insert(File).on_conflict_do_nothing(index_elements=[File.object_key])
    return postgresql.insert(File).on_conflict_do_nothing(index_elements=[File.object_key])


class BucketEvents:
    """The one way an object event is handled, whatever delivered it (SQS, MinIO's webhook, a
    test): built once with the database, the upload bucket and the settings."""

    def __init__(self, db: Database, storage: Storage, settings: Settings) -> None:
        self.db = db
        self.storage = storage
        self.settings = settings

    def process(self, event: ObjectEvent) -> Outcome:
        """The one entry point for an object-created event, whatever delivered it."""
        if event.bucket != self.storage.bucket:
            return _ignore(event, "not the upload bucket")
        if event.key.startswith(INBOX_PREFIX):
            if event.key.endswith("/"):
                return _ignore(event, "a folder marker, not a file")
            if not self.adopt(event.key):
                return _ignore(event, "the object was deleted before it could be adopted")
        elif not event.key.startswith(RUNS_PREFIX):
            return _ignore(event, "outside runs/ and inbox/")
        return self._process_file(event)

    def adopt(self, key: str) -> bool:
        """Give an `inbox/` object a run of its own (source `bucket`) unless it has one already;
        False when the object is gone. Concurrent deliveries create one run: the file's object key
        is unique, and a delivery that loses the insert race drops the run it had just inserted."""
        with self.db.session() as session:
            if session.scalar(select(File.id).where(File.object_key == key)) is not None:
                return True
        info = self.storage.head(key)
        if info is None:
            return False
        now, run_id = utcnow(), uuid.uuid4()
        path = key[len(INBOX_PREFIX) :]
        with self.db.session() as session:
            session.execute(
                insert(Run).values(
                    id=run_id,
                    type=run_type_for(key, self.settings),
                    label=path[:200],
                    status=RunStatus.PENDING.value,
                    source=RunSource.BUCKET.value,
                    owner=self.settings.inlet_inbox_owner,
                    created_at=now,
                    updated_at=now,
                )
            )
            file_id = session.scalar(
                _insert_ignoring_duplicates(self.db)
                .values(
                    id=uuid.uuid4(),
                    run_id=run_id,
                    name=path.rsplit("/", 1)[-1][:255],
                    object_key=key,
                    size_bytes=info.size,
                    content_type=(info.content_type or "application/octet-stream")[:255],
                    status=FileStatus.PENDING.value,
                    created_at=now,
                )
                .returning(File.id)
            )
            if file_id is None:
                session.execute(delete(Run).where(Run.id == run_id))
            else:
                logger.info("inbox object adopted", extra={"key": key, "run_id": str(run_id)})
        return True

    def _process_file(self, event: ObjectEvent) -> Outcome:
        with self.db.session() as session:
            file = session.scalar(select(File).where(File.object_key == event.key))
            if file is None:
                return _ignore(event, "no file has this key")
            done = _already_done(file, file.run.status, event)
            target = Target(file.id, file.run_id, file.size_bytes, file.declared_sha256)
        if done is not None:
            return done
        with _log_keys(run_id=str(target.run_id), file_id=str(target.file_id), key=event.key):
            started = time.perf_counter()
            # Hashing a large object takes a while: say which one is in flight.
            logger.debug("hashing object", extra={"size": event.size})
            verdict = verify(self.storage, self.settings, event.key, target)
            outcome = record(self.db, target, event, verdict)
            _report(outcome, verdict, time.perf_counter() - started)
        return outcome

    def from_queue(self, sqs_event: dict[str, Any]) -> PartialItemFailureResponse:
        """An SQS Lambda event of bucket notifications; names the messages to deliver again."""
        return sqs.handle_batch(sqs_event, self.process)

    def from_webhook(self, notification: BucketNotification) -> BucketEventsResult:
        """A notification MinIO's webhook target posted; any failure raises (MinIO retries)."""
        return webhook.receive(notification, self.process)
