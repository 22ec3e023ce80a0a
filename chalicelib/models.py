"""The ORM schema. Alembic revisions in `migrations/` create exactly this (a test checks it)."""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class RunStatus(enum.StrEnum):
    PENDING = "pending"
    STORED = "stored"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class FileStatus(enum.StrEnum):
    PENDING = "pending"
    STORED = "stored"
    FAILED = "failed"
    # Was stored, and the version it recorded is no longer in the bucket (error `version_deleted`).
    LOST = "lost"


class IncidentKind(enum.StrEnum):
    """What happened at a final file's key (docs/events.md, "Versions and incidents")."""

    OVERWRITTEN = "overwritten"  # another version was written over the key
    DELETED = "deleted"  # a delete marker was placed on the key
    VERSION_LOST = "version_lost"  # the recorded version itself is gone


class RunEventType(enum.StrEnum):
    """What a run event tells consumers (docs/consumers.md)."""

    STORED = "run.stored"
    FAILED = "run.failed"
    CANCELLED = "run.cancelled"
    EXPIRED = "run.expired"
    INCIDENT = "run.incident"  # an integrity incident at one of a stored run's keys


class ProcessingStatus(enum.StrEnum):
    DONE = "done"
    FAILED = "failed"


class EntryKind(enum.StrEnum):
    FILE = "file"
    DIR = "dir"


