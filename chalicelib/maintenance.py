"""The scheduled job: what keeps the database and the bucket in agreement when events are lost
and runs are abandoned, and publishes the run events left. One invocation (`run_schedule`) does
five steps, in this order, each bounded (a number of items, and a deadline no item starts after)
so it ends well within the function's timeout; whatever is left waits for the next invocation:

1. reconcile: a pending file of a pending run whose bytes have been in the bucket longer than
   INLET_RECONCILE_AFTER_SECONDS (a completed multipart upload; a single PUT's object, by its
   LastModified) is processed as if its event had arrived, through `BucketEvents.process`;
2. adopt: drops into `inbox/` that the inbox rate (INLET_QUOTA_INBOX_PER_MINUTE) deferred,
   versions no file records yet, are adopted oldest first while the rate has room (counted at
   the job's clock), then processed like their event; the inbox is listed only when the rate
   was full at some moment in the last hours (else nothing was deferred);
3. expiry (`chalicelib.expiry`): runs pending longer than INLET_PENDING_TTL_HOURS are expired,
   their multipart uploads aborted, once their objects are checked: a run whose bytes are all
   there is processed instead, never expired;
4. purge: every version (and delete marker) under `runs/{run_id}/` of a cancelled, expired or
   failed run is deleted INLET_ORPHAN_GRACE_HOURS after the run ended (late uploads included),
   once: `Run.purged_at`. Nothing of a stored run is ever deleted;
5. publish (`chalicelib.outbox`): the run events due (this job's, and those a handler did not
   get to publish: a process that died after its commit, a receiver that was down) are sent.

Every step is idempotent and takes the run's lock where it decides, like the event handler, so
it may run next to events, API calls and another invocation of itself."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import ClientError
from sqlalchemy import select, update

from chalicelib import limits
from chalicelib.bucket import INBOX_PREFIX, RUNS_PREFIX
from chalicelib.config import Settings
from chalicelib.db import Database
from chalicelib.events import BucketEvents, Outcome
from chalicelib.expiry import expire_pending
from chalicelib.logs import logger
from chalicelib.models import File, FileStatus, Run, RunStatus, utcnow
from chalicelib.outbox import DRAIN_BUDGET_SECONDS, Outbox
from chalicelib.sqs import ObjectEvent
from chalicelib.storage import Storage, error_code
from chalicelib.telemetry import metrics

# Per invocation. Reconciling a file is a HEAD (single PUT) and, when its bytes are there, a
# full read to hash them; purging a run is a listing and a delete request per 1,000 versions.
RECONCILE_LIMIT = 500
EXPIRE_LIMIT = 1000
PURGE_LIMIT = 200
# No item starts later than this before the function's timeout (an item started finishes).
SAFETY_SECONDS = 60.0
# The budget when the invocation does not say how long it may take (no Lambda context).
DEFAULT_BUDGET_SECONDS = 240.0
# Runs whose objects are purged once they have ended.
PURGEABLE = (RunStatus.CANCELLED, RunStatus.EXPIRED, RunStatus.FAILED)


@dataclass
class Deadline:
    """time.monotonic() after which no new item starts."""

    at: float

    @classmethod
    def within(cls, seconds: float) -> Deadline:
        return cls(time.monotonic() + max(seconds, 0.0))

    def passed(self) -> bool:
        return time.monotonic() >= self.at


def budget_seconds(context: Any) -> float:
    """How long an invocation may work: the Lambda context's remaining time less a margin."""
    remaining: Callable[[], int] | None = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is None:
        return DEFAULT_BUDGET_SECONDS
    return max(remaining() / 1000 - SAFETY_SECONDS, 0.0)


@dataclass
class ScheduleReport:
    reconciled: int = 0  # files processed whose event had not come
    reconcile_checked: int = 0  # pending files looked at (a HEAD each, for single PUTs)
    expired: int = 0
    completed_at_expiry: int = 0  # runs due to expire whose bytes were complete: processed
    runs_purged: int = 0
    objects_purged: int = 0  # versions and delete markers
    bytes_purged: int = 0
    inbox_adopted: int = 0  # inbox drops the inbox rate had deferred, adopted now
    inbox_waiting: int = 0  # deferred inbox drops still unadopted after this pass
    events_published: int = 0  # run event deliveries made
    events_retried: int = 0  # deliveries that failed, due again after their back-off
    events_dead: int = 0  # deliveries that failed their last attempt (local.admin dead-letters)
    errors: int = 0  # items left for the next invocation after an error (logged)
    unfinished: list[str] = field(default_factory=list)  # steps stopped by a bound


# --- 1. reconcile -----------------------------------------------------------------------------


