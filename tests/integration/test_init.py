"""`python -m local.init` (the one source of truth for the local cloud resources) and
`python -m local.pump` (the compose stack's queue pump), against the tests' S3/SQS endpoint
(moto, or LocalStack in the LocalStack leg) and the running Postgres."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from botocore.stub import Stubber
from sqlalchemy import inspect, select

from chalicelib.bucket import WEBHOOK_EVENTS
from chalicelib.config import Settings
from chalicelib.db import Database, make_engine
from chalicelib.migrate import upgrade_url
from chalicelib.models import EventDelivery, RunEvent
from chalicelib.publishers import PROCESSING
from chalicelib.storage import Storage, make_s3_client
from local import init
from local.resources import EventQueue, ensure_queue, make_sqs_client
from tests.support.api import at, insert_run
from tests.support.config import CORS_ORIGIN, ROOT
from tests.support.databases import PG_ADMIN_URL
from tests.support.events import create, detail, sha256, wait_until
from tests.support.queues import queue_depth


def endpoint_settings(s3_endpoint: str, **changes: object) -> Settings:
    values: dict[str, object] = {
        "s3_endpoint_url": s3_endpoint,
        "inlet_bucket": f"inlet-init-{uuid.uuid4().hex[:8]}",
        "inlet_events_queue": f"inlet-init-{uuid.uuid4().hex[:8]}",
        "inlet_processing_queue": f"inlet-init-processing-{uuid.uuid4().hex[:8]}",
        "inlet_cors_origins": (CORS_ORIGIN,),
        "inlet_max_receives": 4,
    }
    return Settings.model_validate(values | changes)


def environment(settings: Settings) -> dict[str, str]:
    """The settings as the variables a compose service gets."""
    return os.environ | {
        "S3_ENDPOINT_URL": settings.s3_endpoint_url or "",
        "INLET_BUCKET": settings.inlet_bucket,
        "INLET_EVENTS_QUEUE": settings.inlet_events_queue,
        "INLET_PROCESSING_QUEUE": settings.inlet_processing_queue,
        "INLET_CORS_ORIGINS": ",".join(settings.inlet_cors_origins),
        "INLET_MAX_RECEIVES": str(settings.inlet_max_receives),
        "DATABASE_URL": settings.database_url,
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }


def test_init_creates_bucket_cors_queues_and_notifications(s3_endpoint: str) -> None:
    settings = endpoint_settings(s3_endpoint)
    s3, sqs = make_s3_client(settings), make_sqs_client(settings)

    made = init.init_resources(settings)
    again = init.init_resources(settings)  # idempotent

    assert made == again
    assert (made.bucket, made.cors) == (settings.inlet_bucket, True)
    assert made.queue is not None
    assert made.notify_target == made.queue.arn
    assert made.versioned
    versioning = s3.get_bucket_versioning(Bucket=settings.inlet_bucket)
    assert versioning["Status"] == "Enabled"
    (rule,) = s3.get_bucket_cors(Bucket=settings.inlet_bucket)["CORSRules"]
    assert rule["AllowedOrigins"] == [CORS_ORIGIN]
    assert "ETag" in rule["ExposeHeaders"]
    attributes = sqs.get_queue_attributes(
        QueueUrl=made.queue.url, AttributeNames=["RedrivePolicy", "QueueArn"]
    )
    redrive = json.loads(attributes["Attributes"]["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"] == made.queue.dead_letter_arn
    assert int(redrive["maxReceiveCount"]) == 4
    config = s3.get_bucket_notification_configuration(Bucket=settings.inlet_bucket)
    assert sorted(
        (r["Filter"]["Key"]["FilterRules"][0]["Value"], r["QueueArn"], tuple(r["Events"]))
        for r in config["QueueConfigurations"]
    ) == [
        ("inbox/", made.queue.arn, ("s3:ObjectCreated:*", "s3:ObjectRemoved:*")),
        ("runs/", made.queue.arn, ("s3:ObjectCreated:*", "s3:ObjectRemoved:*")),
    ]
    # The processing queue (stored runs' events, sent by the outbox): a dead-letter queue of its
    # own, and a visibility timeout that outlasts processing one archive.
    assert made.processing is not None
    assert made.processing.url.endswith(f"/{settings.inlet_processing_queue}")
    assert made.processing.dead_letter_url.endswith(f"/{settings.inlet_processing_queue}-dlq")
    processing = sqs.get_queue_attributes(
        QueueUrl=made.processing.url, AttributeNames=["RedrivePolicy", "VisibilityTimeout"]
    )["Attributes"]
    processing_redrive = json.loads(processing["RedrivePolicy"])
    assert (
        processing_redrive["deadLetterTargetArn"],
        int(processing_redrive["maxReceiveCount"]),
    ) == (
        made.processing.dead_letter_arn,
        4,
    )
    assert int(processing["VisibilityTimeout"]) == init.PROCESSING_VISIBILITY_SECONDS


def test_init_without_notifications(s3_endpoint: str) -> None:
    settings = endpoint_settings(s3_endpoint)
    made = init.init_resources(settings, notify="none")
    assert (made.queue, made.notify_target, made.cors) == (None, None, True)
    assert made.processing is None


def test_webhook_notifications_subscribe_to_created_and_removed_bytes_only() -> None:
    """MinIO (which cannot run here): the requests init sends, checked with botocore's stubber.
    MinIO creates the bucket and turns versioning on, then answers PutBucketCors with
    NotImplemented. The webhook takes removals too (a delete over a stored file's key is an
    incident), never tagging or retention changes."""
    settings = Settings(
        s3_endpoint_url="http://minio.invalid:9000",
        inlet_bucket="uploads",
        inlet_cors_origins=(CORS_ORIGIN,),
    )
    s3 = make_s3_client(settings)
    rules = [
        {
            "Id": f"inlet-{prefix.rstrip('/')}",
            "QueueArn": init.MINIO_WEBHOOK_ARN,
            "Events": list(WEBHOOK_EVENTS),
            "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": prefix}]}},
        }
        for prefix in ("runs/", "inbox/")
    ]
    with Stubber(s3) as stub:
        stub.add_response("create_bucket", {}, {"Bucket": "uploads"})
        stub.add_response(
            "put_bucket_versioning",
            {},
            {"Bucket": "uploads", "VersioningConfiguration": {"Status": "Enabled"}},
        )
        stub.add_client_error("put_bucket_cors", "NotImplemented", http_status_code=501)
        stub.add_response(
            "put_bucket_notification_configuration",
            {},
            {"Bucket": "uploads", "NotificationConfiguration": {"QueueConfigurations": rules}},
        )
        made = init.init_resources(settings, notify="webhook", s3=s3)
        stub.assert_no_pending_responses()
    assert made == init.Resources("uploads", False, None, init.MINIO_WEBHOOK_ARN, True)
    assert {"s3:ObjectRemoved:Delete", "s3:ObjectRemoved:DeleteMarkerCreated"} <= set(
        WEBHOOK_EVENTS
    )


def test_a_server_without_versioning_is_reported() -> None:
    """A server without the versioning API (old MinIO in FS mode) answers NotImplemented: init
    goes on and reports it (`python -m local.init` prints how to enable it: docs/minio.md)."""
    settings = Settings(
        s3_endpoint_url="http://minio.invalid:9000",
        inlet_bucket="uploads",
        inlet_cors_origins=(CORS_ORIGIN,),
    )
    s3 = make_s3_client(settings)
    with Stubber(s3) as stub:
        stub.add_response("create_bucket", {})
        stub.add_client_error("put_bucket_versioning", "NotImplemented", http_status_code=501)
        stub.add_response("put_bucket_cors", {})
        made = init.init_resources(settings, notify="none", s3=s3)
    assert made == init.Resources("uploads", True, None, None, versioned=False)


@pytest.mark.parametrize("failing", ["put_bucket_versioning", "put_bucket_cors"])
def test_other_bucket_errors_are_not_swallowed(failing: str) -> None:
    s3 = make_s3_client(Settings(s3_endpoint_url="http://minio.invalid:9000"))
    with Stubber(s3) as stub:
        stub.add_response("create_bucket", {})
        if failing == "put_bucket_cors":
            stub.add_response("put_bucket_versioning", {})
        stub.add_client_error(failing, "AccessDenied", http_status_code=403)
        with pytest.raises(ClientError):
            init.init_resources(Settings(inlet_cors_origins=(CORS_ORIGIN,)), notify="none", s3=s3)


def test_no_origin_means_no_bucket_cors_rule() -> None:
    """No origin configured: the bucket gets no CORS rule at all (never `*`)."""
    s3 = make_s3_client(Settings(s3_endpoint_url="http://minio.invalid:9000"))
    with Stubber(s3) as stub:
        stub.add_response("create_bucket", {})
        stub.add_response("put_bucket_versioning", {})
        stub.add_response("delete_bucket_cors", {}, {"Bucket": "inlet-uploads"})
        init.init_resources(Settings(), notify="none", s3=s3)
        stub.assert_no_pending_responses()


class FakeClock:
    """`local.init`'s clock: sleeping moves it on at once, so a test of waiting waits for
    nothing and depends on no machine's speed."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_retrying_waits_for_the_endpoint_then_gives_up(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock()
    monkeypatch.setattr(init, "time", clock)
    settings = Settings(s3_endpoint_url="http://127.0.0.1:9/", inlet_bucket="nowhere")
    with pytest.raises(SystemExit, match="did not answer within 2 s"):
        init.retrying(lambda: init.init_resources(settings, notify="none"), 2, "nowhere")
    assert clock.slept == [1, 1]  # tried at 0, 1 and 2 s, then gave up


