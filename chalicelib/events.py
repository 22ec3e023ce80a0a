"""Bucket events: something happened at a key; look at the bucket, record what it holds, move the
run forward, and record integrity incidents when a final file's key changes.

Events are hints, the bucket is the truth (docs/events.md). An event names a bucket and a key
(and, at most, a version to ask about); what is recorded comes from HEAD and GET of the object's
version, never from the event's size, ETag, name or sequencer. So a forged or stale event changes
nothing the bucket does not show, and S3's at-least-once, unordered, concurrent delivery is
harmless:
- a pending file is verified against the version the bucket holds, and that version is recorded;
  with no object at the key (yet), nothing changes;
- a final file's record is never rewritten: another version or a delete marker at its key is an
  integrity incident (the file stays as recorded, its version still readable), recorded once per
  (file, kind, other version); only the loss of the recorded version itself changes what the API
  says (`lost`, error `version_deleted`);
- the bucket is asked once per event about each (key, version) (`Sight`), and the files are
  read in one short transaction; the object is hashed outside any transaction, then the result
  is recorded under a lock on the run row (Postgres: SELECT ... FOR UPDATE; SQLite: its database
  write lock), only if nobody recorded it meanwhile, and the run is settled from its files'
  statuses in that same transaction, so the last of several files finishing together always
  sees the others;
- every version of an `inbox/` key is adopted as a run of its own exactly once, through the
  files' unique (object key, version) (INSERT ... ON CONFLICT DO NOTHING);
- a run that changes status, and each incident recorded, records its run event in the same
  transaction (chalicelib/outbox.py): once, however often the bucket event comes.
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
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import ClientError
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from chalicelib import limits, sqs, webhook
from chalicelib.bucket import INBOX_PREFIX, RUNS_PREFIX
from chalicelib.config import MiB, Settings
from chalicelib.db import Database
from chalicelib.hashing import sha256_object
from chalicelib.logs import logger
from chalicelib.models import (
    File,
    FileStatus,
    Incident,
    IncidentKind,
    Run,
    RunEventType,
    RunSource,
    RunStatus,
    utcnow,
)
from chalicelib.outbox import record_event
from chalicelib.schemas import describe_character, escaped, neutralise
from chalicelib.sqs import ObjectEvent
from chalicelib.storage import DeleteMarker, ObjectInfo, Storage, error_code
from chalicelib.telemetry import metrics
from chalicelib.webhook import BucketEventsResult, BucketNotification

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse

INACTIVE_RUNS = (RunStatus.CANCELLED, RunStatus.EXPIRED)
MISSING_OBJECT_CODES = ("404", "NoSuchKey", "NotFound", "NoSuchVersion")
# What a bucket answers when asked for a version id it never issued (a forged event's).
UNKNOWN_VERSION_CODES = ("400", "InvalidArgument")
VERSION_DELETED = "version_deleted"
# The run error of an inbox key no row can hold: a NUL (Postgres text has none) or a lone
# surrogate (no UTF-8 encodes one). docs/security.md, "Names".
UNSTORABLE_KEY = "unstorable_key"
# Failed adoptions get a run id derived from the key and version: recorded once, however often
# the event comes.
UNSTORABLE_RUNS = uuid.UUID("6b1d3c2e-8f4a-5e7b-9c0d-1a2b3c4d5e6f")


class Outcome(enum.StrEnum):
    STORED = "stored"  # verified and recorded
    FAILED = "failed"  # recorded as failed: the bytes have the wrong size or checksum
    INCIDENT = "incident"  # a final file's key changed: an integrity incident was recorded
    DUPLICATE = "duplicate"  # nothing new: the bucket shows what is recorded already
    IGNORED = "ignored"  # nothing to record: unknown key, another bucket, an inactive run,
    # or no object at the key (yet)


# When one event concerns several files (an inbox key's versions), it answers the first of these.
SIGNIFICANCE = [
    Outcome.FAILED,
    Outcome.STORED,
    Outcome.INCIDENT,
    Outcome.DUPLICATE,
    Outcome.IGNORED,
]


class Deferred(enum.Enum):
    """An inbox drop left unadopted by the inbox rate (the scheduled job adopts it later)."""

    DEFERRED = "deferred"


DEFERRED = Deferred.DEFERRED


@dataclass(frozen=True)
class Verdict:
    """What the bucket holds for a file, ready to be recorded."""

    status: FileStatus
    etag: str | None = None
    size: int | None = None
    sha256: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    version_id: str | None = None


@dataclass(frozen=True)
class Target:
    """The file an event is about, as read before the (slow) bucket calls."""

    file_id: uuid.UUID
    run_id: uuid.UUID
    size: int
    sha256: str | None
    key: str = ""
    status: FileStatus = FileStatus.PENDING
    version_id: str | None = None  # the version to verify (inbox), or the one recorded
    etag: str | None = None  # the recorded ETag (without quotes)


@dataclass(frozen=True)
class Finding:
    """An integrity incident the bucket shows for a final file, before it is recorded."""

    kind: IncidentKind
    other_version_id: str | None
    message: str


class Sight:
    """What the bucket answered while one event was handled: each (key, version) is asked about
    once (HEAD), however many steps need it. The current version's answer also answers for its
    version id, so verifying what HEAD found costs no second HEAD."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self._seen: dict[tuple[str, str | None], ObjectInfo | DeleteMarker | None] = {}

    def head(self, key: str, version_id: str | None = None) -> ObjectInfo | DeleteMarker | None:
        if (key, version_id) not in self._seen:
            found = self.storage.head_version(key, version_id)
            self._seen[(key, version_id)] = found
            if found is not None and found.version_id is not None:
                self._seen.setdefault((key, found.version_id), found)
        return self._seen[(key, version_id)]


