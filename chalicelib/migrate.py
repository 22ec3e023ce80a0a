"""Apply the Alembic migrations from code: the `migrate` Lambda function that a CloudFormation
custom resource invokes on deploy (docs/deploy.md).

The revisions are the repository's `migrations/` folder. The Lambda package holds the same
folder at its root (`vendor/migrations` links to it, and Chalice copies `vendor/` to the root of
the package), so the path below is right in the repository and in the package alike.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy.exc import OperationalError

from chalicelib.db import Database
from chalicelib.logs import logger

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
PHYSICAL_ID = "inlet-schema"
# On a first deploy RDS Proxy may still be registering the database when this function runs.
CONNECT_WINDOW_SECONDS = 240.0


def wait_for(database: Database, seconds: float, interval: float = 5.0) -> None:
    """Return once the database answers; raise its last error after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            database.ping()
            return
        except OperationalError:
            if time.monotonic() >= deadline:
                raise
            logger.info("database not reachable yet, retrying")
            time.sleep(interval)


def alembic_config(database_url: str | None = None) -> Config:
    """Alembic's configuration for `migrations/`, without alembic.ini's logging setup: the one
    way the dev stack, `local.init`, the tests and the `migrate` function run migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    config.attributes["configure_logging"] = False
    if database_url:
        # Config values interpolate %: a password may hold one.
        config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade_url(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def upgrade(database: Database, revision: str = "head") -> str | None:
    """Upgrade the schema to `revision` in one transaction; the revision it is at afterwards."""
    config = alembic_config()
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        current: str | None = MigrationContext.configure(connection).get_current_revision()
        return current


def on_deploy_event(event: dict[str, Any], database: Callable[[], Database]) -> dict[str, Any]:
    """A CloudFormation custom resource event (through CDK's provider framework): Create and
    Update migrate; Delete touches nothing (the schema goes when the database goes), so a
    stack whose database or secret is already gone can still be deleted."""
    request_type = event.get("RequestType")
    if request_type == "Delete":
        return {"PhysicalResourceId": event.get("PhysicalResourceId", PHYSICAL_ID)}
    if request_type not in ("Create", "Update"):
        raise ValueError(f"not a custom resource event: RequestType={request_type!r}")
    db = database()
    wait_for(db, CONNECT_WINDOW_SECONDS)
    revision = upgrade(db)
    logger.info("schema migrated", extra={"revision": revision, "request_type": request_type})
    return {"PhysicalResourceId": PHYSICAL_ID, "Data": {"Revision": revision or ""}}
