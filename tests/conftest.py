"""Real services for the tests: Postgres (a fresh database on the running server), SQLite,
and a moto S3 server spoken to over HTTP; and the rule that CI never skips."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from chalice.test import Client
from sqlalchemy import delete

import app as app_module
from chalicelib.config import Settings
from chalicelib.db import Database
from chalicelib.models import ApiToken, File, Run
from chalicelib.service import Inlet
from chalicelib.storage import Storage, make_s3_client
from local.processes import moto_server
from local.resources import EventQueue, ensure_event_queue, ensure_upload_bucket, make_sqs_client
from tests.support.config import BUCKET, CORS_ORIGIN, EVENTS_BUCKET, QUIET_BUCKET, make_settings
from tests.support.databases import migrate, postgres_database
from tests.support.events import no_notifications
from tests.support.logs import LogLines, captured_log_lines

# Under CI every suite is required: a test that would skip (Postgres unreachable, a tool
# missing) fails instead, so a green run always means everything ran.
REQUIRED = bool(os.environ.get("CI"))
# Tests of what only LocalStack enforces (signatures, checksums, CORS refusals) run in the
# LocalStack leg, which points INLET_TEST_S3_ENDPOINT at it; elsewhere they are deselected.
ON_LOCALSTACK = bool(os.environ.get("INLET_TEST_S3_ENDPOINT", "").strip())


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if ON_LOCALSTACK:
        return
    elsewhere = [item for item in items if item.get_closest_marker("localstack")]
    if elsewhere:
        config.hook.pytest_deselected(items=elsewhere)
        items[:] = [item for item in items if not item.get_closest_marker("localstack")]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()  # type: ignore[attr-defined]
    if REQUIRED and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped under CI, where every test is required: {report.longrepr}"


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Iterator[None]:
    """The same for a whole module that skips itself (pytest.importorskip at the top)."""
    outcome = yield
    report: pytest.CollectReport = outcome.get_result()  # type: ignore[attr-defined]
    if REQUIRED and report.skipped:
        report.outcome = "failed"


# Fake credentials so boto3 never looks for real ones. Authentication is off unless a test turns
# it on (tests/integration/test_auth.py): servers the tests start inherit this.
for _name, _value in {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "MOTO_DISABLE_GLOBAL_CORS": "1",
    "INLET_AUTH": "off",
    # Quotas off: suites create runs in bursts (tests/integration/test_quotas.py sets its own).
    "INLET_QUOTA_PENDING_RUNS": "0",
    "INLET_QUOTA_PENDING_BYTES": "0",
    "INLET_QUOTA_RUNS_PER_MINUTE": "0",
    "INLET_QUOTA_INBOX_PER_MINUTE": "0",
}.items():
    os.environ.setdefault(_name, _value)


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A moto server (a child process), or the S3/SQS endpoint named by INLET_TEST_S3_ENDPOINT (the
    LocalStack leg, `make test-localstack`, runs the same tests against LocalStack that way)."""
    external = os.environ.get("INLET_TEST_S3_ENDPOINT", "").strip()
    if external:
        yield external.rstrip("/")
        return
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A fresh, empty database of each kind for the whole session."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'inlet.db'}"
    else:
        yield from postgres_database()


@pytest.fixture(scope="session")
def migrated_db(database_url: str) -> Iterator[Database]:
    migrate(database_url)
    db = Database.from_url(database_url)
    yield db
    db.engine.dispose()


@pytest.fixture
def db(migrated_db: Database) -> Iterator[Database]:
    yield migrated_db
    with migrated_db.session() as session:
        session.execute(delete(File))
        session.execute(delete(Run))
        session.execute(delete(ApiToken))


@pytest.fixture
def log_lines() -> Iterator[LogLines]:
    """The JSON lines the app logs during the test."""
    with captured_log_lines() as lines:
        yield lines


@pytest.fixture
def settings(database_url: str, s3_endpoint: str) -> Settings:
    return make_settings(database_url, s3_endpoint)


@pytest.fixture(scope="session")
def bucket_ready(s3_endpoint: str) -> None:
    s3 = make_s3_client(Settings(s3_endpoint_url=s3_endpoint))
    ensure_upload_bucket(s3, BUCKET, [CORS_ORIGIN])


@pytest.fixture
def storage(settings: Settings, bucket_ready: None) -> Storage:
    return Storage(make_s3_client(settings), settings.inlet_bucket, settings.inlet_presign_ttl)


@pytest.fixture
def api(
    monkeypatch: pytest.MonkeyPatch, db: Database, storage: Storage, settings: Settings
) -> Iterator[Client]:
    """Chalice's test client over the real app, handed the real database and bucket."""
    yield from serve_app(monkeypatch, settings, db, storage)


def serve_app(
    monkeypatch: pytest.MonkeyPatch, settings: Settings, db: Database, storage: Storage
) -> Iterator[Client]:
    """Point the app's routes and event handlers at these settings, database and bucket."""
    services = Inlet(settings, db, storage)
    monkeypatch.setattr(app_module, "settings", lambda: settings)
    monkeypatch.setattr(app_module, "inlet", lambda: services)
    with Client(app_module.app) as client:
        yield client


def own_bucket(settings: Settings) -> Storage:
    """`settings.inlet_bucket`, made as the stacks make the upload bucket (versioned, with its
    CORS rule)."""
    s3 = make_s3_client(settings)
    ensure_upload_bucket(s3, settings.inlet_bucket, [CORS_ORIGIN])
    return Storage(s3, settings.inlet_bucket, settings.inlet_presign_ttl)


# --- Bucket events: a bucket of their own, notifying a fresh queue in every test ---------------


@pytest.fixture
def event_settings(database_url: str, s3_endpoint: str) -> Settings:
    return make_settings(database_url, s3_endpoint, inlet_bucket=EVENTS_BUCKET)


@pytest.fixture
def event_storage(event_settings: Settings) -> Storage:
    return own_bucket(event_settings)


@pytest.fixture
def event_queue(event_settings: Settings, event_storage: Storage) -> EventQueue:
    """A fresh queue (and dead-letter queue) that the events bucket notifies. A failed message
    is visible again at once, and moves to the dead-letter queue on its fourth receive."""
    return ensure_event_queue(
        event_storage.client,
        make_sqs_client(event_settings),
        EVENTS_BUCKET,
        f"inlet-events-{uuid.uuid4().hex[:8]}",
        max_receives=3,
        visibility_timeout=0,
    )


@pytest.fixture
def event_app(
    monkeypatch: pytest.MonkeyPatch, db: Database, event_storage: Storage, event_settings: Settings
) -> Iterator[Client]:
    """The app (API and event handlers) serving the events bucket."""
    yield from serve_app(monkeypatch, event_settings, db, event_storage)


# --- A quiet bucket: versioned, and its events reach nobody (the scheduled job's own work) -----


@pytest.fixture
def quiet_settings(database_url: str, s3_endpoint: str) -> Settings:
    return make_settings(database_url, s3_endpoint, inlet_bucket=QUIET_BUCKET)


@pytest.fixture
def quiet_storage(quiet_settings: Settings) -> Storage:
    """The quiet bucket, checked versioned, with every notification switched off."""
    storage = own_bucket(quiet_settings)
    versioning = storage.client.get_bucket_versioning(Bucket=storage.bucket)
    assert versioning.get("Status") == "Enabled", versioning
    no_notifications(storage)
    return storage
