"""Expire runs left `pending` too long (abandoned uploads) and abort their multipart uploads,
which the bucket would otherwise keep, and bill, until its lifecycle rule removes them. Each
expired run records its `run.expired` event in the same transaction (chalicelib/outbox.py).

The scheduled job (`chalicelib.maintenance`) passes the event handler: then a run is expired
only after its objects are checked, and a run whose bytes are all in the bucket (an upload whose
event was lost) is processed as if its events had arrived instead, never expired."""

from __future__ import annotations

import enum
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select

from chalicelib.config import Settings
from chalicelib.db import Database
from chalicelib.events import BucketEvents
from chalicelib.logs import logger
from chalicelib.models import File, FileStatus, Run, RunEventType, RunStatus, utcnow
from chalicelib.outbox import record_event
from chalicelib.sqs import ObjectEvent
from chalicelib.storage import Storage
from chalicelib.uploads import abort_open_uploads

BATCH = 100  # runs read per query
LIMIT = 1000  # runs looked at per invocation of the scheduled job


class Expiry(enum.StrEnum):
    EXPIRED = "expired"
    COMPLETE = "complete"  # every pending file's bytes are in the bucket: process, not expire
    SETTLED = "settled"  # no longer pending: something else settled it first


@dataclass
class ExpiryReport:
    expired: int = 0
    completed: int = 0  # runs found complete at expiry and processed instead
    errors: int = 0  # runs left pending for the next pass (a bucket or processing error)
    more: bool = False  # stopped by the limit or the deadline with runs left to look at


def bytes_arrived(storage: Storage, file: File) -> bool:
    """The bucket holds the file's bytes: a completed multipart upload, or an object at its key
    (the bucket is asked even for a multipart file, in case its completion was not recorded)."""
    if file.upload_completed_at is not None:
        return True
    return storage.upload_arrived_at(file.object_key) is not None


def _complete(storage: Storage, files: Iterable[File]) -> list[tuple[str, str | None]]:
    """(key, version) of the pending files when every one of them has its bytes in the bucket;
    else (or when none is pending) an empty list."""
    pending = [file for file in files if file.status == FileStatus.PENDING]
    if pending and all(bytes_arrived(storage, file) for file in pending):
        return [(file.object_key, file.version_id) for file in pending]
    return []


def expire_run(
    db: Database,
    storage: Storage,
    run_id: uuid.UUID,
    ttl: timedelta,
    *,
    check: bool = False,
    settings: Settings | None = None,
) -> tuple[Expiry, list[tuple[str, str | None]]]:
    """Expire one run if it is still pending, with its `run.expired` event, sent to the
    destinations `settings` names (None: recorded, sent nowhere). With `check`, a run whose
    pending files all have their bytes in the bucket is left pending: (COMPLETE, the files'
    keys and versions)."""
    with db.session(serialize=True) as session:
        run = session.get(Run, run_id, with_for_update=True)
        if run is None or run.status != RunStatus.PENDING:
            return Expiry.SETTLED, []
        # Checked under the run's lock: a multipart upload completed meanwhile is seen here.
        files = _complete(storage, run.files) if check else []
        if files:
            return Expiry.COMPLETE, files
        # Abort before committing: if the bucket fails, the run stays pending for the next pass.
        abort_open_uploads(storage, run.files)
        run.status = RunStatus.EXPIRED.value
        run.error_code = "expired"
        run.error_message = f"still pending {ttl} after it was created"
        record_event(session, settings, run, RunEventType.EXPIRED)
    logger.info("run expired", extra={"run_id": str(run_id), "created_at": str(run.created_at)})
    return Expiry.EXPIRED, []


def _process(events: BucketEvents, run_id: uuid.UUID, files: list[tuple[str, str | None]]) -> None:
    """Process a complete run's files as their (lost) events would have been."""
    for key, version_id in files:
        event = ObjectEvent(bucket=events.storage.bucket, key=key, version_id=version_id)
        outcome = events.process(event)
        logger.info(
            "upload reconciled at expiry",
            extra={"run_id": str(run_id), "key": key, "outcome": outcome.value},
        )


def expire_pending(
    db: Database,
    storage: Storage,
    ttl: timedelta,
    now: datetime | None = None,
    *,
    events: BucketEvents | None = None,
    settings: Settings | None = None,
    limit: int = LIMIT,
    deadline: float | None = None,
) -> ExpiryReport:
    """Expire the runs created more than `ttl` before `now` and still pending, oldest first, at
    most `limit` of them and none started after `deadline` (time.monotonic()). With `events`,
    each run's objects are checked first (see the module). Each `run.expired` event goes to the
    destinations `settings` names (`expire_run`). A run that fails (the bucket, the database) is
    logged and left pending for the next pass."""
    cutoff = (now or utcnow()) - ttl
    report = ExpiryReport()
    after: tuple[datetime, uuid.UUID] | None = None
    seen = 0
    while True:
        query = select(Run.id, Run.created_at).where(
            Run.status == RunStatus.PENDING, Run.created_at < cutoff
        )
        if after is not None:
            # Keyset: a run left pending by an error is not looked at again in this pass.
            query = query.where(
                or_(Run.created_at > after[0], and_(Run.created_at == after[0], Run.id > after[1]))
            )
        with db.session() as session:
            rows = session.execute(query.order_by(Run.created_at, Run.id).limit(BATCH)).all()
        if not rows:
            return report
        for run_id, created_at in rows:
            if seen >= limit or (deadline is not None and time.monotonic() >= deadline):
                report.more = True
                return report
            seen += 1
            after = (created_at, run_id)
            try:
                verdict, files = expire_run(
                    db, storage, run_id, ttl, check=events is not None, settings=settings
                )
                if verdict == Expiry.COMPLETE:
                    assert events is not None
                    _process(events, run_id, files)
                    # Processed without an error yet still pending (the object went away
                    # meanwhile, or the handler found nothing to record): expired after all,
                    # or the same run would be "complete" on every pass.
                    verdict, _ = expire_run(db, storage, run_id, ttl, settings=settings)
                    if verdict == Expiry.SETTLED:
                        report.completed += 1
                if verdict == Expiry.EXPIRED:
                    report.expired += 1
            except Exception:
                logger.exception("could not expire run; next pass", extra={"run_id": str(run_id)})
                report.errors += 1


def expire_runs(
    db: Database,
    storage: Storage,
    ttl: timedelta,
    now: datetime | None = None,
    *,
    events: BucketEvents | None = None,
    settings: Settings | None = None,
) -> int:
    """Expire every run created more than `ttl` before `now` and still pending; how many. Without
    `events`, runs are expired whatever their objects hold (the scheduled job passes it)."""
    expiry = expire_pending(db, storage, ttl, now, events=events, settings=settings, limit=2**62)
    return expiry.expired
