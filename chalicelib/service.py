"""Inlet's services, built once per process with their clients.

`app.py` builds one `Inlet` on first use (from the environment) and every function calls into it;
tests build one with a real database and bucket of their own (the Chalice sample apps' style).
"""

from __future__ import annotations

from datetime import timedelta

from chalicelib import db_secret, expiry, health
from chalicelib.config import Settings
from chalicelib.db import Database
from chalicelib.events import BucketEvents
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

    def expire_pending_runs(self) -> int:
        """Expire runs left pending longer than INLET_PENDING_TTL_HOURS; how many."""
        ttl = timedelta(hours=self.settings.inlet_pending_ttl_hours)
        return expiry.expire_runs(self.db, self.storage, ttl)