def plain_etag(etag: str) -> str:
    """ETags as events spell them: HEAD quotes them, event records do not."""
    return etag.strip('"')


def run_type_for(key: str, settings: Settings) -> str:
    """`inbox/<type>/...` names a configured run type; anything else gets the default type."""
    folder, slash, _ = key[len(INBOX_PREFIX) :].partition("/")
    if slash and folder in settings.inlet_run_types:
        return folder
    return settings.inlet_default_run_type


def _surrogate(ch: str) -> bool:
    """A lone surrogate: not UTF-8, so no S3 key (only a forged event carries one)."""
    return "\ud800" <= ch <= "\udfff"


def unstorable_character(key: str) -> str | None:
    """The first character of `key` that no database row can hold (NUL, a lone surrogate), or
    None. Checked on both databases (SQLite would take a NUL), so the outcome is the same."""
    for ch in key:
        if ch == "\x00" or _surrogate(ch):
            return ch
    return None


def target_of(file: File) -> Target:
    return Target(
        file_id=file.id,
        run_id=file.run_id,
        size=file.size_bytes,
        sha256=file.declared_sha256,
        key=file.object_key,
        status=FileStatus(file.status),
        version_id=file.version_id,
        etag=file.etag,
    )


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
        extra={
            "key": event.key,
            "bucket": event.bucket,
            "event_name": event.name,
            "size": event.size,
            "reason": reason,
        },
    )
    return Outcome.IGNORED


def _inactive(run: Run, event: ObjectEvent) -> bool:
    """Cancelled and expired runs take no more files; a purged run's objects were deleted on
    purpose (the orphan cleanup), so the events of that deletion are expected."""
    if run.status not in INACTIVE_RUNS and run.purged_at is None:
        return False
    logger.info(
        "event for an inactive run ignored",
        extra={
            "key": event.key,
            "run_id": str(run.id),
            "run_status": run.status,
            "purged": run.purged_at is not None,
        },
    )
    return True


