"""Inlet's services, built once per process with their clients.

`app.py` builds one `Inlet` on first use (from the environment) and every function calls into it;
tests build one with a real database and bucket of their own (the Chalice sample apps' style).
"""

from __future__ import annotations

from datetime import datetime

from chalicelib import db_secret, health, maintenance
from chalicelib.config import Settings
from chalicelib.db import Database
from chalicelib.events import BucketEvents
from chalicelib.limits import Quotas
from chalicelib.runs import Runs
from chalicelib.schemas import Health
from chalicelib.storage import Storage, make_s3_client
from chalicelib.uploads import Uploads


class Inlet:
    def __init__(self, settings: Settings, db: Database, storage: Storage) -> None:
        self.settings = settings
        self.db = db
        self.storage = storage
        self.uploads = Uploads(db, storage, settings)
        self.runs = Runs(db)
        self.events = BucketEvents(db, storage, settings)
        self.limits = Quotas(db, settings)

    @classmethod
    def from_settings(cls, settings: Settings) -> Inlet:
        # Clients may reach the bucket elsewhere than we do (docker compose): sign for their host.
        public = settings.s3_public_endpoint_url
        presigner = make_s3_client(settings, public=True) if public else None
        storage = Storage(
            make_s3_client(settings),
            settings.inlet_bucket,
            settings.inlet_presign_ttl,
            presigner=presigner,
        )
        return cls(settings, Database.from_url(db_secret.database_url(settings)), storage)

    def health(self) -> Health:
        return health.check(self.db, self.storage)

    def run_schedule(
        self, now: datetime | None = None, budget: float = maintenance.DEFAULT_BUDGET_SECONDS
    ) -> maintenance.ScheduleReport:
        """The scheduled job: process uploads whose event was lost, adopt inbox drops the inbox
        rate deferred, expire runs left pending longer than INLET_PENDING_TTL_HOURS, purge the
        objects of runs that ended more than INLET_ORPHAN_GRACE_HOURS ago; no new work after
        `budget` seconds (docs/events.md)."""
        return maintenance.run_schedule(
            self.db, self.storage, self.events, self.settings, now, budget=budget
        )
