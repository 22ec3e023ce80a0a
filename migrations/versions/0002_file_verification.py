"""What bucket-event processing records on a file: its stored size and the event sequencer.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("files", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stored_size", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("sequencer", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("files", schema=None) as batch_op:
        batch_op.drop_column("sequencer")
        batch_op.drop_column("stored_size")
