"""Faults, each against real processes: the queue pump SIGKILLed while hashing a large object,
Postgres restarted during a burst of uploads (a throwaway cluster of this test's own, never the
machine's shared server), and the object store gone."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests
from sqlalchemy import func, select

from chalicelib import tokens
from chalicelib.config import GiB, MiB, Settings
from chalicelib.db import Database
from chalicelib.models import File, Run
from chalicelib.schemas import CreateUploadRequest, FileSpec
from chalicelib.storage import Storage, make_s3_client
from chalicelib.uploads import Uploads
from local.processes import free_port, moto_server, wait_until_ok
from local.resources import EventQueue, ensure_event_queue, ensure_upload_bucket, make_sqs_client
from local.stack import api_process
from tests.support.config import EVENTS_BUCKET, ROOT
from tests.support.databases import migrate
from tests.support.events import sha256

pytestmark = [pytest.mark.http, pytest.mark.slow]

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def wait_until(done: Callable[[], bool], seconds: float, what: str, every: float = 0.05) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if done():
            return
        time.sleep(every)
    pytest.fail(f"{what}: not within {seconds:.0f} s")


def stack_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment of an API or pump process serving `settings`."""
    return os.environ | {
        "DATABASE_URL": settings.database_url,
        "S3_ENDPOINT_URL": str(settings.s3_endpoint_url),
        "INLET_BUCKET": settings.inlet_bucket,
        "INLET_EVENTS_QUEUE": settings.inlet_events_queue,
        "INLET_HASH_RANGE_SIZE": "0",  # moto: one stream per object
        "PYTHONUNBUFFERED": "1",  # log lines reach the log file as they are written
        **extra,
    }


