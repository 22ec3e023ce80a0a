"""Quotas and rate limits per owner (docs/security.md, "Quotas").

An owner is the owner of the request's token; with authentication off every caller is the one
owner `None`. Everything is counted from the database, never from memory (a Lambda has many
copies), inside the transaction that creates the run, under a lock per owner:

- runs created through the API (`source = api`): pending at once (INLET_QUOTA_PENDING_RUNS),
  bytes their pending files declare (INLET_QUOTA_PENDING_BYTES), created in the last 60 s
  (INLET_QUOTA_RUNS_PER_MINUTE);
- runs adopted from drops into `inbox/` (`source = bucket`, owner INLET_INBOX_OWNER): adopted in
  the last 60 s (INLET_QUOTA_INBOX_PER_MINUTE). A drop over the limit waits in the bucket; the
  scheduled job adopts it when the window has room (chalicelib/maintenance.py).

The lock: on Postgres a transaction-scoped advisory lock on the owner
(`pg_advisory_xact_lock(namespace, hashtext(owner))`), taken before counting and held until the
commit; on SQLite the caller's `serialize=True` session holds the database's write lock. So two
concurrent creations of one owner are counted one after the other, and cannot both slip under
a limit. 0 turns a limit off.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

from aws_lambda_powertools.metrics import MetricUnit
from sqlalchemy import ColumnElement, func, select, text
from sqlalchemy.orm import Session

from chalicelib.config import Settings
from chalicelib.db import Database
from chalicelib.errors import QuotaExceeded, TooLarge
from chalicelib.logs import logger
from chalicelib.models import File, FileStatus, Run, RunSource, RunStatus, utcnow
from chalicelib.schemas import Limits, LimitUse, UploadRules
from chalicelib.telemetry import metrics

# Rates are counted over a sliding window of this length.
WINDOW = timedelta(seconds=60)
# Retry-After of a pending limit: it frees up as uploads finish, are cancelled or expire, which
# nobody can foretell; about a minute is a polite interval to look again.
PENDING_RETRY_AFTER = 60
# First keys of the advisory locks (the second is the owner's hash): one for the API's
# creations, one for the inbox's adoptions, so neither waits for the other.
API_LOCK = 0x1A1E7
INBOX_LOCK = 0x1A1E8


@dataclass(frozen=True)
class Use:
    """One limit as counted now."""

    name: str
    setting: str
    limit: int  # 0: no limit
    used: int
    window: bool = False  # a rate over WINDOW
    retry_after: int | None = None  # rates with nothing remaining: seconds until a slot frees

    @property
    def remaining(self) -> int | None:
        return max(self.limit - self.used, 0) if self.limit else None

    def out(self) -> LimitUse:
        return LimitUse(
            limit=self.limit or None,
            used=self.used,
            remaining=self.remaining,
            window_seconds=int(WINDOW.total_seconds()) if self.window else None,
            retry_after=self.retry_after if self.remaining == 0 else None,
            setting=self.setting,
        )


def _owned_by(owner: str | None) -> ColumnElement[bool]:
    return Run.owner.is_(None) if owner is None else Run.owner == owner


def lock_owner(session: Session, namespace: int, owner: str | None) -> None:
    """Serialize the quota decisions of one owner until the transaction ends (Postgres; on
    SQLite the session's BEGIN IMMEDIATE already holds the database's write lock)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(:namespace, hashtext(:owner))"),
            # Owners are never empty (OWNER_PATTERN): "" stands for no owner.
            {"namespace": namespace, "owner": owner or ""},
        )


def pending_runs(session: Session, owner: str | None) -> int:
    query = select(func.count()).where(
        _owned_by(owner), Run.source == RunSource.API.value, Run.status == RunStatus.PENDING.value
    )
    return int(session.scalar(query) or 0)


def pending_bytes(session: Session, owner: str | None) -> int:
    """Bytes declared by the pending files of the owner's pending runs: not stored yet."""
    query = (
        select(func.coalesce(func.sum(File.size_bytes), 0))
        .join(Run, Run.id == File.run_id)
        .where(
            _owned_by(owner),
            Run.source == RunSource.API.value,
            Run.status == RunStatus.PENDING.value,
            File.status == FileStatus.PENDING.value,
        )
    )
    return int(session.scalar(query) or 0)


