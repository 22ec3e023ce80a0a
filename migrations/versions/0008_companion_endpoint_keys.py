"""A run's Companion endpoint (`POST /v1/companion/runs`): the SHA-256 of the key in its path,
which lets an Uppy app upload that run's declared files without a token (Uppy 6 sends none).

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ingestion_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("companion_key_sha256", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ingestion_runs", schema=None) as batch_op:
        batch_op.drop_column("companion_key_sha256")
