"""Run events out (docs/consumers.md, docs/adr/007-run-events-outbox.md): an outbox.

Recording: whatever changes a run's state (stored, failed, cancelled, expired) or records an
integrity incident calls `record_event` in the same transaction, under the same lock, and only
when its UPDATE or INSERT really changed something, so an event exists exactly when its change
does: once, however often a bucket event is delivered. The event (`run_events`, its payload the
`schemas.RunEvent` consumers get) comes with one `event_deliveries` row per destination
(`chalicelib.publishers.destinations`).

Publishing: `Outbox.drain` claims the due deliveries (an UPDATE ... RETURNING that sets
`claimed_until` where it is unset or past, so two drains never send one delivery at once),
publishes each, then marks it delivered, or due again after a back-off (10 s doubling to an hour,
half of it random), or, after INLET_EVENT_MAX_ATTEMPTS, moves it to `dead_letters` (`replay` puts
it back). The handler that committed events drains right after, within a small time budget; the
scheduled job drains too, so an event whose process died between commit and publish is published
all the same. Delivery is at least once: consumers deduplicate on the event id.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, or_, select, tuple_, update
from sqlalchemy.orm import Session

from chalicelib import schemas
from chalicelib.config import Settings
from chalicelib.db import Database
from chalicelib.logs import logger
from chalicelib.models import (
    DeadLetter,
    EventDelivery,
    File,
    Incident,
    Run,
    RunEvent,
    RunEventType,
    utcnow,
)
from chalicelib.publishers import TIMEOUT_SECONDS, Publisher, Publishers, destinations, event_body

# What a drain after an API call or an event batch may take before it leaves the rest to the
# next drain (a publish started runs to its timeout).
DRAIN_BUDGET_SECONDS = 2.0
CLAIM_BATCH = 20  # deliveries claimed per round
# A claim outlives the drain that made it by this much; a drain that died leaves its claims to
# expire, then they are due again.
CLAIM_MARGIN = timedelta(seconds=60)
ERROR_LENGTH = 1000  # of the last error kept on a delivery
# Files listed in one event: EventBridge takes 256 KiB per event, about 350 bytes a file; a run
# of more files (INLET_MAX_FILES_PER_RUN allows 10,000) says so, and consumers read the run.
EVENT_MAX_FILES = 100


# --- recording ---------------------------------------------------------------------------------


def _error(code: str | None, message: str | None) -> schemas.ErrorInfo | None:
    return schemas.ErrorInfo(code=code, message=message or "") if code else None


def event_payload(
    event_id: uuid.UUID,
    event_type: RunEventType,
    occurred_at: datetime,
    run: Run,
    files: Sequence[File],
    incident: Incident | None = None,
) -> dict[str, Any]:
    """The event as consumers get it (`schemas.RunEvent`, as JSON), from the rows."""
    event = schemas.RunEvent(
        id=event_id,
        type=event_type.value,
        occurred_at=occurred_at,
        run=schemas.EventRun(
            id=run.id,
            type=run.type,
            label=run.label,
            status=run.status,
            source=run.source,
            owner=run.owner,
            created_at=run.created_at,
            stored_at=run.stored_at,
            error=_error(run.error_code, run.error_message),
        ),
        files=[
            schemas.EventFile(
                id=file.id,
                name=file.name,
                key=file.object_key,
                version_id=file.version_id,
                size_bytes=file.size_bytes,
                sha256=file.sha256,
                status=file.status,
                error=_error(file.error_code, file.error_message),
            )
            for file in files[:EVENT_MAX_FILES]
        ],
        file_count=len(files),
        files_truncated=len(files) > EVENT_MAX_FILES,
        incident=None
        if incident is None
        else schemas.Incident(
            kind=incident.kind,
            file_id=incident.file_id,
            key=incident.object_key,
            recorded_version_id=incident.recorded_version_id,
            other_version_id=incident.other_version_id,
            detected_at=incident.detected_at,
            message=incident.message,
        ),
    )
    return event.model_dump(mode="json")


def record_event(
    session: Session,
    settings: Settings | None,
    run: Run,
    event_type: RunEventType,
    incident: Incident | None = None,
) -> uuid.UUID:
    """Add the event of a change just made to `run` in `session`, and a delivery to each
    destination `settings` names (None: none): committed with the change, or rolled back with
    it. The run's files are read as the session has them."""
    files = session.scalars(
        select(File)
        .where(File.run_id == run.id)
        .order_by(File.created_at, File.id)
        # Core UPDATEs of this transaction (the event handler's) are not in the identity map.
        .execution_options(populate_existing=True)
    ).all()
    event_id, occurred_at = uuid.uuid4(), utcnow()
    payload = event_payload(event_id, event_type, occurred_at, run, files, incident)
    session.add(
        RunEvent(
            id=event_id,
            run_id=run.id,
            type=event_type.value,
            occurred_at=occurred_at,
            payload=payload,
        )
    )
    session.flush()  # the event before its deliveries (no relationship orders them)
    session.add_all(
        EventDelivery(
            event_id=event_id, destination=destination, attempts=0, next_attempt_at=occurred_at
        )
        for destination in (destinations(settings, event_type) if settings else ())
    )
    return event_id