def test_retrying_returns_once_the_endpoint_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock()
    monkeypatch.setattr(init, "time", clock)
    attempts: list[float] = []

    def starting_up() -> str:
        attempts.append(clock.now)
        if len(attempts) < 3:
            raise EndpointConnectionError(endpoint_url="http://starting.invalid")
        return "answered"

    assert init.retrying(starting_up, 60, "starting.invalid") == "answered"
    assert attempts == [1000.0, 1001.0, 1002.0]


def test_the_command_line(s3_endpoint: str, tmp_path: Path) -> None:
    """As the compose `init` service runs it, here with a fresh SQLite file to migrate."""
    settings = endpoint_settings(s3_endpoint, database_url=f"sqlite:///{tmp_path / 'inlet.db'}")
    result = subprocess.run(
        [sys.executable, "-m", "local.init", "--migrate", "--wait", "120"],
        cwd=ROOT,
        env=environment(settings),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert f"bucket        {settings.inlet_bucket}  (CORS for {CORS_ORIGIN})" in result.stdout
    assert f"/{settings.inlet_events_queue}-dlq" in result.stdout
    processing = make_sqs_client(settings).get_queue_url(QueueName=settings.inlet_processing_queue)[
        "QueueUrl"
    ]
    assert f"processing    {processing}\n" in result.stdout
    assert "database      migrated to head" in result.stdout
    engine = make_engine(settings.database_url)
    assert {"ingestion_runs", "files"} <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_ensure_database_creates_a_missingpostgres_database() -> None:
    try:
        psycopg.connect(PG_ADMIN_URL, connect_timeout=5).close()
    except psycopg.OperationalError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"Postgres is unreachable at {PG_ADMIN_URL} (CI must test it): {exc}")
        pytest.skip(f"Postgres is unreachable: {exc}")
    name = f"inlet_init_{uuid.uuid4().hex[:10]}"
    url = f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    try:
        assert init.ensure_database(url) is True
        assert init.ensure_database(url) is False
        upgrade_url(url)
        engine = make_engine(url)
        assert "ingestion_runs" in inspect(engine).get_table_names()
        engine.dispose()
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    assert init.ensure_database("sqlite:///whatever.db") is False