def verify(
    storage: Storage, settings: Settings, key: str, target: Target, info: ObjectInfo
) -> Verdict | None:
    """Judge the object version `info` (what HEAD found) against the declaration: its size
    first, then every byte of exactly that version. None when the version vanished while it was
    read (no evidence either way: nothing to record)."""
    etag = plain_etag(info.etag)
    if info.size != target.size:
        message = f"declared {target.size} bytes; the bucket holds {info.size}"
        return Verdict(
            FileStatus.FAILED, etag, info.size, None, "size_mismatch", message, info.version_id
        )
    try:
        digest = sha256_object(
            storage,
            key,
            info.size,
            etag=info.etag,
            version_id=info.version_id,
            range_size=settings.inlet_hash_range_size,
            concurrency=settings.inlet_hash_concurrency,
        )
    except ClientError as exc:
        # Permanently deleted while being read. (Without versions, replaced while being read is
        # a 412: raised and retried.)
        if error_code(exc) in MISSING_OBJECT_CODES:
            return None
        raise
    if digest.size != info.size:
        raise RuntimeError(f"read {digest.size} bytes of {key}, which holds {info.size}")
    if target.sha256 and digest.sha256 != target.sha256.lower():
        message = f"declared sha256 {target.sha256}; the stored bytes hash to {digest.sha256}"
        return Verdict(
            FileStatus.FAILED,
            etag,
            info.size,
            digest.sha256,
            "checksum_mismatch",
            message,
            info.version_id,
        )
    return Verdict(FileStatus.STORED, etag, info.size, digest.sha256, version_id=info.version_id)


def settle(session: Session, run: Run) -> None:
    """The run's status from its files': stored when all are; failed when all are final and one
    failed verification (`files_failed`) or lost its recorded version (`files_lost`). Callers
    hold the run's lock, so a concurrent finisher waits and then sees this one (and record the
    run's event when its status changed: `settle_and_announce`)."""
    by_status = select(File.status, func.count()).where(File.run_id == run.id).group_by(File.status)
    counts: dict[str, int] = dict(session.execute(by_status).all())
    if not counts or counts.get(FileStatus.PENDING):
        return
    failed, lost = counts.get(FileStatus.FAILED, 0), counts.get(FileStatus.LOST, 0)
    total = sum(counts.values())
    if failed:
        run.status, run.stored_at = RunStatus.FAILED.value, None
        run.error_code = "files_failed"
        run.error_message = f"{failed} of {total} files failed verification"
        if lost:
            run.error_message += f"; {lost} lost their recorded version"
    elif lost:
        # It was stored (stored_at keeps when); the bucket no longer holds all of it.
        run.status = RunStatus.FAILED.value
        run.error_code = "files_lost"
        run.error_message = (
            f"{lost} of {total} files lost their recorded version in the bucket (see incidents)"
        )
    else:
        run.status, run.stored_at = RunStatus.STORED.value, utcnow()
        run.error_code = run.error_message = None


SETTLED_EVENTS = {RunStatus.STORED: RunEventType.STORED, RunStatus.FAILED: RunEventType.FAILED}


def settle_and_announce(session: Session, settings: Settings, run: Run) -> None:
    """Settle the run; if that changed its status, record its event (chalicelib/outbox.py) in
    this transaction: once, since the change happens once under the run's lock."""
    before = run.status
    settle(session, run)
    if run.status != before:
        record_event(session, settings, run, SETTLED_EVENTS[RunStatus(run.status)])


def record(
    db: Database, settings: Settings, target: Target, event: ObjectEvent, verdict: Verdict
) -> Outcome:
    """Write the verdict and settle the run, unless another delivery got there first (then
    DUPLICATE: the caller looks at the file as a final one)."""
    with db.session(serialize=True) as session:
        # Lock order run, then file: the same as the upload endpoints, so no deadlocks.
        run = session.get(Run, target.run_id, with_for_update=True)
        if run is None:
            return _ignore(event, "the run was deleted while its object was read")
        if _inactive(run, event):
            return Outcome.IGNORED
        # Written only while still pending (the row lock of the UPDATE): a file another
        # delivery recorded (or deleted) meanwhile matches no row.
        now = utcnow()
        written = session.execute(
            update(File)
            .where(File.id == target.file_id, File.status == FileStatus.PENDING.value)
            .values(
                status=verdict.status.value,
                etag=verdict.etag,
                stored_size=verdict.size,
                sha256=verdict.sha256,
                version_id=verdict.version_id,
                error_code=verdict.error_code,
                error_message=verdict.error_message,
                stored_at=now if verdict.status == FileStatus.STORED else None,
                checked_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        if not written.rowcount:  # type: ignore[attr-defined]
            return Outcome.DUPLICATE
        settle_and_announce(session, settings, run)
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
            "version_id": verdict.version_id,
        },
    )
    metrics.add_metric(name="BytesHashed", unit=MetricUnit.Bytes, value=hashed)
    if outcome in (Outcome.STORED, Outcome.FAILED):
        metrics.add_metric(name="ObjectsProcessed", unit=MetricUnit.Count, value=1)
    if outcome == Outcome.FAILED:
        metrics.add_metric(name="ObjectsFailed", unit=MetricUnit.Count, value=1)


