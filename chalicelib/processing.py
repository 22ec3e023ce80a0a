"""Processing of stored runs: what processors make of a run's files once it is stored, and the
manifests the first of them, `manifest`, records for archives (docs/processing.md).

Each stored run's `run.stored` event reaches the processing queue (chalicelib/outbox.py); its
consumer is `Processing.from_queue`. The message is trusted for the run id alone: the run and its
files come from the database (a run that is not stored is ignored; only `stored` files are
read) and the bytes from the recorded version in the bucket.

Processors are registered in `PROCESSORS`: each says which files it wants (by name, by the run's
type) and runs on each of them once. Delivery is at least once, so a run is processed as often
as its event comes: a (file, processor) with a result is skipped, and a run cut short (a crash,
a timeout) leaves no result, so the next delivery discards what it wrote and starts over. The
start, the refusal and the end are decided under the run's lock (the house order: run first),
and a result is recorded only over complete output.

A processor refuses a file (`Refused`: a hostile or unreadable archive) permanently: recorded as
`failed` with its code, the message returns normally. Anything else (the database, the bucket)
raises, and SQS delivers the message again. Processing never changes a file's own status.
"""

from __future__ import annotations

import base64
import enum
import json
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import ClientError
from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from chalicelib import sqs
from chalicelib.archives import ArchiveRefused, Limits, SourceError, archive_format, entries
from chalicelib.config import MiB, Settings
from chalicelib.db import Database
from chalicelib.errors import Invalid, NoManifest
from chalicelib.logs import logger
from chalicelib.models import (
    File,
    FileStatus,
    ManifestEntry,
    ProcessingResult,
    ProcessingStatus,
    Run,
    RunEventType,
    RunStatus,
    utcnow,
)
from chalicelib.storage import Storage, error_code
from chalicelib.telemetry import metrics

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import (
        PartialItemFailureResponse,
    )

    from chalicelib.schemas import Manifest

# Manifest entries are written this many per transaction: never all in memory, never one
# transaction for an archive of 100,000 entries.
ENTRY_BATCH = 1000
MANIFEST_PAGE, MANIFEST_MAX_PAGE = 200, 1000
# The bucket's answers for a recorded version that is gone (permanently deleted).
MISSING_VERSION_CODES = ("404", "NoSuchKey", "NotFound", "NoSuchVersion")


class Outcome(enum.StrEnum):
    DONE = "done"  # processed, result recorded
    FAILED = "failed"  # refused by the processor, recorded as failed
    SKIPPED = "skipped"  # a result was there already (a repeated delivery)


@dataclass(frozen=True)
class StoredFile:
    """A stored file as processors see it: what the database recorded, never the event."""

    id: uuid.UUID
    run_id: uuid.UUID
    run_type: str
    name: str
    key: str
    version_id: str | None
    etag: str | None
    size: int


@dataclass(frozen=True)
class Context:
    """What a processor works with."""

    db: Database
    storage: Storage
    settings: Settings


