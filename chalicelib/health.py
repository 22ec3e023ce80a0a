"""`GET /health`: is the database reachable, is the bucket there?"""

from __future__ import annotations

from collections.abc import Callable

from chalicelib.db import Database
from chalicelib.logs import logger
from chalicelib.schemas import Health
from chalicelib.storage import Storage


def _probe(name: str, check: Callable[[], None]) -> str:
    try:
        check()
    except Exception as exc:  # any failure is the answer; its details go to the log, not the client
        logger.warning("health check failed", extra={"check": name, "error": repr(exc)})
        return f"error: {name} unreachable ({type(exc).__name__})"
    return "ok"


def check(db: Database, storage: Storage) -> Health:
    checks = {"db": _probe("database", db.ping), "storage": _probe("bucket", storage.check)}
    status = "ok" if all(v == "ok" for v in checks.values()) else "error"
    return Health(status=status, checks=checks)
