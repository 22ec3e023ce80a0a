"""Versioned records: each file's object version, inbox keys unique per version, the `lost` file
status, integrity incidents, and when a run's objects were purged.

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As chalicelib.models.ONE_FILE_PER_KEY (copied: a revision never changes with the models).
ONE_FILE_PER_KEY = "substr(object_key, 1, 6) <> 'inbox/' OR version_id IS NULL"
STATUSES_0003 = "status IN ('pending', 'stored', 'failed')"
STATUSES_0004 = "status IN ('pending', 'stored', 'failed', 'lost')"


def upgrade() -> None:
    with op.batch_alter_table("ingestion_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table("files", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version_id", sa.String(length=1024), nullable=True))
        batch_op.drop_constraint(op.f("uq_files_object_key"), type_="unique")
        batch_op.drop_constraint(op.f("ck_files_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_files_status"), sa.text(STATUSES_0004))
        batch_op.create_index(
            "ux_files_object_key",
            ["object_key"],
            unique=True,
            sqlite_where=sa.text(ONE_FILE_PER_KEY),
            postgresql_where=sa.text(ONE_FILE_PER_KEY),
        )
        batch_op.create_index(
            "ux_files_object_key_version", ["object_key", "version_id"], unique=True
        )

    op.create_table(
        "integrity_incidents",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("file_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("object_key", sa.String(length=1024), nullable=False),
        sa.Column("recorded_version_id", sa.String(length=1024), nullable=True),
        sa.Column("other_version_id", sa.String(length=1024), nullable=True),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('overwritten', 'deleted', 'version_lost')",
            name=op.f("ck_integrity_incidents_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["file_id"],
            ["files.id"],
            name=op.f("fk_integrity_incidents_file_id_files"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["ingestion_runs.id"],
            name=op.f("fk_integrity_incidents_run_id_ingestion_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integrity_incidents")),
        sa.UniqueConstraint(
            "file_id",
            "kind",
            "other_version_id",
            name=op.f("uq_integrity_incidents_file_id"),
        ),
    )
    with op.batch_alter_table("integrity_incidents", schema=None) as batch_op:
        batch_op.create_index(
            "ix_integrity_incidents_run_detected", ["run_id", "detected_at"], unique=False
        )


def downgrade() -> None:
    # 0003 keys files by object key alone: an inbox key adopted once per version cannot go back.
    conn = op.get_bind()
    shared = conn.execute(
        sa.text("SELECT object_key FROM files GROUP BY object_key HAVING count(*) > 1 LIMIT 5")
    ).scalars()
    keys = list(shared)
    if keys:
        raise RuntimeError(
            "cannot downgrade below 0004: several files (versions) share the object keys "
            f"{keys}; delete the extra runs first"
        )

    with op.batch_alter_table("integrity_incidents", schema=None) as batch_op:
        batch_op.drop_index("ix_integrity_incidents_run_detected")
    op.drop_table("integrity_incidents")

    # 0003 has no `lost`: a file whose version is gone is no longer stored; its error says why.
    op.execute(sa.text("UPDATE files SET status = 'failed' WHERE status = 'lost'"))
    with op.batch_alter_table("files", schema=None) as batch_op:
        batch_op.drop_index("ux_files_object_key_version")
        batch_op.drop_index("ux_files_object_key")
        batch_op.drop_constraint(op.f("ck_files_status"), type_="check")
        batch_op.create_check_constraint(op.f("ck_files_status"), sa.text(STATUSES_0003))
        batch_op.create_unique_constraint(op.f("uq_files_object_key"), ["object_key"])
        batch_op.drop_column("version_id")

    with op.batch_alter_table("ingestion_runs", schema=None) as batch_op:
        batch_op.drop_column("purged_at")
