"""Inlet's services, built once per process with their clients.

`app.py` builds one `Inlet` on first use (from the environment) and every function calls into it;
tests build one with a real database and bucket of their own (the Chalice sample apps' style).

Each service, and the S3 client, is built (and its module imported) on first use: a Lambda
function imports only what its own invocations touch (docs/adr/006-cold-start.md).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING

from chalicelib import db_secret
from chalicelib.config import Settings
from chalicelib.db import Database

if TYPE_CHECKING:
    from chalicelib.companion import Companion
    from chalicelib.downloads import Downloads
    from chalicelib.events import BucketEvents
    from chalicelib.limits import Quotas
    from chalicelib.maintenance import ScheduleReport
    from chalicelib.outbox import Outbox
    from chalicelib.processing import Processing
    from chalicelib.runs import Runs
    from chalicelib.schemas import Health
    from chalicelib.storage import Storage
    from chalicelib.uploads import Uploads


class Inlet:
    def __init__(
        self, settings: Settings, db: Database, storage: Storage | Callable[[], Storage]
    ) -> None:
        """`storage`: the bucket, or how to reach it when first needed."""
        self.settings = settings
        self.db = db
        self._storage = storage

    @classmethod
    def from_settings(cls, settings: Settings) -> Inlet:
        database = Database.from_url(db_secret.database_url(settings))
        return cls(settings, database, _storage(settings))

    @cached_property
    def storage(self) -> Storage:
        return self._storage() if callable(self._storage) else self._storage

    @cached_property
    def uploads(self) -> Uploads:
        from chalicelib.uploads import Uploads

        return Uploads(self.db, self.storage, self.settings)

    @cached_property
    def companion(self) -> Companion:
        from chalicelib.companion import Companion

        return Companion(self.uploads)

    @cached_property
    def runs(self) -> Runs:
        from chalicelib.runs import Runs

        return Runs(self.db, self.settings.inlet_max_wait_seconds)

    @cached_property
    def events(self) -> BucketEvents:
        from chalicelib.events import BucketEvents

        return BucketEvents(self.db, self.storage, self.settings)

    @cached_property
    def limits(self) -> Quotas:
        from chalicelib.limits import Quotas

        return Quotas(self.db, self.settings)

    @cached_property
    def downloads(self) -> Downloads:
        from chalicelib.downloads import Downloads

        return Downloads(self.db, self.storage, self.settings)

    @cached_property
    def outbox(self) -> Outbox:
        from chalicelib.outbox import Outbox

        return Outbox.from_settings(self.db, self.settings)

    @cached_property
    def processing(self) -> Processing:
        from chalicelib.processing import Processing

        return Processing(self.db, self.storage, self.settings)

    def publish_events(self) -> None:
        """Publish the run events committed so far (chalicelib/outbox.py): called after the work
        that wrote them; what fails or is left is retried by the next drain."""
        self.outbox.drain()

    def health(self) -> Health:
        from chalicelib import health

        return health.check(self.db, self.storage)

    def run_schedule(
        self, now: datetime | None = None, budget: float | None = None
    ) -> ScheduleReport:
        """The scheduled job: process uploads whose event was lost, adopt inbox drops the inbox
        rate deferred, expire runs left pending longer than INLET_PENDING_TTL_HOURS, purge the
        objects of runs that ended more than INLET_ORPHAN_GRACE_HOURS ago; no new work after
        `budget` seconds (maintenance.DEFAULT_BUDGET_SECONDS when None; docs/events.md)."""
        from chalicelib import maintenance

        if budget is None:
            budget = maintenance.DEFAULT_BUDGET_SECONDS
        return maintenance.run_schedule(
            self.db,
            self.storage,
            self.events,
            self.settings,
            now,
            budget=budget,
            outbox=self.outbox,
        )


def _storage(settings: Settings) -> Callable[[], Storage]:
    """How to build the bucket's `Storage` (boto3 and its S3 model load only when called)."""

    def build() -> Storage:
        from chalicelib.storage import Storage, make_s3_client

        # Clients may reach the bucket elsewhere than we do (docker compose): sign for their host.
        public = settings.s3_public_endpoint_url
        presigner = make_s3_client(settings, public=True) if public else None
        return Storage(
            make_s3_client(settings),
            settings.inlet_bucket,
            settings.inlet_presign_ttl,
            presigner=presigner,
        )

    return build