def rate(
    session: Session,
    owner: str | None,
    source: RunSource,
    limit: int,
    now: datetime,
    name: str,
    setting: str,
) -> Use:
    """Runs of `source` the owner created in the window before `now`; when that is `limit` or
    more, `retry_after` is when the creation whose leaving makes room leaves the window. (Runs
    dated after `now`, by a clock a little ahead, count too.)"""
    since = now - WINDOW
    recent = (_owned_by(owner), Run.source == source.value, Run.created_at > since)
    used = int(session.scalar(select(func.count()).where(*recent)) or 0)
    retry_after = None
    if limit and used >= limit:
        # With `used - limit + 1` of them gone, one more fits: wait for the oldest of those.
        leaving = session.scalar(
            select(Run.created_at)
            .where(*recent)
            .order_by(Run.created_at, Run.id)
            .offset(used - limit)
            .limit(1)
        )
        seconds = ((leaving or now) + WINDOW - now).total_seconds()
        retry_after = min(max(math.ceil(seconds), 1), int(WINDOW.total_seconds()))
    return Use(name, setting, limit, used, window=True, retry_after=retry_after)


def api_uses(session: Session, settings: Settings, owner: str | None, now: datetime) -> list[Use]:
    return [
        Use(
            "pending_runs",
            "INLET_QUOTA_PENDING_RUNS",
            settings.inlet_quota_pending_runs,
            pending_runs(session, owner),
        ),
        Use(
            "pending_bytes",
            "INLET_QUOTA_PENDING_BYTES",
            settings.inlet_quota_pending_bytes,
            pending_bytes(session, owner),
        ),
        rate(
            session,
            owner,
            RunSource.API,
            settings.inlet_quota_runs_per_minute,
            now,
            "runs_per_minute",
            "INLET_QUOTA_RUNS_PER_MINUTE",
        ),
    ]


def inbox_use(session: Session, settings: Settings, now: datetime) -> Use:
    return rate(
        session,
        settings.inlet_inbox_owner,
        RunSource.BUCKET,
        settings.inlet_quota_inbox_per_minute,
        now,
        "inbox_per_minute",
        "INLET_QUOTA_INBOX_PER_MINUTE",
    )


def _who(owner: str | None) -> str:
    return f"owner {owner!r}" if owner is not None else "the shared owner (authentication is off)"


def check_size(settings: Settings, declared: int) -> None:
    """A run that declares more bytes than the whole pending-bytes quota can never be created:
    413, not a 429 that would be retried in vain."""
    most = settings.inlet_quota_pending_bytes
    if most and declared > most:
        raise TooLarge(
            f"the run declares {declared} bytes; at most {most} bytes may be pending at once "
            "(INLET_QUOTA_PENDING_BYTES): split it into smaller runs",
            [{"field": "pending_bytes", "message": f"at most {most} bytes pending at once"}],
        )


def check_creation(
    session: Session, settings: Settings, owner: str | None, declared: int
) -> datetime:
    """Lock the owner's quotas, then raise QuotaExceeded (429) if one more run declaring
    `declared` bytes would go over any limit; else the time the run is created at (read once
    the lock is held). It decides in the transaction that inserts the run; a run with multipart
    uploads is checked once before too, in a transaction of its own, so one over a limit is
    refused before anything is created in the bucket (the bucket calls hold no lock)."""
    if not (
        settings.inlet_quota_pending_runs
        or settings.inlet_quota_pending_bytes
        or settings.inlet_quota_runs_per_minute
    ):
        return utcnow()  # every limit off: nothing to count or to wait for
    lock_owner(session, API_LOCK, owner)
    now = utcnow()
    adds = {"pending_runs": 1, "pending_bytes": declared, "runs_per_minute": 1}
    over = [
        use
        for use in api_uses(session, settings, owner, now)
        if use.limit and use.used + adds[use.name] > use.limit
    ]
    if not over:
        return now
    retry_after = max(use.retry_after or PENDING_RETRY_AFTER for use in over)
    details = [{"field": use.name, "message": _explain(use, adds[use.name])} for use in over]
    raise QuotaExceeded(
        f"quota exceeded for {_who(owner)}: {details[0]['message']}; nothing was created, "
        f"try again in {retry_after} s",
        details,
        retry_after,
    )


