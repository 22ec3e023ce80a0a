"""Run events out and processing: the outbox of run events, their deliveries per destination
and the dead letters, and what processors made of stored files (archive manifests).

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "run_events",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.CheckConstraint(
            "type IN ('run.stored', 'run.failed', 'run.cancelled', 'run.expired', 'run.incident')",
            name=op.f("ck_run_events_type"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["ingestion_runs.id"],
            name=op.f("fk_run_events_run_id_ingestion_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_run_events")),
    )
    with op.batch_alter_table("run_events", schema=None) as batch_op:
        batch_op.create_index("ix_run_events_run_occurred", ["run_id", "occurred_at"], unique=False)

    op.create_table(
        "dead_letters",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("destination", sa.String(length=2048), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("died_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["run_events.id"],
            name=op.f("fk_dead_letters_event_id_run_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("event_id", "destination", name=op.f("pk_dead_letters")),
    )
    op.create_table(
        "event_deliveries",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("destination", sa.String(length=2048), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["run_events.id"],
            name=op.f("fk_event_deliveries_event_id_run_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("event_id", "destination", name=op.f("pk_event_deliveries")),
    )
    with op.batch_alter_table("event_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_event_deliveries_due",
            ["next_attempt_at"],
            unique=False,
            sqlite_where=sa.text("delivered_at IS NULL"),
            postgresql_where=sa.text("delivered_at IS NULL"),
        )

    op.create_table(
        "manifest_entries",
        sa.Column("file_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.CheckConstraint("kind IN ('file', 'dir')", name=op.f("ck_manifest_entries_kind")),
        sa.ForeignKeyConstraint(
            ["file_id"],
            ["files.id"],
            name=op.f("fk_manifest_entries_file_id_files"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("file_id", "seq", name=op.f("pk_manifest_entries")),
    )
    op.create_table(
        "processing_results",
        sa.Column("file_id", sa.Uuid(), nullable=False),
        sa.Column("processor", sa.String(length=32), nullable=False),
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("error_code", sa.String(length=64), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('done', 'failed')", name=op.f("ck_processing_results_status")
        ),
        sa.ForeignKeyConstraint(
            ["file_id"],
            ["files.id"],
            name=op.f("fk_processing_results_file_id_files"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["ingestion_runs.id"],
            name=op.f("fk_processing_results_run_id_ingestion_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("file_id", "processor", name=op.f("pk_processing_results")),
    )
    with op.batch_alter_table("processing_results", schema=None) as batch_op:
        batch_op.create_index("ix_processing_results_run_id", ["run_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("processing_results", schema=None) as batch_op:
        batch_op.drop_index("ix_processing_results_run_id")

    op.drop_table("processing_results")
    op.drop_table("manifest_entries")
    with op.batch_alter_table("event_deliveries", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_event_deliveries_due",
            sqlite_where=sa.text("delivered_at IS NULL"),
            postgresql_where=sa.text("delivered_at IS NULL"),
        )

    op.drop_table("event_deliveries")
    op.drop_table("dead_letters")
    with op.batch_alter_table("run_events", schema=None) as batch_op:
        batch_op.drop_index("ix_run_events_run_occurred")

    op.drop_table("run_events")
