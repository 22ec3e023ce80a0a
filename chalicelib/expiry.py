"""Expire runs left `pending` too long (abandoned uploads) and abort their multipart uploads,
which the bucket would otherwise keep, and bill, until its lifecycle rule removes them."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select

from chalicelib.db import Database
from chalicelib.logs import logger
from chalicelib.models import Run, RunStatus, utcnow
from chalicelib.storage import Storage
from chalicelib.uploads import abort_open_uploads

BATCH = 100


def expire_run(db: Database, storage: Storage, run_id: uuid.UUID, ttl: timedelta) -> bool:
    """Expire one run if it is still pending; False when something else settled it first."""
    with db.session(serialize=True) as session:
        run = session.get(Run, run_id, with_for_update=True)
        if run is None or run.status != RunStatus.PENDING:
            return False
        # Abort before committing: if the bucket fails, the run stays pending for the next pass.
        abort_open_uploads(storage, run.files)
        run.status = RunStatus.EXPIRED.value
        run.error_code = "expired"
        run.error_message = f"still pending {ttl} after it was created"
    logger.info("run expired", extra={"run_id": str(run_id), "created_at": str(run.created_at)})
    return True


def expire_runs(db: Database, storage: Storage, ttl: timedelta, now: datetime | None = None) -> int:
    """Expire every run created more than `ttl` before `now` and still pending; how many."""
    cutoff = (now or utcnow()) - ttl
    expired = 0
    while True:
        with db.session() as session:
            run_ids = list(
                session.scalars(
                    select(Run.id)
                    .where(Run.status == RunStatus.PENDING, Run.created_at < cutoff)
                    .order_by(Run.created_at)
                    .limit(BATCH)
                )
            )
        if not run_ids:
            return expired
        expired += sum(expire_run(db, storage, run_id, ttl) for run_id in run_ids)