# --- publishing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Backoff:
    """How long a delivery waits after its n-th failed attempt: `first` seconds doubling per
    attempt, at most `cap`; the second half of it random, so the retries of a burst of events
    (a receiver down for a while) do not all come back at once."""

    first: float = 10.0
    cap: float = 3600.0
    jitter: Callable[[], float] = random.random

    def delay(self, attempts: int) -> timedelta:
        full = min(self.cap, self.first * 2 ** min(attempts - 1, 30))
        return timedelta(seconds=full / 2 + self.jitter() * full / 2)


@dataclass(frozen=True)
class Claim:
    """A delivery this drain holds until `until` (its token: the rows it updates must still
    hold it)."""

    event_id: uuid.UUID
    destination: str
    attempts: int
    until: datetime


@dataclass
class DrainReport:
    published: int = 0
    retried: int = 0  # failed, due again after the back-off
    dead: int = 0  # failed their last attempt: moved to the dead letters
    more: bool = False  # stopped by the time budget with deliveries left


@dataclass(frozen=True)
class DeadLetterInfo:
    event_id: uuid.UUID
    run_id: uuid.UUID
    type: str
    destination: str
    attempts: int
    last_error: str | None
    died_at: datetime


@dataclass(frozen=True)
class DeliveryState:
    destination: str
    state: str  # delivered, pending, dead
    attempts: int
    at: datetime | None  # delivered at, next attempt at, died at
    last_error: str | None


@dataclass(frozen=True)
class EventState:
    id: uuid.UUID
    type: str
    occurred_at: datetime
    deliveries: list[DeliveryState] = field(default_factory=list)