def settled(db: Database, run_id: uuid.UUID | str, process: subprocess.Popen[bytes]) -> bool:
    """The run is no longer pending; fails the test at once if the pump has died."""
    assert process.poll() is None, process.communicate()[0]
    return detail(db, run_id).status != "pending"


def processing_delivered(db: Database, run_id: uuid.UUID) -> bool:
    """The outbox has sent the run's `run.stored` event to the processing queue."""
    with db.session() as session:
        delivered = session.scalar(
            select(EventDelivery.delivered_at)
            .join(RunEvent, RunEvent.id == EventDelivery.event_id)
            .where(RunEvent.run_id == run_id, EventDelivery.destination == PROCESSING)
        )
    return delivered is not None


def test_pump_process_stores_an_upload_and_stops_on_sigterm(
    db: Database, event_settings: Settings, event_storage: Storage, event_queue: EventQueue
) -> None:
    """`python -m local.pump`, as the compose `pump` service runs it: it pumps the events queue
    and the processing queue (the stored run's event, which the outbox sent there)."""
    sqs = make_sqs_client(event_settings)
    processing = ensure_queue(sqs, f"inlet-processing-{uuid.uuid4().hex[:8]}", 3, 0)
    settings = event_settings.model_copy(
        update={
            "inlet_events_queue": event_queue.url.rsplit("/", 1)[-1],
            "inlet_processing_queue": processing.url.rsplit("/", 1)[-1],
        }
    )
    data = os.urandom(4000)
    created = create(db, event_storage, settings, data)
    process = subprocess.Popen(
        [sys.executable, "-m", "local.pump", "--wait-seconds", "1"],
        cwd=ROOT,
        env=environment(settings) | {"INLET_HASH_RANGE_SIZE": "0"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        event_storage.client.put_object(
            Bucket=event_storage.bucket, Key=created.files[0].key, Body=data
        )
        wait_until(
            lambda: settled(db, created.run.id, process), "the pump storing the upload", every=0.2
        )
        run = detail(db, created.run.id)
        assert (run.status, run.files[0].sha256) == ("stored", sha256(data))
        wait_until(
            lambda: processing_delivered(db, created.run.id), "the run.stored event sent", every=0.2
        )
        wait_until(
            lambda: queue_depth(sqs, processing.url) == 0,
            "the pump taking the event off the processing queue",
            every=0.2,
        )
        assert queue_depth(sqs, processing.dead_letter_url) == 0
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        output = process.communicate(timeout=120)[0]
    assert process.returncode == 0, output


def test_pump_schedule_only_runs_the_expiry_job(database_url: str, db: Database) -> None:
    """`python -m local.pump --schedule-only`: the MinIO stack has no queue, only this job."""
    run_id = insert_run(db, created_at=at(0))  # long before the 24 h limit
    process = subprocess.Popen(
        [sys.executable, "-m", "local.pump", "--schedule-only", "--schedule-every", "0.2"],
        cwd=ROOT,
        env=os.environ | {"DATABASE_URL": database_url, "POWERTOOLS_LOG_LEVEL": "WARNING"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_until(lambda: settled(db, run_id, process), "the pump expiring the run", every=0.2)
        assert detail(db, run_id).status == "expired"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        output = process.communicate(timeout=120)[0]
    assert process.returncode == 0, output