class RunSource(enum.StrEnum):
    API = "api"
    BUCKET = "bucket"


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on both databases (SQLite keeps no offset, so it stores naive UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _in(column: str, values: type[enum.StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


# The rows `ux_files_object_key` keeps unique by key alone: every key but an inbox key with a
# version (substr, not LIKE: SQLite's LIKE ignores case, and keys do not).
ONE_FILE_PER_KEY = "substr(object_key, 1, 6) <> 'inbox/' OR version_id IS NULL"


class Base(DeclarativeBase):
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class Run(Base):
    __tablename__ = "ingestion_runs"
    __table_args__ = (
        CheckConstraint(_in("status", RunStatus), name="status"),
        CheckConstraint(_in("source", RunSource), name="source"),
        # Newest-first listing (keyset on created_at, id) under every combination of the list's
        # filters: owner, status, type (chalicelib/runs.py, page_query).
        Index("ix_ingestion_runs_created", "created_at", "id"),
        Index("ix_ingestion_runs_status_created", "status", "created_at", "id"),
        Index("ix_ingestion_runs_type_created", "type", "created_at", "id"),
        Index("ix_ingestion_runs_status_type_created", "status", "type", "created_at", "id"),
        Index("ix_ingestion_runs_owner_created", "owner", "created_at", "id"),
        Index("ix_ingestion_runs_owner_status_created", "owner", "status", "created_at", "id"),
        Index("ix_ingestion_runs_owner_type_created", "owner", "type", "created_at", "id"),
        Index(
            "ix_ingestion_runs_owner_status_type_created",
            "owner",
            "status",
            "type",
            "created_at",
            "id",
        ),
        # `q=`: a part of the label, by trigrams on Postgres (a plain index on SQLite).
        Index(
            "ix_ingestion_runs_label_trgm",
            "label",
            postgresql_using="gin",
            postgresql_ops={"label": "gin_trgm_ops"},
            postgresql_with={"fastupdate": "off"},
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    type: Mapped[str] = mapped_column(String(64))
    label: Mapped[str | None] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=RunStatus.PENDING.value)
    source: Mapped[str] = mapped_column(String(16), default=RunSource.API.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    stored_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    parent_run_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("ingestion_runs.id", ondelete="SET NULL")
    )
    # The owner of the token that created the run (or INLET_INBOX_OWNER for dropped files);
    # NULL for runs made with authentication off, and for runs older than authentication.
    owner: Mapped[str | None] = mapped_column(String(64))
    # When the orphan cleanup deleted the run's objects (every version): bucket events for
    # them are then expected and ignored.
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The SHA-256 of the key in the run's Companion endpoint (chalicelib/companion.py), which
    # uploads its declared files without a token; NULL for runs that have none.
    companion_key_sha256: Mapped[str | None] = mapped_column(String(64))

    files: Mapped[list[File]] = relationship(
        back_populates="run", order_by="File.created_at, File.id", cascade="all, delete-orphan"
    )


class File(Base):
    __tablename__ = "files"
    __table_args__ = (
        CheckConstraint(_in("status", FileStatus), name="status"),
        CheckConstraint("size_bytes >= 0", name="size_bytes"),
        Index("ix_files_run_id", "run_id"),
        # A key names one file, except under inbox/ where each version of a key is a file (and
        # a run) of its own; without versions (NULL) an inbox key is one file too.
        Index(
            "ux_files_object_key",
            "object_key",
            unique=True,
            sqlite_where=text(ONE_FILE_PER_KEY),
            postgresql_where=text(ONE_FILE_PER_KEY),
        ),
        Index("ux_files_object_key_version", "object_key", "version_id", unique=True),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    run_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("ingestion_runs.id", ondelete="CASCADE")
    )
    name: Mapped[str] = mapped_column(String(255))
    object_key: Mapped[str] = mapped_column(String(1024))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    content_type: Mapped[str] = mapped_column(String(255))
    declared_sha256: Mapped[str | None] = mapped_column(String(64))
    sha256: Mapped[str | None] = mapped_column(String(64))
    etag: Mapped[str | None] = mapped_column(String(128))
    # What the bucket event handler found: the object's real size, and the version it verified
    # (NULL on a store that keeps no versions). `sequencer` is no longer written: events are
    # hints, never ordered by their sequencers (docs/events.md); it keeps what older code wrote.
    stored_size: Mapped[int | None] = mapped_column(BigInteger)
    sequencer: Mapped[str | None] = mapped_column(String(64))
    version_id: Mapped[str | None] = mapped_column(String(1024))
    status: Mapped[str] = mapped_column(String(16), default=FileStatus.PENDING.value)
    multipart_upload_id: Mapped[str | None] = mapped_column(String(1024))
    part_size: Mapped[int | None] = mapped_column(BigInteger)
    upload_completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    stored_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the bucket-event handler recorded the verdict, stored or failed.
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)

    run: Mapped[Run] = relationship(back_populates="files")

    @property
    def part_count(self) -> int:
        """Parts of a multipart upload (0 for a single PUT); an empty object still has one."""
        if not self.part_size:
            return 0
        return max(1, -(-self.size_bytes // self.part_size))


class Incident(Base):
    """Something the bucket did to a final file's key: recorded once per (file, kind, other
    version), whatever number of events told of it. The file's record itself is not rewritten."""

    __tablename__ = "integrity_incidents"
    __table_args__ = (
        CheckConstraint(_in("kind", IncidentKind), name="kind"),
        # Once per file, kind and other version. NULLs are distinct in unique constraints, so
        # incidents without another version (version_lost) are kept once by the handler, which
        # decides under the run's lock.
        UniqueConstraint("file_id", "kind", "other_version_id"),
        Index("ix_integrity_incidents_run_detected", "run_id", "detected_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    run_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("ingestion_runs.id", ondelete="CASCADE")
    )
    file_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("files.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    object_key: Mapped[str] = mapped_column(String(1024))
    recorded_version_id: Mapped[str | None] = mapped_column(String(1024))
    other_version_id: Mapped[str | None] = mapped_column(String(1024))
    detected_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    message: Mapped[str] = mapped_column(Text)


class ApiToken(Base):
    """An API token: only its SHA-256 is stored; the token itself is shown once, at creation."""

    __tablename__ = "api_tokens"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    owner: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RunEvent(Base):
    """The outbox: a run event, written in the transaction that changed the run, so it exists
    exactly when the change does; published after commit by whoever drains the outbox
    (chalicelib/outbox.py). `id` is the event id consumers deduplicate on."""

    __tablename__ = "run_events"
    __table_args__ = (
        CheckConstraint(_in("type", RunEventType), name="type"),
        Index("ix_run_events_run_occurred", "run_id", "occurred_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    run_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("ingestion_runs.id", ondelete="CASCADE")
    )
    type: Mapped[str] = mapped_column(String(32))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The whole event as published (schemas.RunEventOut), frozen when it happened.
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)


class EventDelivery(Base):
    """One event on its way to one destination (`eventbridge`, `processing`, `webhook:<url>`):
    retried with back-off until delivered, or moved to `dead_letters` after the last attempt."""

    __tablename__ = "event_deliveries"
    __table_args__ = (
        # The drain's question: what is due and not delivered yet.
        Index(
            "ix_event_deliveries_due",
            "next_attempt_at",
            sqlite_where=text("delivered_at IS NULL"),
            postgresql_where=text("delivered_at IS NULL"),
        ),
    )

    event_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("run_events.id", ondelete="CASCADE"), primary_key=True
    )
    destination: Mapped[str] = mapped_column(String(2048), primary_key=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A drain claims a delivery until then, so two drains never send it at once.
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)


class DeadLetter(Base):
    """A delivery that failed its last attempt; `replay` puts it back in `event_deliveries`."""

    __tablename__ = "dead_letters"

    event_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("run_events.id", ondelete="CASCADE"), primary_key=True
    )
    destination: Mapped[str] = mapped_column(String(2048), primary_key=True)
    attempts: Mapped[int] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    died_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ProcessingResult(Base):
    """What a processor (chalicelib/processing.py) made of a stored file: once per file and
    processor. A failure here never changes the file's own status."""

    __tablename__ = "processing_results"
    __table_args__ = (
        CheckConstraint(_in("status", ProcessingStatus), name="status"),
        Index("ix_processing_results_run_id", "run_id"),
    )

    file_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("files.id", ondelete="CASCADE"), primary_key=True
    )
    processor: Mapped[str] = mapped_column(String(32), primary_key=True)
    run_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("ingestion_runs.id", ondelete="CASCADE")
    )
    status: Mapped[str] = mapped_column(String(16))
    # The processor's own summary (the manifest's format and counts).
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ManifestEntry(Base):
    """One entry of an archive's manifest, in archive order (`seq`)."""

    __tablename__ = "manifest_entries"
    __table_args__ = (CheckConstraint(_in("kind", EntryKind), name="kind"),)

    file_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("files.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    path: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(8))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
