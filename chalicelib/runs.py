"""Reading runs: newest-first keyset pagination with filters, and run detail (at once, or as
soon as the run leaves `pending`: `?wait=`)."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Select, func, select, tuple_
from sqlalchemy.orm import Session

from chalicelib.db import Database
from chalicelib.errors import Invalid, NotFound
from chalicelib.models import File, Incident, Run, RunStatus
from chalicelib.schemas import ErrorInfo, FileOut, RunDetail, RunOut, RunPage
from chalicelib.schemas import Incident as IncidentOut

MAX_PAGE = 200
# `q=` matches labels by trigrams on Postgres (ix_ingestion_runs_label_trgm): a shorter term has
# none, and would scan every run. Labels are at most 200 characters.
MIN_QUERY, MAX_QUERY = 3, 200
# `GET /v1/runs/{id}?wait=`: API Gateway ends a request after 29 s, so a longer wait is refused
# (422), whatever the deployment allows; INLET_MAX_WAIT_SECONDS then cuts what is asked to what
# it allows. A waiting request reads the run's status this often: the answer comes within one
# interval and one read of the change.
MAX_WAIT = 25
POLL_SECONDS = 0.05


def _error(code: str | None, message: str | None) -> ErrorInfo | None:
    return ErrorInfo(code=code, message=message or "") if code else None


def file_out(file: File) -> FileOut:
    return FileOut(
        id=file.id,
        run_id=file.run_id,
        name=file.name,
        key=file.object_key,
        size_bytes=file.size_bytes,
        content_type=file.content_type,
        status=file.status,
        sha256=file.sha256,
        declared_sha256=file.declared_sha256,
        etag=file.etag,
        version_id=file.version_id,
        stored_at=file.stored_at,
        checked_at=file.checked_at,
        error=_error(file.error_code, file.error_message),
    )


def incident_out(incident: Incident) -> IncidentOut:
    return IncidentOut(
        kind=incident.kind,
        file_id=incident.file_id,
        key=incident.object_key,
        recorded_version_id=incident.recorded_version_id,
        other_version_id=incident.other_version_id,
        detected_at=incident.detected_at,
        message=incident.message,
    )


def run_out(run: Run, file_count: int, total_bytes: int) -> RunOut:
    return RunOut(
        id=run.id,
        type=run.type,
        label=run.label,
        notes=run.notes,
        status=run.status,
        source=run.source,
        created_at=run.created_at,
        updated_at=run.updated_at,
        stored_at=run.stored_at,
        file_count=file_count,
        total_bytes=total_bytes,
        error=_error(run.error_code, run.error_message),
    )


def visible(run: Run | None, run_id: object, owner: str | None) -> Run:
    """The run, if `owner` may see it (None: authentication is off, every run is visible).
    Another owner's run is as unknown as a missing one: the same 404, never a 403."""
    if run is None or (owner is not None and run.owner != owner):
        raise NotFound(f"run {run_id} not found")
    return run


def parse_run_id(raw: str) -> uuid.UUID:
    """A path id that is not a UUID names no run: 404, as for any unknown id."""
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise NotFound(f"run {raw!r} not found") from None


def visible_file(session: Session, run_id: str, file_id: str, owner: str | None) -> File:
    """A file of a run `owner` may see; anything else (another owner's run, another run's file,
    ids that are not UUIDs) is the same 404 as a missing one."""
    run = visible(session.get(Run, parse_run_id(run_id)), run_id, owner)
    try:
        file = session.get(File, uuid.UUID(file_id))
    except ValueError:
        file = None
    if file is None or file.run_id != run.id:
        raise NotFound(f"file {file_id} not found in run {run_id}")
    return file