def _explain(use: Use, adds: int) -> str:
    if use.name == "pending_runs":
        what = f"{use.used} runs are pending, the limit is {use.limit}"
        then = "wait for uploads to finish, or cancel some"
    elif use.name == "pending_bytes":
        what = (
            f"{use.used} bytes are declared by pending runs; {adds} more would pass the "
            f"limit of {use.limit}"
        )
        then = "wait for uploads to finish, or cancel some"
    else:
        what = f"{use.used} runs were created in the last 60 s, the limit is {use.limit}"
        then = "slow down"
    return f"{what} ({use.setting}); {then}"


def adoption_deferred(
    session: Session, settings: Settings, now: datetime, key: str, version_id: str | None
) -> bool:
    """Lock the inbox owner's adoptions, then whether the drop `key` (`version_id`) must wait:
    INLET_QUOTA_INBOX_PER_MINUTE drops were adopted in the window before `now`. A deferred drop
    stays in the bucket, unadopted; the scheduled job adopts it when the window has room."""
    if not settings.inlet_quota_inbox_per_minute:
        return False
    lock_owner(session, INBOX_LOCK, settings.inlet_inbox_owner)
    use = inbox_use(session, settings, now)
    if use.used < use.limit:
        return False
    logger.info(
        "inbox adoption deferred",
        extra={
            "key": key,
            "version_id": version_id,
            "owner": settings.inlet_inbox_owner,
            "adopted_last_minute": use.used,
            "limit": use.limit,
            "retry_after": use.retry_after,
        },
    )
    metrics.add_metric(name="InboxAdoptionsDeferred", unit=MetricUnit.Count, value=1)
    return True


def inbox_was_full(db: Database, settings: Settings, since: datetime) -> bool:
    """Whether the inbox rate was reached at some moment after `since`: some 60 s held
    INLET_QUOTA_INBOX_PER_MINUTE adoptions. Only then can a drop have been deferred (nothing
    records a deferral but the log), so only then does the scheduled job look for them."""
    limit = settings.inlet_quota_inbox_per_minute
    if not limit:
        return False
    query = (
        select(Run.created_at)
        .where(
            _owned_by(settings.inlet_inbox_owner),
            Run.source == RunSource.BUCKET.value,
            Run.created_at > since - WINDOW,
        )
        .order_by(Run.created_at)
        .execution_options(yield_per=1000)
    )
    recent: deque[datetime] = deque(maxlen=limit)
    with db.session() as session:
        for created_at in session.scalars(query):
            recent.append(created_at)
            if len(recent) == limit and created_at - recent[0] < WINDOW:
                return True
    return False


def inbox_remaining(db: Database, settings: Settings, now: datetime) -> int | None:
    """Drops that may be adopted now (None: no limit); read without the lock, as a hint."""
    if not settings.inlet_quota_inbox_per_minute:
        return None
    with db.session() as session:
        return inbox_use(session, settings, now).remaining


class Quotas:
    """`GET /v1/limits`: the caller's owner's limits and their use now."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings

    def of(self, owner: str | None) -> Limits:
        now = utcnow()
        with self.db.session() as session:
            uses = {use.name: use.out() for use in api_uses(session, self.settings, owner, now)}
            inbox = (
                inbox_use(session, self.settings, now).out()
                if owner == self.settings.inlet_inbox_owner
                else None
            )
        return Limits(
            owner=owner,
            uploads=UploadRules(
                max_file_size=self.settings.inlet_max_file_size,
                max_files_per_run=self.settings.inlet_max_files_per_run,
                multipart_threshold=self.settings.inlet_multipart_threshold,
            ),
            pending_runs=uses["pending_runs"],
            pending_bytes=uses["pending_bytes"],
            runs_per_minute=uses["runs_per_minute"],
            inbox_per_minute=inbox,
        )
