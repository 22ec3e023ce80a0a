"""Faults, each against real processes: the queue pump SIGKILLed while hashing a large object,
Postgres restarted during a burst of uploads (a throwaway cluster of this test's own, never the
machine's shared server), and the object store gone. Each fault is made to happen at a chosen
moment, whatever the machine's speed: the tests wait for conditions, never for a time."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

import psycopg
import pytest
import requests
from sqlalchemy import select

from chalicelib import tokens
from chalicelib.config import GiB, MiB, Settings
from chalicelib.db import Database
from chalicelib.models import File, Run
from chalicelib.schemas import CreateUploadRequest, FileSpec
from chalicelib.storage import Storage, make_s3_client
from chalicelib.uploads import Uploads
from local.processes import HOST, free_port, moto_server, wait_until_ok
from local.resources import EventQueue, ensure_event_queue, ensure_upload_bucket, make_sqs_client
from local.stack import api_process
from tests.support.config import EVENTS_BUCKET
from tests.support.databases import migrate
from tests.support.events import row_counts, sha256, wait_until
from tests.support.queues import pump_process, queue_depth

pytestmark = [pytest.mark.http, pytest.mark.slow]


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


def run_status(db: Database, run_id: uuid.UUID) -> str | None:
    with db.session() as session:
        run = session.get(Run, run_id)
        return None if run is None else run.status


# --- the pump dies while hashing --------------------------------------------------------------


class StallingProxy:
    """A TCP proxy in front of the object store that passes at most `limit` bytes of answers on
    any one connection, then holds that connection until closed. A pump that reads a larger
    object through it is stuck mid-object for as long as the test wants, however fast it hashes.
    (Small answers, SQS's among them, pass: only a large object's body reaches the limit.)"""

    def __init__(self, upstream: str, limit: int) -> None:
        parts = urlsplit(upstream)
        if parts.scheme != "http" or parts.hostname is None or parts.port is None:
            raise ValueError(f"not a plain http://host:port endpoint: {upstream}")
        self.upstream = (parts.hostname, parts.port)
        self.limit = limit
        self.stalled = threading.Event()  # some connection has reached the limit and is held
        self.closed = threading.Event()
        self.listener = socket.create_server((HOST, 0))
        self.listener.settimeout(0.2)  # accept() notices `closed` within this
        self.url = f"http://{HOST}:{self.listener.getsockname()[1]}"
        self.connections: list[socket.socket] = []
        self.lock = threading.Lock()

    def serve(self) -> None:
        while not self.closed.is_set():
            try:
                downstream, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            downstream.settimeout(None)
            try:
                upstream = socket.create_connection(self.upstream, timeout=30)
            except OSError:
                downstream.close()
                continue
            upstream.settimeout(None)
            with self.lock:
                self.connections += [downstream, upstream]
            for source, sink, limit in (
                (downstream, upstream, None),
                (upstream, downstream, self.limit),
            ):
                threading.Thread(target=self.pipe, args=(source, sink, limit), daemon=True).start()

    def pipe(self, source: socket.socket, sink: socket.socket, limit: int | None) -> None:
        passed = 0
        try:
            while chunk := source.recv(1 << 16):
                if limit is not None and passed + len(chunk) > limit:
                    sink.sendall(chunk[: limit - passed])
                    self.stalled.set()
                    self.closed.wait()
                    return
                sink.sendall(chunk)
                passed += len(chunk)
        except OSError:
            pass  # the other side went away (a killed pump, a closed proxy)
        finally:
            for end in (source, sink):
                with suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.closed.set()
        self.listener.close()
        with self.lock:
            for connection in self.connections:
                with suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)  # wakes the threads reading it
                connection.close()


@contextmanager
def stalling_proxy(upstream: str, limit: int) -> Iterator[StallingProxy]:
    proxy = StallingProxy(upstream, limit)
    thread = threading.Thread(target=proxy.serve, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        proxy.close()
        thread.join(timeout=30)


LARGE = 64 * MiB


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
    # A failed delivery comes back after 3 s; far more receives than a slow machine needs.
    queue = events_queue(fault_settings, event_storage, visibility=3, receives=100)
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
    # The first pump reads the bucket through a proxy that stops after 1 MiB of the object: it
    # is killed mid-hash, with part of the object read, on any machine.
    with (
        stalling_proxy(str(fault_settings.s3_endpoint_url), limit=MiB) as proxy,
        pump_process(env | {"S3_ENDPOINT_URL": proxy.url}, log) as first,
    ):
        wait_until(proxy.stalled.is_set, "the pump reading the object")
        wait_until(lambda: "hashing object" in log.read_text(), "the pump saying it hashes")
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
    assert first.returncode == -signal.SIGKILL
    assert run_status(db, run_id) == "pending"  # killed mid-hash: nothing recorded
    assert log.read_text().count("hashing object") == 1

    # SQS hands the message to the next pump once its visibility timeout has passed.
    with pump_process(env, log):
        wait_until(lambda: run_status(db, run_id) == "stored", "the run being stored")
        wait_until(lambda: queue_depth(fault_settings, queue.url) == 0, "the queue draining")
    with db.session() as session:
        file = session.scalar(select(File).where(File.run_id == run_id))
        assert file is not None
        assert (file.status, file.sha256, file.stored_size) == (
            "stored",
            request.files[0].sha256,
            LARGE,
        )
    assert row_counts(db) == (1, 1)
    assert queue_depth(fault_settings, queue.dead_letter_url) == 0
    assert log.read_text().count("hashing object") == 2


# --- Postgres restarts during a burst ---------------------------------------------------------


def unavailable(reason: str) -> NoReturn:
    """Skip where a component is missing; under CI, where it must be there, fail."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must run this test)")
    pytest.skip(reason)