def query_int(query: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    """A whole number from the query string, from `low` to `high`: ASCII digits only (no sign,
    no spaces, no superscripts), and checked by its length before `int()` (which refuses more
    than 4,300 digits with a ValueError), so any string is a 422, never a 500."""
    raw = query.get(name)
    if raw is None:
        return default
    digits = (raw.lstrip("0") or "0") if raw else ""  # leading zeros do not count
    if not (digits.isascii() and digits.isdigit() and len(digits) <= len(str(high))):
        raise Invalid(f"{name} must be an integer from {low} to {high}")
    value = int(digits)
    if not low <= value <= high:
        raise Invalid(f"{name} must be an integer from {low} to {high}")
    return value


@dataclass(frozen=True)
class RunFilter:
    status: str | None = None
    type: str | None = None
    limit: int = 50
    cursor: str | None = None
    q: str | None = None  # a case-insensitive part of the label

    @classmethod
    def from_query(cls, query: Mapping[str, str] | None) -> RunFilter:
        query = query or {}
        unknown = sorted(set(query) - {"status", "type", "limit", "cursor", "q"})
        if unknown:
            raise Invalid(f"unknown query parameter(s): {', '.join(unknown)}")
        status = query.get("status") or None
        if status is not None and status not in RunStatus.__members__.values():
            allowed = ", ".join(s.value for s in RunStatus)
            raise Invalid(f"status must be one of: {allowed}")
        limit = query_int(query, "limit", 50, 1, MAX_PAGE)
        run_type = query.get("type") or None
        if run_type is not None and (len(run_type) > 64 or not run_type.isprintable()):
            raise Invalid("type must be at most 64 printable characters")
        q = query.get("q") or None
        if q is not None and not (MIN_QUERY <= len(q) <= MAX_QUERY and q.isprintable()):
            raise Invalid(f"q must be {MIN_QUERY} to {MAX_QUERY} printable characters")
        return cls(status=status, type=run_type, limit=limit, cursor=query.get("cursor"), q=q)


def encode_cursor(run: Run) -> str:
    raw = json.dumps({"t": run.created_at.isoformat(), "id": str(run.id)}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        created_at = datetime.fromisoformat(data["t"])
        if created_at.tzinfo is None:  # this API's cursors always carry the UTC offset
            raise ValueError("naive time")
        return created_at.astimezone(UTC), uuid.UUID(data["id"])
    # ValueError covers bad base64, bytes and JSON; AttributeError a number for an id;
    # OverflowError a time that cannot be shifted to UTC; RecursionError absurd nesting.
    except (ValueError, KeyError, TypeError, AttributeError, OverflowError, RecursionError):
        raise Invalid("cursor is not one this API returned") from None


def like_pattern(term: str) -> str:
    """`term` anywhere in a string, its LIKE wildcards taken literally (escape character `\\`)."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def page_query(flt: RunFilter, owner: str | None) -> Select[Run]:
    """One page of runs, newest first, and one more to tell whether another page follows.
    Each combination of owner, status and type has an index that starts with those columns and
    goes on with (created_at, id), so the cursor, written as one row comparison, is a condition
    on that index (the deepest page reads as few rows as the first), never a filter."""
    query = select(Run).order_by(Run.created_at.desc(), Run.id.desc()).limit(flt.limit + 1)
    if owner is not None:
        query = query.where(Run.owner == owner)
    if flt.status:
        query = query.where(Run.status == flt.status)
    if flt.type:
        query = query.where(Run.type == flt.type)
    if flt.q:
        query = query.where(Run.label.ilike(like_pattern(flt.q), escape="\\"))
    if flt.cursor:
        # A plain tuple on the right: its values are bound with the columns' types.
        query = query.where(tuple_(Run.created_at, Run.id) < decode_cursor(flt.cursor))
    return query


def totals(session: Session, run_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, tuple[int, int]]:
    """File count and declared bytes per run, in one query."""
    if not run_ids:
        return {}
    rows = session.execute(
        select(File.run_id, func.count(File.id), func.coalesce(func.sum(File.size_bytes), 0))
        .where(File.run_id.in_(run_ids))
        .group_by(File.run_id)
    )
    return {run_id: (int(count), int(size)) for run_id, count, size in rows}


def wait_seconds(query: Mapping[str, str] | None) -> int:
    """How long `GET /v1/runs/{id}` may wait for the run to leave `pending` (`?wait=`, 0 to
    MAX_WAIT seconds; 0 when absent)."""
    query = query or {}
    unknown = sorted(set(query) - {"wait"})
    if unknown:
        raise Invalid(f"unknown query parameter(s): {', '.join(unknown)}")
    return query_int(query, "wait", 0, 0, MAX_WAIT)


class Runs:
    """What the API tells about runs: pages of them, and one with its files."""

    def __init__(self, db: Database, max_wait_seconds: int = 0) -> None:
        """`max_wait_seconds`: the longest `get` holds a request (INLET_MAX_WAIT_SECONDS); a
        longer `?wait=` is cut to it."""
        self.db = db
        self.max_wait_seconds = max_wait_seconds

    def page(self, query_params: Mapping[str, str] | None, owner: str | None) -> RunPage:
        """Newest first; only `owner`'s runs unless owner is None (authentication off)."""
        flt = RunFilter.from_query(query_params)
        query = page_query(flt, owner)
        with self.db.session() as session:
            runs = [*session.scalars(query)]
            page, more = runs[: flt.limit], len(runs) > flt.limit
            sums = totals(session, [r.id for r in page])
        return RunPage(
            items=[run_out(r, *sums.get(r.id, (0, 0))) for r in page],
            next_cursor=encode_cursor(page[-1]) if more else None,
        )

    def get(
        self, run_id: str, owner: str | None, query_params: Mapping[str, str] | None = None
    ) -> RunDetail:
        """The run with its files and incidents; with `?wait=SECONDS`, once the run has left
        `pending` or the time (at most `max_wait_seconds`) is up, whichever comes first."""
        wait = min(wait_seconds(query_params), self.max_wait_seconds)
        run_uuid = parse_run_id(run_id)
        if wait:
            self._wait_while_pending(run_uuid, run_id, owner, wait)
        return self._detail(run_uuid, run_id, owner)

    def _wait_while_pending(
        self, run_uuid: uuid.UUID, run_id: str, owner: str | None, seconds: int
    ) -> None:
        """Read the run's status every POLL_SECONDS until it is not `pending` or `seconds` have
        passed. Each read is a transaction of its own and returns its connection to the pool,
        so a waiting request holds no lock and no connection, and sees each commit at its
        next read. A run that is not the caller's is 404 at once, never after the wait."""
        deadline = time.monotonic() + seconds
        status = self._status(run_uuid, owner)
        if status is None:
            raise NotFound(f"run {run_id} not found")
        while status == RunStatus.PENDING and (left := deadline - time.monotonic()) > 0:
            time.sleep(min(POLL_SECONDS, left))
            status = self._status(run_uuid, owner)

    def _status(self, run_uuid: uuid.UUID, owner: str | None) -> str | None:
        """The run's status alone, by its primary key; None if there is no such run of `owner`'s
        (None: authentication off, every run)."""
        query = select(Run.status).where(Run.id == run_uuid)
        if owner is not None:
            query = query.where(Run.owner == owner)
        with self.db.session() as session:
            return session.scalar(query)

    def _detail(self, run_uuid: uuid.UUID, run_id: str, owner: str | None) -> RunDetail:
        with self.db.session() as session:
            run = visible(session.get(Run, run_uuid), run_id, owner)
            files = run.files
            incidents = session.scalars(
                select(Incident)
                .where(Incident.run_id == run.id)
                .order_by(Incident.detected_at, Incident.id)
            )
            summary = run_out(run, len(files), sum(f.size_bytes for f in files))
            return RunDetail(
                **summary.model_dump(),
                files=[file_out(f) for f in files],
                incidents=[incident_out(i) for i in incidents],
            )
