"""Runs and their files.

Revision ID: 0001
Revises:
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ingestion_runs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error_code", sa.String(length=64), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("parent_run_id", sa.Uuid(), nullable=True),
        sa.CheckConstraint("source IN ('api', 'bucket')", name=op.f("ck_ingestion_runs_source")),
        sa.CheckConstraint(
            "status IN ('pending', 'stored', 'failed', 'cancelled', 'expired')",
            name=op.f("ck_ingestion_runs_status"),
        ),
        sa.ForeignKeyConstraint(
            ["parent_run_id"],
            ["ingestion_runs.id"],
            name=op.f("fk_ingestion_runs_parent_run_id_ingestion_runs"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingestion_runs")),
    )
    with op.batch_alter_table("ingestion_runs", schema=None) as batch_op:
        batch_op.create_index("ix_ingestion_runs_created", ["created_at", "id"], unique=False)
        batch_op.create_index(
            "ix_ingestion_runs_status_created", ["status", "created_at", "id"], unique=False
        )
        batch_op.create_index(
            "ix_ingestion_runs_type_created", ["type", "created_at", "id"], unique=False
        )

    op.create_table(
        "files",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("object_key", sa.String(length=1024), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("content_type", sa.String(length=255), nullable=False),
        sa.Column("declared_sha256", sa.String(length=64), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("etag", sa.String(length=128), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("multipart_upload_id", sa.String(length=1024), nullable=True),
        sa.Column("part_size", sa.BigInteger(), nullable=True),
        sa.Column("upload_completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error_code", sa.String(length=64), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'stored', 'failed')", name=op.f("ck_files_status")
        ),
        sa.CheckConstraint("size_bytes >= 0", name=op.f("ck_files_size_bytes")),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["ingestion_runs.id"],
            name=op.f("fk_files_run_id_ingestion_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_files")),
        sa.UniqueConstraint("object_key", name=op.f("uq_files_object_key")),
    )
    with op.batch_alter_table("files", schema=None) as batch_op:
        batch_op.create_index("ix_files_run_id", ["run_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("files", schema=None) as batch_op:
        batch_op.drop_index("ix_files_run_id")

    op.drop_table("files")
    with op.batch_alter_table("ingestion_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_ingestion_runs_type_created")
        batch_op.drop_index("ix_ingestion_runs_status_created")
        batch_op.drop_index("ix_ingestion_runs_created")

    op.drop_table("ingestion_runs")
