"""Runs listed at any depth: an index per combination of the list's filters (owner, status,
type), each followed by the order (created_at, id), and a trigram index for the label search.

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# 0001 and 0003 made (created_at, id) alone and after each of owner, status and type.
COMBINED = {
    "ix_ingestion_runs_status_type_created": ["status", "type", "created_at", "id"],
    "ix_ingestion_runs_owner_status_created": ["owner", "status", "created_at", "id"],
    "ix_ingestion_runs_owner_type_created": ["owner", "type", "created_at", "id"],
    "ix_ingestion_runs_owner_status_type_created": ["owner", "status", "type", "created_at", "id"],
}
# `label ILIKE '%term%'` by trigrams on Postgres (pg_trgm ships with Postgres and is allowed on
# RDS; trusted since Postgres 13, so the database's owner may create it). Without fastupdate, new
# runs go straight into the index instead of a pending list that every search reads until a
# vacuum, and that the planner counts against the index. SQLite gets a plain index of the same
# name, which the models declare for both.
LABEL = "ix_ingestion_runs_label_trgm"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    with op.batch_alter_table("ingestion_runs", schema=None) as batch_op:
        for name, columns in COMBINED.items():
            batch_op.create_index(name, columns, unique=False)
        batch_op.create_index(
            LABEL,
            ["label"],
            unique=False,
            postgresql_using="gin",
            postgresql_ops={"label": "gin_trgm_ops"},
            postgresql_with={"fastupdate": "off"},
        )


def downgrade() -> None:
    # The pg_trgm extension stays: other objects of the database may use it.
    with op.batch_alter_table("ingestion_runs", schema=None) as batch_op:
        batch_op.drop_index(LABEL)
        for name in reversed(COMBINED):
            batch_op.drop_index(name)