class Outbox:
    """Publishes the recorded run events: `drain` sends what is due, `replay` revives dead
    letters. `publishers` gives the publisher of a destination."""

    def __init__(
        self,
        db: Database,
        publishers: Callable[[str], Publisher],
        max_attempts: int,
        *,
        backoff: Backoff | None = None,
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        self.db = db
        self.publishers = publishers
        self.max_attempts = max_attempts
        self.backoff = backoff or Backoff()
        self.timeout = timeout

    @classmethod
    def from_settings(cls, db: Database, settings: Settings) -> Outbox:
        return cls(db, Publishers(settings), settings.inlet_event_max_attempts)

    def drain(
        self,
        now: datetime | None = None,
        *,
        budget: float = DRAIN_BUDGET_SECONDS,
        batch: int = CLAIM_BATCH,
    ) -> DrainReport:
        """Publish the deliveries due at `now`, oldest first, none started after `budget`
        seconds. A destination that fails is not tried again in this drain (a receiver that is
        down costs one timeout per drain, not one per event); what is left is the next drain's.
        Never raises: it runs after work that has committed, which must not fail because of it
        (the database unreachable is logged; the next drain retries)."""
        report = DrainReport()
        try:
            self._drain(now or utcnow(), budget, batch, report)
        except Exception:
            logger.exception("could not publish run events; the next drain retries")
        if report.published or report.retried or report.dead:
            logger.info("run events published", extra=vars(report))
        return report

    def _drain(self, now: datetime, budget: float, batch: int, report: DrainReport) -> None:
        deadline = time.monotonic() + budget
        until = now + timedelta(seconds=budget + 2 * self.timeout) + CLAIM_MARGIN
        failing: set[str] = set()
        while time.monotonic() < deadline:
            claims = self._claim(now, until, batch, failing)
            if not claims:
                break
            payloads = self._payloads({claim.event_id for claim in claims})
            for claim in claims:
                if time.monotonic() >= deadline:
                    report.more = True
                if report.more or claim.destination in failing:
                    self._release(claim)
                elif not self._deliver(claim, payloads[claim.event_id], now, deadline, report):
                    failing.add(claim.destination)
            if len(claims) < batch:
                break

    def _deliver(
        self,
        claim: Claim,
        payload: dict[str, Any],
        now: datetime,
        deadline: float,
        report: DrainReport,
    ) -> bool:
        timeout = max(min(self.timeout, deadline - time.monotonic()), 1.0)
        try:
            self.publishers(claim.destination).publish(payload, event_body(payload), timeout)
        except Exception as exc:
            self._failed(claim, f"{type(exc).__name__}: {exc}"[:ERROR_LENGTH], now, report)
            return False
        with self.db.session() as session:
            session.execute(
                update(EventDelivery)
                .where(*_held(claim))
                .values(
                    attempts=claim.attempts + 1,
                    delivered_at=now,
                    claimed_until=None,
                    last_error=None,
                )
            )
        report.published += 1
        return True

    def _failed(self, claim: Claim, error: str, now: datetime, report: DrainReport) -> None:
        attempts = claim.attempts + 1
        where = {"event_id": str(claim.event_id), "destination": claim.destination}
        with self.db.session(serialize=True) as session:
            if attempts < self.max_attempts:
                session.execute(
                    update(EventDelivery)
                    .where(*_held(claim))
                    .values(
                        attempts=attempts,
                        next_attempt_at=now + self.backoff.delay(attempts),
                        claimed_until=None,
                        last_error=error,
                    )
                )
                report.retried += 1
                logger.warning(
                    "run event not delivered; retried later",
                    extra=where | {"attempts": attempts, "error": error},
                )
                return
            removed = session.execute(delete(EventDelivery).where(*_held(claim)))
            if not removed.rowcount:  # type: ignore[attr-defined]
                return  # the claim ran out and another drain has the delivery now
            session.add(
                DeadLetter(
                    event_id=claim.event_id,
                    destination=claim.destination,
                    attempts=attempts,
                    last_error=error,
                    died_at=now,
                )
            )
        report.dead += 1
        logger.error(
            "run event not delivered after its last attempt: moved to the dead letters",
            extra=where | {"attempts": attempts, "error": error},
        )

    def _claim(
        self, now: datetime, until: datetime, batch: int, skip: Collection[str]
    ) -> list[Claim]:
        """Claim up to `batch` due deliveries, oldest first: chosen and locked (Postgres: FOR
        UPDATE SKIP LOCKED, so another drain takes others; SQLite: its write lock), then
        claimed by an UPDATE whose WHERE checks again that each is still unclaimed. (The two
        are separate statements: as a subquery of the UPDATE, Postgres may run the LIMIT once
        per row it updates.)"""
        d = EventDelivery
        available: list[ColumnElement[bool]] = [
            d.delivered_at.is_(None),
            d.next_attempt_at <= now,
            or_(d.claimed_until.is_(None), d.claimed_until < now),
        ]
        if skip:
            available.append(d.destination.not_in(skip))
        with self.db.session(serialize=True) as session:
            due = session.execute(
                select(d.event_id, d.destination)
                .where(*available)
                .order_by(d.next_attempt_at, d.event_id, d.destination)
                .limit(batch)
                .with_for_update(skip_locked=True)
            ).all()
            if not due:
                return []
            rows = session.execute(
                update(d)
                .where(tuple_(d.event_id, d.destination).in_([tuple(row) for row in due]))
                .where(*available)
                .values(claimed_until=until)
                .returning(d.event_id, d.destination, d.attempts)
                .execution_options(synchronize_session=False)
            ).all()
        return [Claim(event_id, dest, attempts, until) for event_id, dest, attempts in rows]

    def _release(self, claim: Claim) -> None:
        """Give a claimed delivery back untried: due for the next drain."""
        with self.db.session() as session:
            session.execute(update(EventDelivery).where(*_held(claim)).values(claimed_until=None))

    def _payloads(self, event_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
        with self.db.session() as session:
            rows = session.execute(
                select(RunEvent.id, RunEvent.payload).where(RunEvent.id.in_(event_ids))
            )
            found: dict[uuid.UUID, dict[str, Any]] = dict(rows.all())
            return found

    # --- dead letters -------------------------------------------------------------------------

    def dead_letters(self) -> list[DeadLetterInfo]:
        """Every dead letter, oldest death first."""
        with self.db.session() as session:
            rows = session.execute(
                select(DeadLetter, RunEvent.run_id, RunEvent.type)
                .join(RunEvent, RunEvent.id == DeadLetter.event_id)
                .order_by(DeadLetter.died_at, DeadLetter.event_id, DeadLetter.destination)
            ).all()
        return [
            DeadLetterInfo(
                letter.event_id,
                run_id,
                event_type,
                letter.destination,
                letter.attempts,
                letter.last_error,
                letter.died_at,
            )
            for letter, run_id, event_type in rows
        ]

    def replay(
        self, event_ids: Collection[uuid.UUID] | None = None, now: datetime | None = None
    ) -> int:
        """Put the dead letters of `event_ids` (None: all) back among the deliveries, their
        attempts reset, due at `now`; how many. The caller drains next."""
        now = now or utcnow()
        with self.db.session(serialize=True) as session:
            query = select(DeadLetter).with_for_update()
            if event_ids is not None:
                query = query.where(DeadLetter.event_id.in_(event_ids))
            letters = session.scalars(query).all()
            for letter in letters:
                session.add(
                    EventDelivery(
                        event_id=letter.event_id,
                        destination=letter.destination,
                        attempts=0,
                        next_attempt_at=now,
                        last_error=letter.last_error,
                    )
                )
                session.delete(letter)
        if letters:
            logger.info("dead letters replayed", extra={"count": len(letters)})
        return len(letters)

    def history(self, run_id: uuid.UUID) -> list[EventState]:
        """A run's events, oldest first, each with the state of its deliveries."""
        with self.db.session() as session:
            events = session.scalars(
                select(RunEvent)
                .where(RunEvent.run_id == run_id)
                .order_by(RunEvent.occurred_at, RunEvent.id)
            ).all()
            found = {
                event.id: EventState(event.id, event.type, event.occurred_at) for event in events
            }
            for delivery in session.scalars(
                select(EventDelivery)
                .where(EventDelivery.event_id.in_(found))
                .order_by(EventDelivery.destination)
            ):
                delivered = delivery.delivered_at is not None
                found[delivery.event_id].deliveries.append(
                    DeliveryState(
                        delivery.destination,
                        "delivered" if delivered else "pending",
                        delivery.attempts,
                        delivery.delivered_at if delivered else delivery.next_attempt_at,
                        delivery.last_error,
                    )
                )
            for letter in session.scalars(
                select(DeadLetter)
                .where(DeadLetter.event_id.in_(found))
                .order_by(DeadLetter.destination)
            ):
                found[letter.event_id].deliveries.append(
                    DeliveryState(
                        letter.destination,
                        "dead",
                        letter.attempts,
                        letter.died_at,
                        letter.last_error,
                    )
                )
        return list(found.values())


def _held(claim: Claim) -> tuple[ColumnElement[bool], ...]:
    """The delivery, if this claim still holds it."""
    return (
        EventDelivery.event_id == claim.event_id,
        EventDelivery.destination == claim.destination,
        EventDelivery.claimed_until == claim.until,
    )