def _insert_ignoring_duplicates(db: Database) -> postgresql.Insert | sqlite.Insert:
    """INSERT ... ON CONFLICT DO NOTHING on any of the files' unique keys: the key alone (runs/,
    and inbox keys without versions) or the key and version (inbox keys' versions)."""
    if db.is_sqlite:
        return sqlite.insert(File).on_conflict_do_nothing()
    return postgresql.insert(File).on_conflict_do_nothing()


def _insert_run_once(db: Database) -> postgresql.Insert | sqlite.Insert:
    """INSERT ... ON CONFLICT DO NOTHING on the runs' primary key."""
    if db.is_sqlite:
        return sqlite.insert(Run).on_conflict_do_nothing()
    return postgresql.insert(Run).on_conflict_do_nothing()


def _lost_without_versions(current: ObjectInfo | DeleteMarker | None, target: Target) -> bool:
    """A record without a version (a store without versioning, or recorded before 0004): its
    bytes are certainly gone when nothing at all is at the key, or when an unversioned store
    holds other bytes there. On a versioned store they may live on as a noncurrent version."""
    if current is None:
        return True
    if isinstance(current, ObjectInfo) and current.version_id is None:
        return plain_etag(current.etag) != target.etag
    return False


class BucketEvents:
    """The one way an object event is handled, whatever delivered it (SQS, MinIO's webhook, the
    scheduled reconcile job, a test): built once with the database, the upload bucket and the
    settings."""

    def __init__(self, db: Database, storage: Storage, settings: Settings) -> None:
        self.db = db
        self.storage = storage
        self.settings = settings

    def process(self, event: ObjectEvent) -> Outcome:
        """The one entry point: something happened at `event.key`; only the bucket says what."""
        if event.bucket != self.storage.bucket:
            return _ignore(event, "not the upload bucket")
        if event.key.startswith(INBOX_PREFIX):
            if event.key.endswith("/"):
                return _ignore(event, "a folder marker, not a file")
            if unstorable_character(event.key) is not None:
                return self._adopt_unstorable(event, Sight(self.storage))
            return self._process_inbox(event, Sight(self.storage))
        if event.key.startswith(RUNS_PREFIX):
            if unstorable_character(event.key) is not None:
                return self._unstorable_ignored(event.key, "no file's key can hold it")
            return self._process_run_key(event, Sight(self.storage))
        return _ignore(event, "outside runs/ and inbox/")

    # --- runs/: one file per key ----------------------------------------------------------

    def _process_run_key(self, event: ObjectEvent, sight: Sight) -> Outcome:
        with self.db.session() as session:
            row = session.execute(
                select(File, Run)
                .join(Run, File.run_id == Run.id)
                .where(File.object_key == event.key)
            ).first()
        if row is None:
            return _ignore(event, "no file has this key")
        file, run = row
        if _inactive(run, event):
            return Outcome.IGNORED
        return self._process_file(event, target_of(file), sight, watches_key=True, overwrites=True)

    # --- inbox/: every version of a key is a run of its own -------------------------------

    def _process_inbox(self, event: ObjectEvent, sight: Sight) -> Outcome:
        """Adopt the versions the event concerns that have no file yet, then verify the pending
        files of the key. The newest file answers for the key (a delete marker on it), and the
        file of the version the event names is checked for its loss; a new version is a new
        run, never an overwrite of an older one."""
        found = self._objects_at(event.key, event.version_id, sight)
        files = self._files_at(event.key)
        adopted = self._adopt_new(event.key, found, files)
        if None in adopted:  # another delivery adopted one meanwhile: read what it wrote
            files = self._files_at(event.key)
        else:  # adopted now, so newer than any other (the current version last)
            files = [(target, None) for target in reversed(adopted) if target] + files
        if not files:
            return _ignore(event, "no object at the key to adopt")
        chosen = [
            (target, newest == 0)
            for newest, (target, run) in enumerate(files)
            if (
                newest == 0
                or target.status == FileStatus.PENDING
                or (event.version_id is not None and target.version_id == event.version_id)
            )
            and not (run is not None and _inactive(run, event))
        ]
        outcomes = [
            self._process_file(event, target, sight, watches_key=newest, overwrites=False)
            for target, newest in chosen
        ]
        return min(outcomes, key=SIGNIFICANCE.index, default=Outcome.IGNORED)

    def _files_at(self, key: str) -> list[tuple[Target, Run | None]]:
        """The files of `key` with their runs, newest first (None: a run adopted just now)."""
        with self.db.session() as session:
            rows = session.execute(
                select(File, Run)
                .join(Run, File.run_id == Run.id)
                .where(File.object_key == key)
                .order_by(File.created_at.desc(), File.id.desc())
            ).all()
            found: list[tuple[Target, Run | None]] = [(target_of(file), run) for file, run in rows]
            return found

    def _adopt_new(
        self,
        key: str,
        found: list[ObjectInfo],
        files: list[tuple[Target, Run | None]],
        now: datetime | None = None,
    ) -> list[Target | None]:
        """Adopt the versions in `found` that none of `files` records, the event's version
        first (it is older than the current one, or the same): the file adopted for each, or
        None where another delivery won the race (deferred ones are left out)."""
        known = {target.version_id for target, _ in files}
        adopted = (self._adopt(key, info, now) for info in found if info.version_id not in known)
        return [target for target in adopted if target is not DEFERRED]

    def adopt_versions(
        self, key: str, version_id: str | None = None, *, now: datetime | None = None
    ) -> int:
        """Give an `inbox/` key's versions a run each (source `bucket`) unless they have one:
        the version `version_id` (an event's, once the bucket confirms it is an object) and
        the key's current version; how many were adopted. S3 and MinIO name the version in
        their events, so each version becomes a run exactly once however late or often its
        event comes (an event without one, as moto sends, adopts the current version only);
        a forged event adopts nothing the bucket does not hold. Concurrent deliveries adopt a
        version once: (key, version) is unique, and a delivery that loses the insert race
        drops the run it had just inserted. Without versions, the key is adopted once.
        Over the inbox rate (INLET_QUOTA_INBOX_PER_MINUTE, counted at `now`) a version stays
        unadopted, logged `inbox adoption deferred`; the scheduled job adopts it later."""
        found = self._objects_at(key, version_id, Sight(self.storage))
        if not found:
            return 0
        if unstorable_character(key) is not None:
            return self._fail_adoptions(key, found, now)
        adopted = self._adopt_new(key, found, self._files_at(key), now)
        return sum(target is not None for target in adopted)

    def _adopt(
        self, key: str, info: ObjectInfo, now: datetime | None = None
    ) -> Target | Deferred | None:
        """The pending file of the version adopted now; None if it had been; DEFERRED when the
        inbox rate defers it (INLET_QUOTA_INBOX_PER_MINUTE, counted at `now`: the scheduled
        job adopts it later)."""
        now, run_id, new_file_id = now or utcnow(), uuid.uuid4(), uuid.uuid4()
        path = key[len(INBOX_PREFIX) :]
        # Under the inbox owner's lock (Postgres) or the write lock (SQLite), so concurrent
        # deliveries count each other's adoptions.
        with self.db.session(serialize=True) as session:
            if limits.adoption_deferred(session, self.settings, now, key, info.version_id):
                return DEFERRED
            session.execute(
                insert(Run).values(
                    id=run_id,
                    type=run_type_for(key, self.settings),
                    # Controls and bidi overrides become U+FFFD (the name policy); the key
                    # stays as the bucket has it.
                    label=neutralise(path)[:200],
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
                    id=new_file_id,
                    run_id=run_id,
                    name=neutralise(path.rsplit("/", 1)[-1])[:255],
                    object_key=key,
                    size_bytes=info.size,
                    content_type=(info.content_type or "application/octet-stream")[:255],
                    status=FileStatus.PENDING.value,
                    version_id=info.version_id,
                    created_at=now,
                )
                .returning(File.id)
            )
            if file_id is None:
                session.execute(delete(Run).where(Run.id == run_id))
                return None
        logger.info(
            "inbox object adopted",
            extra={"key": key, "run_id": str(run_id), "version_id": info.version_id},
        )
        return Target(new_file_id, run_id, info.size, None, key, version_id=info.version_id)

    def _objects_at(self, key: str, version_id: str | None, sight: Sight) -> list[ObjectInfo]:
        """The objects an inbox event concerns, as the bucket knows them: the version it names
        (if the bucket confirms it is an object) and the key's current version, in that order."""
        current = sight.head(key)
        found: list[ObjectInfo] = []
        if version_id is not None:
            hinted = self._ask_about(key, version_id, sight)
            if isinstance(hinted, ObjectInfo):
                found.append(hinted)
        if isinstance(current, ObjectInfo) and current.version_id not in {
            info.version_id for info in found
        }:
            found.append(current)
        return found

    # --- inbox/ keys no row can hold --------------------------------------------------------

    def _unstorable_ignored(self, key: str, reason: str) -> Outcome:
        """Acknowledged, with an error log: delivering it again would fail the same way."""
        ch = unstorable_character(key)
        assert ch is not None
        logger.error(
            "event for a key the database cannot store ignored",
            extra={"key": escaped(key), "character": describe_character(ch), "reason": reason},
        )
        return Outcome.IGNORED

    def _adopt_unstorable(self, event: ObjectEvent, sight: Sight) -> Outcome:
        """An inbox key with a NUL: no file row can hold it (Postgres refuses it on every
        delivery, which would send the message to the dead-letter queue), so each of its
        versions becomes a `failed` run (`unstorable_key`) with a readable label, and no file;
        the object stays in the bucket as it is. A lone surrogate is no S3 key at all (a forged
        event): logged and acknowledged."""
        key = event.key
        ch = unstorable_character(key)
        assert ch is not None
        if _surrogate(ch):
            return self._unstorable_ignored(key, "not UTF-8: no bucket holds such a key")
        try:
            found = self._objects_at(key, event.version_id, sight)
        except ClientError as exc:
            status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 500))
            if status >= 500:
                raise
            return self._unstorable_ignored(key, f"the bucket refused to describe it ({status})")
        if not found:
            return self._unstorable_ignored(key, "no object at the key")
        adopted = self._fail_adoptions(key, found)
        return Outcome.FAILED if adopted else Outcome.DUPLICATE

    def _fail_adoptions(
        self, key: str, found: list[ObjectInfo], now: datetime | None = None
    ) -> int:
        """A failed run for each version of an unstorable inbox key that has none yet (the run
        id is derived from the bucket, key and version); how many were recorded."""
        ch = unstorable_character(key)
        assert ch is not None
        now, path, shown = now or utcnow(), key[len(INBOX_PREFIX) :], escaped(key)
        recorded = 0
        for info in found:
            name = f"{self.storage.bucket}\n{key}\n{info.version_id or ''}"
            run_id = uuid.uuid5(UNSTORABLE_RUNS, name)
            message = (
                f"the object's key contains {describe_character(ch)}, which the database cannot "
                f"store: it was not adopted, and stays in the bucket as it is (key {shown}, "
                f"{info.size} bytes, version {info.version_id or 'none'}); copy it to a key "
                "without that character to adopt it"
            )
            with self.db.session() as session:
                inserted = session.scalar(
                    _insert_run_once(self.db)
                    .values(
                        id=run_id,
                        type=run_type_for(key, self.settings),
                        label=neutralise(path)[:200],
                        status=RunStatus.FAILED.value,
                        source=RunSource.BUCKET.value,
                        owner=self.settings.inlet_inbox_owner,
                        created_at=now,
                        updated_at=now,
                        error_code=UNSTORABLE_KEY,
                        error_message=message,
                    )
                    .returning(Run.id)
                )
                if inserted is not None:
                    failed = session.get(Run, run_id)
                    assert failed is not None
                    record_event(session, self.settings, failed, RunEventType.FAILED)
            if inserted is None:
                continue
            recorded += 1
            logger.error(
                "inbox object not adopted: the database cannot store its key",
                extra={"key": shown, "run_id": str(run_id), "version_id": info.version_id},
            )
            metrics.add_metric(name="ObjectsFailed", unit=MetricUnit.Count, value=1)
        return recorded

    # --- one file --------------------------------------------------------------------------

    def _process_file(
        self,
        event: ObjectEvent,
        target: Target,
        sight: Sight,
        *,
        watches_key: bool,
        overwrites: bool,
    ) -> Outcome:
        """A pending file is verified; a final one (or one another delivery has just recorded)
        is checked against what its key holds now."""
        with _log_keys(run_id=str(target.run_id), file_id=str(target.file_id), key=target.key):
            if target.status == FileStatus.PENDING:
                outcome = self._verify_pending(event, target, sight)
                if outcome != Outcome.DUPLICATE:
                    return outcome
                reloaded = self._reload(target)
                if reloaded is None:
                    return _ignore(event, "the file was deleted meanwhile")
                target = reloaded
            return self._check_final(
                event, target, sight, watches_key=watches_key, overwrites=overwrites
            )

    def _reload(self, target: Target) -> Target | None:
        with self.db.session() as session:
            file = session.get(File, target.file_id)
            return None if file is None else target_of(file)

    def _verify_pending(self, event: ObjectEvent, target: Target, sight: Sight) -> Outcome:
        # The version to verify: the one adopted (inbox), else what the key holds now.
        info = sight.head(target.key, target.version_id)
        if not isinstance(info, ObjectInfo):
            # An event is no evidence: without an object at the key (not yet uploaded, a forged
            # event, deleted since), the file stays pending (until its upload, or expiry).
            return _ignore(event, "no object at the key (yet): the file stays pending")
        started = time.perf_counter()
        # Hashing a large object takes a while: say which one is in flight.
        logger.debug("hashing object", extra={"size": info.size, "version_id": info.version_id})
        verdict = verify(self.storage, self.settings, target.key, target, info)
        if verdict is None:
            return _ignore(event, "the object vanished while it was read: the file stays pending")
        outcome = record(self.db, self.settings, target, event, verdict)
        if outcome in (Outcome.STORED, Outcome.FAILED):
            _report(outcome, verdict, time.perf_counter() - started)
        return outcome

    def _check_final(
        self,
        event: ObjectEvent,
        target: Target,
        sight: Sight,
        *,
        watches_key: bool,
        overwrites: bool,
    ) -> Outcome:
        findings = self._findings(
            event, target, sight, watches_key=watches_key, overwrites=overwrites
        )
        if not findings:
            logger.info(
                "duplicate event",
                extra={
                    "key": target.key,
                    "reason": f"already {target.status}; the bucket shows nothing new",
                },
            )
            return Outcome.DUPLICATE
        return self._record_findings(event, target, findings)

    def _findings(
        self,
        event: ObjectEvent,
        target: Target,
        sight: Sight,
        *,
        watches_key: bool,
        overwrites: bool,
    ) -> list[Finding]:
        """What the bucket shows for a final file: its recorded version gone (stored files
        only: a failed file's bytes were never accepted), and, for the file that answers for
        its key, another version or a delete marker there now (or at the version the event
        names, once the bucket confirms it)."""
        key, recorded = target.key, target.version_id
        current = sight.head(key)
        found: list[Finding] = []
        if target.status == FileStatus.STORED:
            if recorded is not None:
                mine = sight.head(key, recorded)
                if not isinstance(mine, ObjectInfo):
                    message = (
                        f"the recorded version {recorded} of {key} is no longer in the bucket: "
                        "it was permanently deleted"
                    )
                    found.append(Finding(IncidentKind.VERSION_LOST, None, message))
            elif _lost_without_versions(current, target):
                message = (
                    f"{key} no longer holds the recorded bytes (ETag {target.etag}), and this "
                    "bucket keeps no versions: they were overwritten or deleted"
                )
                found.append(Finding(IncidentKind.VERSION_LOST, None, message))
        if not watches_key:
            return found
        others: dict[str, ObjectInfo | DeleteMarker] = {}
        if current is not None and current.version_id is not None:
            others[current.version_id] = current
        others.pop(recorded or "", None)  # the recorded version is no other
        hint = event.version_id
        if hint is not None and hint != recorded and hint not in others:
            hinted = self._ask_about(key, hint, sight)
            if hinted is not None:
                others[hint] = hinted
        kept = f"the recorded version {recorded} stays readable" if recorded else "nothing kept"
        for version, what in others.items():
            if isinstance(what, DeleteMarker):
                message = f"a delete marker ({version}) was placed on {key}; {kept}"
                found.append(Finding(IncidentKind.DELETED, version, message))
            elif overwrites:
                message = f"another version ({version}) was written over {key}; {kept}"
                found.append(Finding(IncidentKind.OVERWRITTEN, version, message))
        return found

    def _ask_about(
        self, key: str, version_id: str, sight: Sight
    ) -> ObjectInfo | DeleteMarker | None:
        """The version an event names, as the bucket knows it (None: no such version)."""
        try:
            return sight.head(key, version_id)
        except ClientError as exc:
            if error_code(exc) in UNKNOWN_VERSION_CODES:
                return None
            raise

    def _record_findings(
        self, event: ObjectEvent, target: Target, findings: list[Finding]
    ) -> Outcome:
        """Record each finding once, under the run's lock (so two deliveries cannot both record
        one, whatever the unique constraint can see: it takes NULLs as distinct); a lost version
        turns a stored file `lost` and settles its run."""
        recorded: list[Incident] = []
        with self.db.session(serialize=True) as session:
            run = session.get(Run, target.run_id, with_for_update=True)
            file = session.get(File, target.file_id, with_for_update=True)
            if run is None or file is None:
                return _ignore(event, "the run was deleted while its key was checked")
            if _inactive(run, event):
                return Outcome.IGNORED
            lost = False
            for finding in findings:
                other = Incident.other_version_id
                seen = session.scalar(
                    select(Incident.id).where(
                        Incident.file_id == file.id,
                        Incident.kind == finding.kind.value,
                        other.is_(None)
                        if finding.other_version_id is None
                        else other == finding.other_version_id,
                    )
                )
                if seen is not None:
                    continue
                incident = Incident(
                    id=uuid.uuid4(),
                    run_id=run.id,
                    file_id=file.id,
                    kind=finding.kind.value,
                    object_key=file.object_key,
                    recorded_version_id=file.version_id,
                    other_version_id=finding.other_version_id,
                    detected_at=utcnow(),
                    message=finding.message,
                )
                session.add(incident)
                recorded.append(incident)
                if finding.kind == IncidentKind.VERSION_LOST and file.status == FileStatus.STORED:
                    file.status = FileStatus.LOST.value
                    file.error_code, file.error_message = VERSION_DELETED, finding.message
                    lost = True
            session.flush()
            if lost:
                settle_and_announce(session, self.settings, run)
            # Each incident's event shows the run as the incident left it.
            for incident in recorded:
                record_event(session, self.settings, run, RunEventType.INCIDENT, incident)
        for incident in recorded:
            logger.warning(
                "integrity incident",
                extra={
                    "kind": incident.kind,
                    "key": incident.object_key,
                    "run_id": str(incident.run_id),
                    "file_id": str(incident.file_id),
                    "recorded_version_id": incident.recorded_version_id,
                    "other_version_id": incident.other_version_id,
                    "detail": incident.message,
                },
            )
            metrics.add_metric(name="IntegrityIncidents", unit=MetricUnit.Count, value=1)
        if not recorded:
            logger.info("duplicate event", extra={"key": target.key, "reason": "known incident"})
            return Outcome.DUPLICATE
        return Outcome.INCIDENT

    # --- delivery paths ----------------------------------------------------------------------

    def from_queue(self, sqs_event: dict[str, Any]) -> PartialItemFailureResponse:
        """An SQS Lambda event of bucket notifications; names the messages to deliver again."""
        return sqs.handle_batch(sqs_event, self.process, self.settings.inlet_event_concurrency)

    def from_webhook(self, notification: BucketNotification) -> BucketEventsResult:
        """A notification MinIO's webhook target posted; any failure raises (MinIO retries)."""
        result = webhook.receive(notification, self.process)
        # A forged record's key may hold a lone surrogate, which JSON output cannot encode: it
        # is answered escaped (it was ignored), never a 500 that MinIO would retry forever.
        for processed in result.processed:
            if any(_surrogate(ch) for ch in processed.key):
                processed.key = escaped(processed.key)
        return result