@contextmanager
def pump_process(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`python -m local.pump` (the docker compose pump) in a process group of its own."""
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "local.pump", "--wait-seconds", "1", "--schedule-every", "3600"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def events_queue(
    settings: Settings, storage: Storage, visibility: int, receives: int
) -> EventQueue:
    return ensure_event_queue(
        storage.client,
        make_sqs_client(settings),
        storage.bucket,
        settings.inlet_events_queue,
        max_receives=receives,
        visibility_timeout=visibility,
    )


def queue_depth(settings: Settings, url: str) -> int:
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    found = make_sqs_client(settings).get_queue_attributes(QueueUrl=url, AttributeNames=names)
    return sum(int(found["Attributes"][name]) for name in names)


def counts(db: Database) -> tuple[int, int]:
    with db.session() as session:
        return (
            session.scalar(select(func.count()).select_from(Run)) or 0,
            session.scalar(select(func.count()).select_from(File)) or 0,
        )


# --- the pump dies while hashing --------------------------------------------------------------

LARGE = 256 * MiB


@pytest.fixture
def fault_settings(event_settings: Settings) -> Settings:
    return Settings.model_validate(
        event_settings.model_dump()
        | {
            "inlet_events_queue": f"inlet-faults-{uuid.uuid4().hex[:8]}",
            "inlet_multipart_threshold": 5 * GiB,  # one PUT, however large
        }
    )


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_pump_killed_while_hashing_loses_nothing(
    db: Database, fault_settings: Settings, event_storage: Storage, tmp_path: Path
) -> None:
    queue = events_queue(fault_settings, event_storage, visibility=3, receives=5)
    data = bytes(range(256)) * (LARGE // 256)
    request = CreateUploadRequest(
        type="app_bundle", files=[FileSpec(name="big.bin", size=LARGE, sha256=sha256(data))]
    )
    created = Uploads(db, event_storage, fault_settings).create(request, owner=None)
    run_id, key = created.run.id, created.files[0].key
    event_storage.client.put_object(Bucket=EVENTS_BUCKET, Key=key, Body=data)
    del data

    env = stack_env(fault_settings, POWERTOOLS_LOG_LEVEL="DEBUG")
    log = tmp_path / "pump.log"
    with pump_process(env, log) as first:
        # Hashing 256 MiB takes about half a second here: look often, kill at once.
        wait_until(lambda: "hashing object" in log.read_text(), 60, "hashing", every=0.01)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
    assert first.returncode == -signal.SIGKILL
    with db.session() as session:
        assert session.get(Run, run_id).status == "pending"  # killed mid-hash: nothing recorded

    # SQS hands the message to the next pump once its visibility timeout (3 s) has passed.
    with pump_process(env, log):
        wait_until(lambda: run_status(db, run_id) == "stored", 90, "the run being stored")
        wait_until(lambda: queue_depth(fault_settings, queue.url) == 0, 30, "the queue draining")
    with db.session() as session:
        file = session.scalar(select(File).where(File.run_id == run_id))
        assert file is not None
        assert (file.status, file.sha256, file.stored_size) == (
            "stored",
            request.files[0].sha256,
            LARGE,
        )
    assert counts(db) == (1, 1)
    assert queue_depth(fault_settings, queue.dead_letter_url) == 0
    assert log.read_text().count("hashing object") == 2


def run_status(db: Database, run_id: uuid.UUID) -> str | None:
    with db.session() as session:
        run = session.get(Run, run_id)
        return None if run is None else run.status


# --- Postgres restarts during a burst ---------------------------------------------------------


@dataclass
class Cluster:
    """A throwaway Postgres cluster, run as the postgres user (pg_ctl refuses root)."""

    directory: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def pg(self, *args: str) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", *args],
            check=True,
            capture_output=True,
            timeout=120,
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = self.directory / "server.log"
        self.pg(
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(log),
            "-w",
            "start",
        )

    def stop(self) -> None:
        self.pg(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    @property
    def data(self) -> Path:
        return self.directory / "data"


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    if os.geteuid() != 0 or not (PG_BIN / "initdb").exists() or not shutil.which("runuser"):
        pytest.skip("needs root, runuser and PostgreSQL 15's binaries to run a throwaway cluster")
    # Not under pytest's tmp_path: its parent is private to root, and the server runs as postgres.
    directory = Path(tempfile.mkdtemp(prefix="inlet-pg-"))
    shutil.chown(directory, "postgres", "postgres")
    found = Cluster(directory, free_port())
    found.pg(
        str(PG_BIN / "initdb"), "-D", str(found.data), "-A", "trust", "-U", "postgres", "--no-sync"
    )
    found.start()
    try:
        yield found
    finally:
        try:
            found.stop()
        finally:
            shutil.rmtree(directory, ignore_errors=True)


@dataclass
class Burst:
    """What the clients saw: runs acknowledged (201), and every answer that was not a 201."""

    acknowledged: dict[str, bytes] = field(default_factory=dict)
    refusals: list[tuple[int, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def client(base: str, token: str, uploads_each: int, burst: Burst) -> None:
    """Creates runs one after the other, retrying on 503 as the CLI does, and uploads each."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    for _ in range(uploads_each):
        data = os.urandom(2048)
        body = {
            "type": "app_bundle",
            "files": [{"name": "part.bin", "size": len(data), "sha256": sha256(data)}],
        }
        while True:
            response = session.post(f"{base}/v1/uploads", json=body, timeout=30)
            if response.status_code == 201:
                break
            with burst.lock:
                burst.refusals.append((response.status_code, response.json()))
            time.sleep(0.2)
        created = response.json()
        upload = created["files"][0]["upload"]
        put = requests.put(upload["url"], data=data, headers=upload["headers"], timeout=30)
        put.raise_for_status()
        with burst.lock:
            burst.acknowledged[created["run"]["id"]] = data


def test_postgres_restarting_during_a_burst_loses_nothing(
    cluster: Cluster, s3_endpoint: str, tmp_path: Path
) -> None:
    migrate(cluster.url)
    db = Database.from_url(cluster.url)
    token = tokens.create_token(db, "burst")[1]
    settings = Settings(
        database_url=cluster.url,
        s3_endpoint_url=s3_endpoint,
        inlet_bucket="inlet-restart",
        inlet_events_queue=f"inlet-restart-{uuid.uuid4().hex[:8]}",
    )
    storage = Storage(make_s3_client(settings), settings.inlet_bucket, settings.inlet_presign_ttl)
    ensure_upload_bucket(storage.client, storage.bucket, [])
    # Failed deliveries come back after a second; none gives up during the outage.
    queue = events_queue(settings, storage, visibility=1, receives=100)
    env = stack_env(settings, INLET_AUTH="required", POWERTOOLS_LOG_LEVEL="CRITICAL")
    port = str(free_port())
    base = f"http://127.0.0.1:{port}"
    burst = Burst()
    with api_process(env, port) as api, pump_process(env, tmp_path / "pump.log"):
        wait_until_ok(f"{base}/health", 60, api)
        threads = [threading.Thread(target=client, args=(base, token, 25, burst)) for _ in range(8)]
        for thread in threads:
            thread.start()
        wait_until(lambda: len(burst.acknowledged) >= 40, 60, "the burst getting going")
        cluster.stop()
        wait_until(lambda: len(burst.refusals) >= 5, 30, "the API noticing the outage")
        health = requests.get(f"{base}/health", timeout=30)
        cluster.start()
        for thread in threads:
            thread.join(timeout=120)
        assert len(burst.acknowledged) == 200

        def all_stored() -> bool:
            with db.session() as session:
                rows = session.execute(select(Run.id, Run.status)).all()
            return {str(i) for i, s in rows if s == "stored"} >= set(burst.acknowledged)

        wait_until(all_stored, 120, "every acknowledged run being stored")

    # During the outage: 503 in the contract's shape, never anything else.
    assert health.status_code == 503
    assert health.json()["checks"]["db"].startswith("error:")
    assert {status for status, _ in burst.refusals} == {503}
    for _, body in burst.refusals:
        assert body["error"]["code"] == "unavailable"
        assert set(body["error"]) == {"code", "message", "details"}
    # After it: every acknowledged run stored with its bytes' sha256, and nothing extra.
    with db.session() as session:
        files = {str(f.run_id): f for f in session.scalars(select(File))}
    assert set(files) == set(burst.acknowledged)
    for run_id, data in burst.acknowledged.items():
        assert (files[run_id].status, files[run_id].sha256) == ("stored", sha256(data))
    assert counts(db) == (200, 200)
    assert queue_depth(settings, queue.dead_letter_url) == 0
    db.engine.dispose()
    with psycopg.connect(cluster.url, autocommit=True) as conn:  # the cluster is fine after all
        assert conn.execute("SELECT count(*) FROM ingestion_runs").fetchone() == (200,)


# --- the object store goes away ---------------------------------------------------------------


def test_without_the_object_store_health_is_503_and_errors_are_json(
    database_url: str, migrated_db: Database, db: Database
) -> None:
    moto = ExitStack()
    endpoint = moto.enter_context(moto_server())
    moto_port = endpoint.rsplit(":", 1)[1]
    settings = Settings(
        database_url=database_url,
        s3_endpoint_url=endpoint,
        inlet_bucket="inlet-vanishing",
    )
    ensure_upload_bucket(make_s3_client(settings), settings.inlet_bucket, [])
    env = stack_env(settings, POWERTOOLS_LOG_LEVEL="CRITICAL")
    port = str(free_port())
    base = f"http://127.0.0.1:{port}"
    # Above the default multipart threshold (16 MiB): creating it needs the bucket.
    big = {"type": "app_bundle", "files": [{"name": "big.bin", "size": 20 * MiB}]}
    try:
        with api_process(env, port) as api:
            wait_until_ok(f"{base}/health", 60, api)
            created = requests.post(f"{base}/v1/uploads", json=big, timeout=30).json()
            run_id, file_id = created["run"]["id"], created["files"][0]["id"]
            moto.close()

            health = requests.get(f"{base}/health", timeout=60)
            assert health.status_code == 503
            assert health.json() == {
                "status": "error",
                "checks": {"db": "ok", "storage": health.json()["checks"]["storage"]},
            }
            assert health.json()["checks"]["storage"].startswith("error: bucket unreachable")
            assert str(moto_port) not in health.text

            parts = f"{base}/v1/uploads/{run_id}/files/{file_id}"
            failing = [
                requests.post(f"{base}/v1/uploads", json=big, timeout=60),
                requests.get(f"{parts}/parts", timeout=60),
                requests.post(
                    f"{parts}/complete",
                    json={
                        "parts": [
                            {"part_number": 1, "etag": '"a"'},
                            {"part_number": 2, "etag": '"b"'},
                        ]
                    },
                    timeout=60,
                ),
                requests.delete(f"{base}/v1/uploads/{run_id}", timeout=60),
            ]
            for response in failing:
                assert response.status_code == 503, response.text
                assert response.headers["Content-Type"] == "application/json"
                assert response.json()["error"]["code"] == "unavailable"
                assert str(moto_port) not in response.text
            # What needs only the database still works; the failed cancel changed nothing.
            run = requests.get(f"{base}/v1/runs/{run_id}", timeout=30)
            assert (run.status_code, run.json()["status"]) == (200, "pending")
            assert requests.get(f"{base}/v1/runs", timeout=30).status_code == 200
    finally:
        moto.close()