def _reconcile_one(
    events: BucketEvents, key: str, version_id: str | None, arrived: datetime, now: datetime
) -> Outcome:
    event = ObjectEvent(bucket=events.storage.bucket, key=key, version_id=version_id)
    outcome = events.process(event)
    logger.info(
        "upload reconciled",
        extra={
            "key": key,
            "outcome": outcome.value,
            "event_late_seconds": round((now - arrived).total_seconds()),
        },
    )
    return outcome


def reconcile(
    db: Database,
    events: BucketEvents,
    after: timedelta,
    now: datetime,
    report: ScheduleReport,
    *,
    limit: int = RECONCILE_LIMIT,
    deadline: Deadline | None = None,
) -> None:
    """Process the pending files of pending runs whose bytes have been in the bucket longer
    than `after`: completed multipart uploads first (oldest first; the database knows), then
    single PUTs (newest first: the bucket is asked, a HEAD each). Files beyond `limit` wait;
    an old file that never gets its turn is still checked before its run expires."""
    cutoff = now - after
    pending = (Run.status == RunStatus.PENDING, File.status == FileStatus.PENDING)
    columns = (File.object_key, File.version_id)
    with db.session() as session:
        completed = [
            (key, version, completed_at)
            for key, version, completed_at in session.execute(
                select(*columns, File.upload_completed_at)
                .join(Run, Run.id == File.run_id)
                .where(*pending, File.upload_completed_at < cutoff)
                .order_by(File.upload_completed_at, File.id)
                .limit(limit)
            )
        ]
        singles = [
            (key, version, None)
            for key, version in session.execute(
                select(*columns)
                .join(Run, Run.id == File.run_id)
                .where(*pending, File.part_size.is_(None), File.created_at < cutoff)
                .order_by(File.created_at.desc(), File.id)
                .limit(max(limit - len(completed), 0))
            )
        ]
    storage = events.storage
    candidates: list[tuple[str, str | None, datetime | None]] = [*completed, *singles]
    for key, version_id, completed_at in candidates:
        if deadline is not None and deadline.passed():
            report.unfinished.append("reconcile")
            return
        report.reconcile_checked += 1
        try:
            arrived = completed_at or storage.upload_arrived_at(key)
            if arrived is None or arrived >= cutoff:
                continue  # nothing uploaded yet, or its event may still be on its way
            outcome = _reconcile_one(events, key, version_id, arrived, now)
        except Exception:
            logger.exception("could not reconcile an upload; next pass", extra={"key": key})
            report.errors += 1
            continue
        if outcome in (Outcome.STORED, Outcome.FAILED):
            report.reconciled += 1
    if len(candidates) >= limit:
        report.unfinished.append("reconcile")


# --- 2. deferred inbox drops -------------------------------------------------------------------

# Per invocation: versions listed under inbox/ (1,000 a request), and drops adopted (each is then
# verified: read in full to hash it).
INBOX_SCAN_LIMIT = 50_000
ADOPT_LIMIT = 500
# The inbox is listed only when the inbox rate was full at some moment this long before the job
# (a drop can have been deferred only then); the job runs every 15 minutes.
DEFERRED_LOOKBACK = timedelta(hours=6)


@dataclass(frozen=True)
class Drop:
    """A version under inbox/ that no file records."""

    arrived: datetime
    key: str
    version_id: str | None


def _version(value: str | None) -> str | None:
    return None if value in (None, "", "null") else value


def _inbox_pages(storage: Storage) -> Iterator[list[tuple[str, str | None, datetime]]]:
    """(key, version, LastModified) of every object version under inbox/, a page at a time;
    the current objects only on a store without a versioning API."""
    try:
        versions = storage.client.get_paginator("list_object_versions")
        for page in versions.paginate(Bucket=storage.bucket, Prefix=INBOX_PREFIX):
            yield [
                (v["Key"], _version(v.get("VersionId")), v["LastModified"])
                for v in page.get("Versions", [])
            ]
    except ClientError as exc:
        if error_code(exc) != "NotImplemented":
            raise
        objects = storage.client.get_paginator("list_objects_v2")
        for listing in objects.paginate(Bucket=storage.bucket, Prefix=INBOX_PREFIX):
            yield [(o["Key"], None, o["LastModified"]) for o in listing.get("Contents", [])]


def unadopted_drops(
    db: Database, storage: Storage, before: datetime, limit: int = INBOX_SCAN_LIMIT
) -> tuple[list[Drop], bool]:
    """The versions under inbox/ that arrived before `before` and that no file records,
    oldest first; and whether the listing stopped at `limit` versions (more may wait)."""
    found: list[Drop] = []
    listed = 0
    for page in _inbox_pages(storage):
        listed += len(page)
        drops = [(key, version, at) for key, version, at in page if not key.endswith("/")]
        if drops:
            with db.session() as session:
                rows = session.execute(
                    select(File.object_key, File.version_id).where(
                        File.object_key.in_({key for key, _, _ in drops})
                    )
                )
                known = {(key, version) for key, version in rows}
            found.extend(
                Drop(at, key, version)
                for key, version, at in drops
                if (key, version) not in known and at < before
            )
        if listed >= limit:
            return _oldest_first(found), True
    return _oldest_first(found), False


