"""When the server checked each file's object and recorded its verdict (stored or failed): a
failed file had no time of its own, so the page's timeline could not place it.

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("files", schema=None) as batch_op:
        batch_op.add_column(sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True))
    # Earlier verdicts: a stored file was checked when it was stored; a failed one fails its run
    # in the same transaction, so its run's last update is the best time there is.
    op.execute("UPDATE files SET checked_at = stored_at WHERE stored_at IS NOT NULL")
    op.execute(
        "UPDATE files SET checked_at = (SELECT updated_at FROM ingestion_runs"
        " WHERE ingestion_runs.id = files.run_id) WHERE status = 'failed'"
    )


def downgrade() -> None:
    with op.batch_alter_table("files", schema=None) as batch_op:
        batch_op.drop_column("checked_at")