class Refused(Exception):
    """A file a processor will not take (hostile, unreadable): recorded as `failed` with this
    code and message, never tried again."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Processor:
    """A processor: `name` (the results' `processor`, at most 32 characters), the files it
    `wants`, and `run`, which returns a summary (recorded as the result's `summary`) or raises
    `Refused`. A processor that writes rows of its own `discard`s them (before a new attempt,
    and on refusal) and `check`s they are all there before the result is recorded."""

    name: str

    def wants(self, file: StoredFile) -> bool:
        raise NotImplementedError

    def run(self, file: StoredFile, context: Context) -> dict[str, Any]:
        raise NotImplementedError

    def discard(self, session: Session, file_id: uuid.UUID) -> None:
        """Delete this processor's output for the file (none by default)."""

    def check(self, session: Session, file_id: uuid.UUID, summary: dict[str, Any]) -> None:
        """Raise unless the output `summary` describes is complete (nothing to check by default)."""


class BucketSource:
    """A stored file's recorded bytes: its version (or, on a store without versions, its
    recorded ETag, so a replaced object fails instead of being read)."""

    def __init__(self, storage: Storage, file: StoredFile) -> None:
        self._storage = storage
        self._file = file

    @property
    def size(self) -> int:
        return self._file.size

    def read(self, start: int, end: int) -> Iterator[bytes]:
        file = self._file
        if file.version_id is not None:
            return self._storage.read_version(file.key, file.version_id, start, end)
        etag = f'"{file.etag}"' if file.etag else None
        return self._storage.read_range(file.key, start, end, if_match=etag)

    def stream(self) -> Iterator[bytes]:
        file = self._file
        if file.version_id is not None:
            return self._storage.read_version(file.key, file.version_id, 0, None)
        etag = f'"{file.etag}"' if file.etag else None
        return self._storage.read_range(file.key, 0, None, if_match=etag)


class ManifestProcessor(Processor):
    """Archives (`.tar`, `.tar.gz`, `.tgz`, `.zip`, by name): every entry's path, kind, size and
    sha256 (chalicelib/archives.py), written `ENTRY_BATCH` at a time; the counts in the summary."""

    name = "manifest"

    def wants(self, file: StoredFile) -> bool:
        return archive_format(file.name) is not None

    def run(self, file: StoredFile, context: Context) -> dict[str, Any]:
        archive = archive_format(file.name)
        assert archive is not None  # wants() said so
        settings = context.settings
        limits = Limits(
            max_entries=settings.inlet_archive_max_entries,
            max_bytes=settings.inlet_archive_max_bytes,
            max_ratio=settings.inlet_archive_max_ratio,
        )
        kinds: Counter[str] = Counter()
        unpacked, batch = 0, []
        try:
            for seq, entry in enumerate(
                entries(BucketSource(context.storage, file), archive, limits)
            ):
                kinds[entry.kind] += 1
                unpacked += entry.size
                batch.append(
                    {
                        "file_id": file.id,
                        "seq": seq,
                        "path": entry.path,
                        "kind": entry.kind,
                        "size_bytes": entry.size,
                        "sha256": entry.sha256,
                    }
                )
                if len(batch) >= ENTRY_BATCH:
                    _write_entries(context.db, batch)
                    batch = []
        except ArchiveRefused as exc:
            raise Refused(exc.code, exc.message) from exc
        except SourceError as exc:
            cause = exc.__cause__
            if isinstance(cause, ClientError) and error_code(cause) in MISSING_VERSION_CODES:
                raise Refused(
                    "version_lost",
                    f"the recorded version of {file.key} is no longer in the bucket",
                ) from exc
            raise
        if batch:
            _write_entries(context.db, batch)
        return {
            "format": archive,
            "entries": kinds.total(),
            "files": kinds["file"],
            "dirs": kinds["dir"],
            "bytes": unpacked,
        }

    def discard(self, session: Session, file_id: uuid.UUID) -> None:
        session.execute(delete(ManifestEntry).where(ManifestEntry.file_id == file_id))

    def check(self, session: Session, file_id: uuid.UUID, summary: dict[str, Any]) -> None:
        written = session.scalar(
            select(func.count()).select_from(ManifestEntry).where(ManifestEntry.file_id == file_id)
        )
        if written != summary["entries"]:
            # Another delivery discarded part of this one's entries meanwhile: start over.
            raise RuntimeError(
                f"manifest of file {file_id}: {written} entries written of {summary['entries']}"
            )


def _write_entries(db: Database, rows: list[dict[str, Any]]) -> None:
    with db.session() as session:
        session.execute(insert(ManifestEntry), rows)


# The registry: every processor, in the order they run on a file. A new one is a module with a
# `Processor` subclass, and a line here.
PROCESSORS: tuple[Processor, ...] = (ManifestProcessor(),)


def _stored_file(file: File, run: Run) -> StoredFile:
    return StoredFile(
        id=file.id,
        run_id=file.run_id,
        run_type=run.type,
        name=file.name,
        key=file.object_key,
        version_id=file.version_id,
        etag=file.etag,
        size=file.stored_size if file.stored_size is not None else file.size_bytes,
    )


def encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"seq": seq}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        seq = data["seq"]
    # ValueError covers bad base64, bytes and JSON; the others a cursor that is not an object.
    except (ValueError, KeyError, TypeError, RecursionError):
        raise Invalid("cursor is not one this API returned") from None
    if type(seq) is not int or seq < 0:
        raise Invalid("cursor is not one this API returned")
    return seq


class Processing:
    """Runs the registered processors on stored runs, and answers for their manifests."""

    def __init__(
        self,
        db: Database,
        storage: Storage,
        settings: Settings,
        processors: tuple[Processor, ...] = PROCESSORS,
    ) -> None:
        self.db = db
        self.storage = storage
        self.settings = settings
        self.processors = processors
        self.context = Context(db, storage, settings)

    # --- the processing queue --------------------------------------------------------------

    def from_queue(self, sqs_event: dict[str, Any]) -> PartialItemFailureResponse:
        """An SQS Lambda event of run events; names the messages to deliver again (those that
        raised: the database or the bucket failed, or the body is no run event)."""
        return sqs.handle_messages(sqs_event, self.handle_message)

    def handle_message(self, body: str) -> dict[str, Outcome]:
        """One run event (schemas.RunEvent as JSON): a `run.stored` one has its run processed;
        any other type is ignored. Only the event's run id is used. A body that is not a run
        event raises: retried, it ends in the dead-letter queue, where someone can look at it."""
        event = json.loads(body)
        event_type, run_id = event["type"], uuid.UUID(str(event["run"]["id"]))
        if event_type != RunEventType.STORED:
            logger.info(
                "run event ignored",
                extra={"event_id": event.get("id"), "type": event_type, "run_id": str(run_id)},
            )
            return {}
        return self.process_run(run_id)

    def process_run(self, run_id: uuid.UUID) -> dict[str, Outcome]:
        """Run every registered processor on each stored file of a stored run that it wants:
        `"<file id>/<processor>"` -> outcome. A run that is not (or no longer) stored: nothing."""
        with self.db.session() as session:
            run = session.get(Run, run_id)
            if run is None or run.status != RunStatus.STORED:
                logger.info(
                    "run not processed",
                    extra={
                        "run_id": str(run_id),
                        "reason": "no such run" if run is None else f"the run is {run.status}",
                    },
                )
                return {}
            files = [
                _stored_file(file, run) for file in run.files if file.status == FileStatus.STORED
            ]
        outcomes = {}
        for file in files:
            for processor in self.processors:
                if processor.wants(file):
                    outcomes[f"{file.id}/{processor.name}"] = self.process_file(processor, file)
        return outcomes

    def process_file(self, processor: Processor, file: StoredFile) -> Outcome:
        """One processor on one file, once: skipped when it has a result already."""
        if not self._begin(processor, file):
            logger.info(
                "file processed already",
                extra={"file_id": str(file.id), "processor": processor.name},
            )
            return Outcome.SKIPPED
        started_at, started = utcnow(), time.perf_counter()
        try:
            summary = processor.run(file, self.context)
        except Refused as refused:
            outcome = self._finish(processor, file, started_at, {}, refused)
            _report(processor, file, outcome, {}, refused, time.perf_counter() - started)
            return outcome
        outcome = self._finish(processor, file, started_at, summary, None)
        _report(processor, file, outcome, summary, None, time.perf_counter() - started)
        return outcome

    def _begin(self, processor: Processor, file: StoredFile) -> bool:
        """False when the file has this processor's result already; else what an earlier,
        unfinished attempt wrote is discarded."""
        with self.db.session(serialize=True) as session:
            session.get(Run, file.run_id, with_for_update=True)
            if session.get(ProcessingResult, (file.id, processor.name)) is not None:
                return False
            processor.discard(session, file.id)
        return True

    def _finish(
        self,
        processor: Processor,
        file: StoredFile,
        started_at: datetime,
        summary: dict[str, Any],
        refused: Refused | None,
    ) -> Outcome:
        with self.db.session(serialize=True) as session:
            session.get(Run, file.run_id, with_for_update=True)
            if session.get(ProcessingResult, (file.id, processor.name)) is not None:
                return Outcome.SKIPPED  # another delivery finished first
            if refused is None:
                processor.check(session, file.id, summary)
            else:
                processor.discard(session, file.id)  # a refused file keeps no partial output
            session.add(
                ProcessingResult(
                    file_id=file.id,
                    processor=processor.name,
                    run_id=file.run_id,
                    status=(ProcessingStatus.DONE if refused is None else ProcessingStatus.FAILED),
                    summary=summary,
                    error_code=refused and refused.code,
                    error_message=refused and refused.message,
                    started_at=started_at,
                    finished_at=utcnow(),
                )
            )
        return Outcome.DONE if refused is None else Outcome.FAILED

    # --- the API -----------------------------------------------------------------------------

    def manifest(
        self,
        run_id: str,
        file_id: str,
        query_params: Mapping[str, str] | None,
        owner: str | None,
    ) -> Manifest:
        """`GET /v1/runs/{run_id}/files/{file_id}/manifest`: a page of an archive's entries, by
        `seq` (`limit`, `cursor`), with its status and counts. Another owner's run: 404."""
        from chalicelib.runs import query_int, visible_file
        from chalicelib.schemas import ErrorInfo, Manifest
        from chalicelib.schemas import ManifestEntry as EntryOut

        query = query_params or {}
        unknown = sorted(set(query) - {"limit", "cursor"})
        if unknown:
            raise Invalid(f"unknown query parameter(s): {', '.join(unknown)}")
        limit = query_int(query, "limit", MANIFEST_PAGE, 1, MANIFEST_MAX_PAGE)
        cursor = query.get("cursor")
        after = decode_cursor(cursor) if cursor else -1
        with self.db.session() as session:
            file = visible_file(session, run_id, file_id, owner)
            archive = archive_format(file.name)
            if archive is None:
                raise NoManifest(f"{file.name!r} is not an archive (.tar, .tar.gz, .tgz, .zip)")
            result = session.get(ProcessingResult, (file.id, ManifestProcessor.name))
            empty: dict[str, Any] = {
                "file_id": file.id,
                "format": archive,
                "entry_count": None,
                "file_count": None,
                "dir_count": None,
                "total_bytes": None,
                "processed_at": None,
                "error": None,
                "entries": [],
                "next_cursor": None,
            }
            if result is None:
                if file.status in (FileStatus.FAILED, FileStatus.LOST):
                    # Never processed: only stored files are read.
                    error = ErrorInfo(
                        code=f"file_{file.status}",
                        message=f"the file is {file.status} ({file.error_code}); it is not read",
                    )
                    return Manifest(**empty | {"status": "failed", "error": error})
                if self.settings.inlet_processing == "off":
                    raise NoManifest("processing is off on this server (INLET_PROCESSING=off)")
                return Manifest(**empty | {"status": "pending"})
            if result.status == ProcessingStatus.FAILED:
                error = ErrorInfo(code=result.error_code or "", message=result.error_message or "")
                return Manifest(
                    **empty
                    | {"status": "failed", "processed_at": result.finished_at, "error": error}
                )
            rows = [
                *session.scalars(
                    select(ManifestEntry)
                    .where(ManifestEntry.file_id == file.id, ManifestEntry.seq > after)
                    .order_by(ManifestEntry.seq)
                    .limit(limit + 1)
                )
            ]
            page = rows[:limit]
            summary = result.summary
            return Manifest(
                **empty
                | {
                    "status": "done",
                    "entry_count": summary["entries"],
                    "file_count": summary["files"],
                    "dir_count": summary["dirs"],
                    "total_bytes": summary["bytes"],
                    "processed_at": result.finished_at,
                    "entries": [
                        EntryOut(
                            path=row.path,
                            kind=row.kind,
                            size_bytes=row.size_bytes,
                            sha256=row.sha256,
                        )
                        for row in page
                    ],
                    "next_cursor": encode_cursor(page[-1].seq) if len(rows) > limit else None,
                }
            )


def _report(
    processor: Processor,
    file: StoredFile,
    outcome: Outcome,
    summary: dict[str, Any],
    refused: Refused | None,
    seconds: float,
) -> None:
    unpacked = int(summary.get("bytes", 0))
    logger.info(
        "file processed",
        extra={
            "processor": processor.name,
            "run_id": str(file.run_id),
            "file_id": str(file.id),
            "outcome": outcome.value,
            "size": file.size,
            "entries": summary.get("entries"),
            "unpacked_bytes": unpacked,
            "duration_ms": round(seconds * 1000, 1),
            "mb_per_s": round(file.size / MiB / seconds, 1) if seconds else None,
            "error_code": refused and refused.code,
            "error_message": refused and refused.message,
        },
    )
    if outcome == Outcome.SKIPPED:
        return
    metrics.add_metric(name="FilesProcessed", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="BytesUnpacked", unit=MetricUnit.Bytes, value=unpacked)
    if outcome == Outcome.FAILED:
        metrics.add_metric(name="FilesRefused", unit=MetricUnit.Count, value=1)