def _oldest_first(drops: list[Drop]) -> list[Drop]:
    return sorted(drops, key=lambda drop: (drop.arrived, drop.key))


def adopt_deferred(
    db: Database,
    events: BucketEvents,
    settings: Settings,
    now: datetime,
    report: ScheduleReport,
    *,
    scan_limit: int = INBOX_SCAN_LIMIT,
    limit: int = ADOPT_LIMIT,
    deadline: Deadline | None = None,
) -> None:
    """Adopt the inbox drops the inbox rate deferred, oldest first, while the rate has room,
    then process each like its event. Only when the rate was full at some moment in the
    DEFERRED_LOOKBACK before `now` (else nothing can have been deferred, and the inbox is not
    listed); then every version under inbox/ that no file records and that arrived more than
    INLET_RECONCILE_AFTER_SECONDS ago (its event is not on its way) is a candidate. The rate is
    counted at the job's clock: `now` plus the time this step has taken, so a long pass adopts
    more as its window moves on. At most `limit` drops."""
    if not limits.inbox_was_full(db, settings, now - DEFERRED_LOOKBACK):
        return
    before = now - timedelta(seconds=settings.inlet_reconcile_after_seconds)
    drops, more = unadopted_drops(db, events.storage, before, scan_limit)
    if more:
        logger.warning(
            "inbox listing stopped at its bound; drops beyond it wait",
            extra={"listed": scan_limit},
        )
        report.unfinished.append("adopt")
    started = time.monotonic()
    adopted = 0
    for index, drop in enumerate(drops):
        if index >= limit or (deadline is not None and deadline.passed()):
            if "adopt" not in report.unfinished:
                report.unfinished.append("adopt")
            break
        clock = now + timedelta(seconds=time.monotonic() - started)
        if limits.inbox_remaining(db, settings, clock) == 0:
            break  # the next invocation goes on
        try:
            count = events.adopt_versions(drop.key, drop.version_id, now=clock)
            if count:
                event = ObjectEvent(events.storage.bucket, drop.key, version_id=drop.version_id)
                outcome = events.process(event)
                logger.info(
                    "deferred inbox drop adopted",
                    extra={
                        "key": drop.key,
                        "version_id": drop.version_id,
                        "outcome": outcome.value,
                        "waited_seconds": round((clock - drop.arrived).total_seconds()),
                    },
                )
        except Exception:
            logger.exception("could not adopt an inbox drop; next pass", extra={"key": drop.key})
            report.errors += 1
            continue
        adopted += count
    report.inbox_adopted += adopted
    report.inbox_waiting = max(len(drops) - adopted, 0)


# --- 4. purge ---------------------------------------------------------------------------------


def purge_run(
    db: Database, storage: Storage, run_id: uuid.UUID, cutoff: datetime
) -> tuple[int, int] | None:
    """Delete every version under the run's prefix if it ended before `cutoff` and was not
    purged yet: (objects, bytes) deleted, or None when the run does not qualify (any more).
    Decided and done under the run's lock, whatever the query that chose it read."""
    with db.session(serialize=True) as session:
        run = session.get(Run, run_id, with_for_update=True)
        if (
            run is None
            or run.status not in PURGEABLE
            or run.purged_at is not None
            or run.updated_at >= cutoff
        ):
            return None
        status = run.status
        objects, size = storage.purge_prefix(f"{RUNS_PREFIX}{run.id}/")
        # Housekeeping, not a change of the run: its updated_at stays when it ended.
        session.execute(
            update(Run)
            .where(Run.id == run.id)
            .values(purged_at=utcnow(), updated_at=Run.updated_at)
        )
    logger.info(
        "run's objects purged",
        extra={"run_id": str(run_id), "run_status": status, "objects": objects, "bytes": size},
    )
    return objects, size


def purge_orphans(
    db: Database,
    storage: Storage,
    grace: timedelta,
    now: datetime,
    report: ScheduleReport,
    *,
    limit: int = PURGE_LIMIT,
    deadline: Deadline | None = None,
) -> None:
    """Purge the runs that ended (cancelled, expired, failed) more than `grace` before `now`
    and are not purged yet, longest ended first, at most `limit` of them."""
    cutoff = now - grace
    with db.session() as session:
        run_ids = list(
            session.scalars(
                select(Run.id)
                .where(Run.status.in_(PURGEABLE), Run.purged_at.is_(None), Run.updated_at < cutoff)
                .order_by(Run.updated_at, Run.id)
                .limit(limit)
            )
        )
    for run_id in run_ids:
        if deadline is not None and deadline.passed():
            report.unfinished.append("purge")
            return
        try:
            purged = purge_run(db, storage, run_id, cutoff)
        except Exception:
            logger.exception(
                "could not purge a run's objects; next pass", extra={"run_id": str(run_id)}
            )
            report.errors += 1
            continue
        if purged is not None:
            report.runs_purged += 1
            report.objects_purged += purged[0]
            report.bytes_purged += purged[1]
    if len(run_ids) >= limit:
        report.unfinished.append("purge")