def postgres_bindir() -> Path | None:
    """Where this machine's PostgreSQL server programs are: `pg_config --bindir`, else the
    newest of Debian's /usr/lib/postgresql/*/bin."""
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            found = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, check=True, timeout=30
            )
            candidates.append(Path(found.stdout.strip()))
        except (OSError, subprocess.SubprocessError):
            pass

    def version(bindir: Path) -> tuple[int, ...]:
        return tuple(int(part) for part in bindir.parent.name.split(".") if part.isdigit())

    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=version, reverse=True)
    return next(
        (d for d in candidates if (d / "initdb").is_file() and (d / "pg_ctl").is_file()), None
    )


@dataclass
class Cluster:
    """A throwaway Postgres cluster. Run as the postgres user when we are root (the server
    refuses to run as root), else as ourselves."""

    bindir: Path
    directory: Path
    port: int
    as_postgres: bool

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    @property
    def data(self) -> Path:
        return self.directory / "data"

    def pg(self, program: str, *args: str) -> None:
        command = [str(self.bindir / program), *args]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
        if result.returncode != 0:
            log = self.directory / "server.log"
            server = log.read_text(errors="replace") if log.exists() else ""
            pytest.fail(f"{command} exited {result.returncode}: {result.stderr}\n{server}")

    def init(self) -> None:
        self.pg("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = self.directory / "server.log"
        # -t: how long pg_ctl waits for the server to accept connections (a bound, not a pace).
        self.pg(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(log),
            "-w",
            "-t",
            "300",
            "start",
        )

    def stop(self) -> None:
        self.pg("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "300", "stop")


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    bindir = postgres_bindir()
    if bindir is None:
        unavailable("PostgreSQL's server programs (initdb, pg_ctl) are not installed")
    root = os.geteuid() == 0
    if root:
        if not shutil.which("runuser"):
            unavailable("as root, runuser is needed to run the throwaway cluster as postgres")
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            unavailable("as root, a postgres user is needed to run the throwaway cluster")
    # Not under pytest's tmp_path: as root, its parent is private to root and the server runs
    # as postgres.
    directory = Path(tempfile.mkdtemp(prefix="inlet-pg-"))
    if root:
        shutil.chown(directory, "postgres", "postgres")
    found = Cluster(bindir, directory, free_port(), as_postgres=root)
    try:
        found.init()
        found.start()
        yield found
    finally:
        try:
            if (found.data / "postmaster.pid").exists():
                found.stop()
        finally:
            shutil.rmtree(directory, ignore_errors=True)


@dataclass
class Burst:
    """What the clients saw: runs acknowledged (201), every answer that was not a 201, and
    anything that stopped a client. The clients go on until `stop` is set."""

    acknowledged: dict[str, bytes] = field(default_factory=dict)
    refusals: list[tuple[int, Any]] = field(default_factory=list)
    crashes: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self) -> tuple[int, int]:
        """(acknowledged, refused) so far; fails the test if a client has crashed."""
        with self.lock:
            assert not self.crashes, self.crashes
            return len(self.acknowledged), len(self.refusals)


def client(base: str, token: str, burst: Burst) -> None:
    """Creates runs one after the other until told to stop, retrying on 503 as the CLI does,
    and uploads each."""
    try:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        while not burst.stop.is_set():
            data = os.urandom(2048)
            body = {
                "type": "app_bundle",
                "files": [{"name": "part.bin", "size": len(data), "sha256": sha256(data)}],
            }
            response = session.post(f"{base}/v1/uploads", json=body, timeout=60)
            while response.status_code != 201:
                try:
                    refusal = response.json()
                except ValueError:
                    refusal = response.text
                with burst.lock:
                    burst.refusals.append((response.status_code, refusal))
                if burst.stop.is_set():
                    return  # refused, so nothing was created
                burst.stop.wait(0.2)
                response = session.post(f"{base}/v1/uploads", json=body, timeout=60)
            created = response.json()
            upload = created["files"][0]["upload"]
            put = requests.put(upload["url"], data=data, headers=upload["headers"], timeout=60)
            put.raise_for_status()
            with burst.lock:
                burst.acknowledged[created["run"]["id"]] = data
    except Exception as exc:  # reported by the test, not lost in a thread
        with burst.lock:
            burst.crashes.append(repr(exc))


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
    # Failed deliveries come back after a second; none gives up during the outage (SQS's
    # largest receive count: an outage as long as a slow machine makes it).
    queue = events_queue(settings, storage, visibility=1, receives=1000)
    env = stack_env(settings, INLET_AUTH="required", POWERTOOLS_LOG_LEVEL="CRITICAL")
    port = str(free_port())
    base = f"http://127.0.0.1:{port}"
    burst = Burst()
    threads = [
        threading.Thread(target=client, args=(base, token, burst), daemon=True) for _ in range(8)
    ]
    try:
        with api_process(env, port) as api, pump_process(env, tmp_path / "pump.log"):
            wait_until_ok(f"{base}/health", 120, api)
            for thread in threads:
                thread.start()
            # The clients keep going, so every phase below happens while they are busy.
            wait_until(lambda: burst.count()[0] >= 40, "the burst getting going")
            cluster.stop()
            wait_until(lambda: burst.count()[1] >= 5, "the API noticing the outage")
            health = requests.get(f"{base}/health", timeout=60)
            before_restart = burst.count()[0]
            cluster.start()
            wait_until(lambda: burst.count()[0] >= before_restart + 40, "uploads resuming")
            burst.stop.set()
            for thread in threads:
                thread.join(timeout=120)
            assert not any(thread.is_alive() for thread in threads)
            burst.count()  # no client crashed

            def all_stored() -> bool:
                with db.session() as session:
                    rows = session.execute(select(Run.id, Run.status)).all()
                return {str(i) for i, s in rows if s == "stored"} >= set(burst.acknowledged)

            wait_until(all_stored, "every acknowledged run being stored")
    finally:
        burst.stop.set()

    # During the outage: 503 in the contract's shape, never anything else.
    assert health.status_code == 503
    assert health.json()["checks"]["db"].startswith("error:")
    assert {status for status, _ in burst.refusals} == {503}
    for _, body in burst.refusals:
        assert body["error"]["code"] == "unavailable"
        assert set(body["error"]) == {"code", "message", "details"}
    # After it: every acknowledged run stored with its bytes' sha256, and nothing extra.
    acknowledged = len(burst.acknowledged)
    with db.session() as session:
        files = {str(f.run_id): f for f in session.scalars(select(File))}
    assert set(files) == set(burst.acknowledged)
    for run_id, data in burst.acknowledged.items():
        assert (files[run_id].status, files[run_id].sha256) == ("stored", sha256(data))
    assert row_counts(db) == (acknowledged, acknowledged)
    assert queue_depth(settings, queue.dead_letter_url) == 0
    db.engine.dispose()
    with psycopg.connect(cluster.url, autocommit=True) as conn:  # the cluster is fine after all
        row = conn.execute("SELECT count(*) FROM ingestion_runs").fetchone()
        assert row == (acknowledged,)


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
            wait_until_ok(f"{base}/health", 120, api)
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
