"""`make bench-load`: many clients at once against the local stack, on loopback only.

Starts its own stack on free ports: a moto server (S3 and SQS) in a process of its own, the
database (a SQLite file, or --database-url), migrations, `chalice local` with INLET_AUTH=required,
and the queue pump (`python -m local.pump`). Then --clients clients start together (spread over
--ramp seconds); each creates --runs runs of --files small files (POST /v1/uploads with its
token), PUTs every file to its presigned URL, and reads each run back (GET /v1/runs/{id}).
Defaults: 200 clients, 400 runs, 2,000 uploads. Reports p50, p99 and max latency per operation
and the error count (any answer but the expected one, or no answer), then waits for every run to
be `stored` (the pump verifying every object) and reports how long that took. Everything is
bounded: each request by --timeout, the load by --deadline, the wait for `stored` by --settle;
the stack is stopped at the end. Exit status 0 only with no error and every run stored.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import requests
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from chalicelib import tokens  # noqa: E402
from chalicelib.config import Settings  # noqa: E402
from chalicelib.db import Database  # noqa: E402
from chalicelib.migrate import upgrade_url  # noqa: E402
from chalicelib.models import File, Run  # noqa: E402
from local.init import init_resources  # noqa: E402
from local.processes import HOST, free_port, moto_server, wait_until_ok  # noqa: E402
from local.stack import api_process  # noqa: E402
from tests.support.queues import pump_process  # noqa: E402

OPERATIONS = ("create run", "upload file", "read run")


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    created: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, operation: str, started: float, error: str | None = None) -> None:
        elapsed = time.perf_counter() - started
        with self.lock:
            self.latencies[operation].append(elapsed)
            if error:
                self.errors.append(f"{operation}: {error}")


def client(
    index: int,
    base: str,
    token: str,
    args: argparse.Namespace,
    start: threading.Barrier,
    deadline: float,
    results: Results,
) -> None:
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {token}"
    bucket = requests.Session()  # presigned URLs carry their own authorization
    start.wait()
    time.sleep(args.ramp * index / args.clients)
    for _ in range(args.runs):
        if time.monotonic() > deadline:
            results.errors.append(f"client {index}: stopped at the deadline")
            return
        payloads = [os.urandom(args.file_size) for _ in range(args.files)]
        body = {
            "type": "app_bundle",
            "label": f"load client {index}",
            "files": [
                {"name": f"f{n}.bin", "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
                for n, data in enumerate(payloads)
            ],
        }
        started = time.perf_counter()
        try:
            created = api.post(f"{base}/v1/uploads", json=body, timeout=args.timeout)
        except requests.RequestException as exc:
            results.record("create run", started, repr(exc))
            continue
        if created.status_code != 201:
            results.record("create run", started, f"{created.status_code} {created.text[:200]}")
            continue
        results.record("create run", started)
        with results.lock:
            results.created += 1
        run = created.json()
        for file, data in zip(run["files"], payloads, strict=True):
            upload = file["upload"]
            started = time.perf_counter()
            try:
                put = bucket.put(
                    upload["url"], data=data, headers=upload["headers"], timeout=args.timeout
                )
                error = None if put.status_code == 200 else f"{put.status_code} {put.text[:200]}"
            except requests.RequestException as exc:
                error = repr(exc)
            results.record("upload file", started, error)
        started = time.perf_counter()
        try:
            read = api.get(f"{base}/v1/runs/{run['run']['id']}", timeout=args.timeout)
            error = None if read.status_code == 200 else f"{read.status_code} {read.text[:200]}"
        except requests.RequestException as exc:
            error = repr(exc)
        results.record("read run", started, error)


def run_load(base: str, token: str, args: argparse.Namespace) -> tuple[Results, float]:
    results = Results()
    start = threading.Barrier(args.clients + 1)
    deadline = time.monotonic() + args.deadline
    threads = [
        threading.Thread(
            target=client, args=(i, base, token, args, start, deadline, results), daemon=True
        )
        for i in range(args.clients)
    ]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()) + args.timeout)
    if any(thread.is_alive() for thread in threads):
        results.errors.append("some clients were still running after the deadline")
    return results, time.perf_counter() - began


def stored_counts(db: Database) -> tuple[int, int, int]:
    """Runs stored, files stored, runs that failed."""
    with db.session() as session:
        runs = session.scalar(select(func.count()).where(Run.status == "stored")) or 0
        files = session.scalar(select(func.count()).where(File.status == "stored")) or 0
        failed = session.scalar(select(func.count()).where(Run.status == "failed")) or 0
    return runs, files, failed


def wait_stored(db: Database, runs: int, seconds: float) -> float | None:
    """Seconds until `runs` runs are stored (from now), or None after `seconds`."""
    began = time.perf_counter()
    while time.perf_counter() - began < seconds:
        stored, _, failed = stored_counts(db)
        if stored + failed >= runs:
            return time.perf_counter() - began
        time.sleep(0.5)
    return None


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}"


def report(results: Results, elapsed: float, args: argparse.Namespace) -> list[str]:
    lines = [
        f"{args.clients} clients, {args.clients * args.runs} runs, "
        f"{args.clients * args.runs * args.files} uploads of {args.file_size} bytes, "
        f"in {elapsed:.1f} s",
        "",
        "| operation | requests | p50 ms | p99 ms | max ms | errors |",
        "|---|---|---|---|---|---|",
    ]
    for operation in OPERATIONS:
        found = sorted(results.latencies.get(operation, []))
        errors = sum(e.startswith(operation) for e in results.errors)
        if len(found) < 2:
            lines.append(f"| {operation} | {len(found)} | - | - | - | {errors} |")
            continue
        cuts = statistics.quantiles(found, n=100, method="inclusive")
        lines.append(
            f"| {operation} | {len(found)} | {ms(cuts[49])} | {ms(cuts[98])} | "
            f"{ms(found[-1])} | {errors} |"
        )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--runs", type=int, default=2, help="runs per client")
    parser.add_argument("--files", type=int, default=5, help="files per run")
    parser.add_argument("--file-size", type=int, default=4096, help="bytes per file")
    parser.add_argument("--ramp", type=float, default=1.0, help="seconds to start every client")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per request")
    parser.add_argument("--deadline", type=float, default=300.0, help="seconds for the load")
    parser.add_argument("--settle", type=float, default=300.0, help="seconds to wait for stored")
    parser.add_argument("--database-url", help="default: a fresh SQLite file (as make dev)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="inlet-load-") as tmp, ExitStack() as stack:
        work = Path(tmp)
        s3 = stack.enter_context(moto_server(work / "moto.log"))
        env = os.environ | {
            "AWS_ACCESS_KEY_ID": "inlet-load",
            "AWS_SECRET_ACCESS_KEY": "inlet-load",
            "AWS_DEFAULT_REGION": "us-east-1",
            "DATABASE_URL": args.database_url or f"sqlite:///{work / 'inlet.db'}",
            "S3_ENDPOINT_URL": s3,
            "INLET_AUTH": "required",
            # It measures throughput: no per-owner quota may refuse its clients.
            "INLET_QUOTA_PENDING_RUNS": "0",
            "INLET_QUOTA_PENDING_BYTES": "0",
            "INLET_QUOTA_RUNS_PER_MINUTE": "0",
            "INLET_HASH_RANGE_SIZE": "0",  # moto reads a whole object per ranged GET
            "POWERTOOLS_LOG_LEVEL": "WARNING",
        }
        os.environ.update(env)  # boto3 in this process (init) reads the same credentials
        settings = Settings.from_env(env)
        init_resources(settings)
        upgrade_url(settings.database_url)
        db = Database.from_url(settings.database_url)
        stack.callback(db.engine.dispose)
        before = stored_counts(db)
        token = tokens.create_token(db, f"load-{os.getpid()}-{time.time_ns()}")[1]
        port = str(free_port())
        base = f"http://{HOST}:{port}"
        api_log = stack.enter_context((work / "api.log").open("wb"))
        api = stack.enter_context(api_process(env, port, api_log))
        wait_until_ok(f"{base}/health", 60, api)
        stack.enter_context(pump_process(env, work / "pump.log"))

        print(f"Load: {base} (database {settings.database_url}, bucket on {s3})", flush=True)
        results, elapsed = run_load(base, token, args)
        expected = args.clients * args.runs
        settled = wait_stored(db, before[0] + before[2] + results.created, args.settle)
        runs, files, failed = (
            now - then for now, then in zip(stored_counts(db), before, strict=True)
        )

    lines = report(results, elapsed, args)
    lines.append("")
    lines.append(
        f"stored: {runs} of {expected} runs, {files} files, {failed} failed; "
        + (f"all final {settled:.1f} s after the load" if settled is not None else "NOT all final")
    )
    lines.append(f"errors: {len(results.errors)}")
    lines.extend(f"  {error}" for error in results.errors[:20])
    print("\n".join(lines), flush=True)
    print(json.dumps({"errors": len(results.errors), "stored_runs": runs, "failed_runs": failed}))
    return 0 if not results.errors and runs == expected and failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