# --- 5. publish ----------------------------------------------------------------------------------


def publish(outbox: Outbox, now: datetime, report: ScheduleReport, deadline: Deadline) -> None:
    """Drain the outbox until the deadline; at least for DRAIN_BUDGET_SECONDS, so events are
    published however long the other steps took (the deadline keeps a margin for it)."""
    remaining = max(deadline.at - time.monotonic(), DRAIN_BUDGET_SECONDS)
    drained = outbox.drain(now, budget=remaining)
    report.events_published += drained.published
    report.events_retried += drained.retried
    report.events_dead += drained.dead
    if drained.more:
        report.unfinished.append("publish")


# --- the job ----------------------------------------------------------------------------------


def run_schedule(
    db: Database,
    storage: Storage,
    events: BucketEvents,
    settings: Settings,
    now: datetime | None = None,
    *,
    budget: float = DEFAULT_BUDGET_SECONDS,
    outbox: Outbox | None = None,
) -> ScheduleReport:
    """Reconcile, adopt, expire, purge, publish (see the module), within `budget` seconds of
    starting new work. A step that fails as a whole (the database unreachable) does not stop the
    next ones; the first such failure is raised at the end, so the invocation counts as failed.
    `outbox`: the one to drain (default: one for `settings`)."""
    now = now or utcnow()
    deadline = Deadline.within(budget)
    report = ScheduleReport()
    started = time.perf_counter()
    failures: list[BaseException] = []

    def step(name: str, work: Callable[[], None]) -> None:
        try:
            work()
        except Exception as exc:
            logger.exception("scheduled step failed", extra={"step": name})
            failures.append(exc)

    def expire() -> None:
        ttl = timedelta(hours=settings.inlet_pending_ttl_hours)
        expiry = expire_pending(
            db,
            storage,
            ttl,
            now,
            events=events,
            settings=settings,
            limit=EXPIRE_LIMIT,
            deadline=deadline.at,
        )
        report.expired += expiry.expired
        report.completed_at_expiry += expiry.completed
        report.errors += expiry.errors
        if expiry.more:
            report.unfinished.append("expire")

    after = timedelta(seconds=settings.inlet_reconcile_after_seconds)
    grace = timedelta(hours=settings.inlet_orphan_grace_hours)
    step("reconcile", lambda: reconcile(db, events, after, now, report, deadline=deadline))
    step("adopt", lambda: adopt_deferred(db, events, settings, now, report, deadline=deadline))
    step("expire", expire)
    step("purge", lambda: purge_orphans(db, storage, grace, now, report, deadline=deadline))
    drained = outbox or Outbox.from_settings(db, settings)
    step("publish", lambda: publish(drained, now, report, deadline))
    _report(report, time.perf_counter() - started)
    if failures:
        raise failures[0]
    return report


METRICS = {
    "reconciled": ("ObjectsReconciled", MetricUnit.Count),
    "expired": ("RunsExpired", MetricUnit.Count),
    "completed_at_expiry": ("RunsCompletedAtExpiry", MetricUnit.Count),
    "inbox_adopted": ("InboxDropsAdopted", MetricUnit.Count),
    "inbox_waiting": ("InboxDropsWaiting", MetricUnit.Count),
    "objects_purged": ("ObjectsPurged", MetricUnit.Count),
    "bytes_purged": ("BytesReclaimed", MetricUnit.Bytes),
    "events_published": ("RunEventsPublished", MetricUnit.Count),
    "events_retried": ("RunEventsRetried", MetricUnit.Count),
    "events_dead": ("RunEventsDeadLettered", MetricUnit.Count),
    "errors": ("ScheduleErrors", MetricUnit.Count),
}


def _report(report: ScheduleReport, seconds: float) -> None:
    """One log line per invocation (DEBUG when it found nothing to do), and the metrics of
    what it did (none when nothing: `make dev` runs the job every 30 s)."""
    counts = asdict(report)
    busy = any(counts[name] for name in METRICS) or report.unfinished
    log = logger.info if busy else logger.debug
    log("scheduled job done", extra=counts | {"duration_ms": round(seconds * 1000, 1)})
    for name, (metric, unit) in METRICS.items():
        if counts[name]:
            metrics.add_metric(name=metric, unit=unit, value=counts[name])
