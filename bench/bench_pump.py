"""`make bench-pump`: bucket events, one at a time and in bulk through the local pump. Not a test.

A moto server runs in a child process, as in `make dev`; the database is a fresh SQLite file or a
fresh Postgres database (`--database`).

1. **One event, in this process**: what `BucketEvents.process` costs for an `inbox/` drop, a
   `runs/` upload and a duplicate delivery: SQL statements and transactions (SQLAlchemy engine
   events), S3 calls (botocore's `before-call` hook) and milliseconds (median of `--rounds`).
2. **The pump, end to end**: `--objects` small objects PUT into `inbox/` by 4 client threads;
   time from the first PUT to the last run `stored`, with `python -m local.pump` processes
   reading the queue. Baseline in the same run: one receiver, one record at a time.

    .venv/bin/python bench/bench_pump.py [--database sqlite|postgres] [--objects 500]
        [--receivers 4] [--concurrency 10] [--rounds 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import event, func, select  # noqa: E402

from chalicelib.config import Settings  # noqa: E402
from chalicelib.db import Database  # noqa: E402
from chalicelib.events import BucketEvents  # noqa: E402
from chalicelib.logs import logger  # noqa: E402
from chalicelib.migrate import upgrade_url  # noqa: E402
from chalicelib.models import File, Run, RunStatus  # noqa: E402
from chalicelib.sqs import ObjectEvent  # noqa: E402
from chalicelib.storage import Storage, make_s3_client  # noqa: E402
from local.init import init_resources  # noqa: E402
from local.processes import moto_server, process_group  # noqa: E402
from local.resources import make_sqs_client  # noqa: E402
from tests.support.databases import postgres_database  # noqa: E402
from tests.support.events import create, put  # noqa: E402

BUCKET = "bench-pump"
PUT_CLIENTS = 4
STORED_WITHIN = 600.0  # seconds: a pump that stalls fails the benchmark, never hangs it


def stack_environment(endpoint: str, database_url: str) -> dict[str, str]:
    """`make dev`'s settings on this moto server and database; no inbox rate (it would defer
    most of the drops) and no metrics output."""
    return {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "S3_ENDPOINT_URL": endpoint,
        "INLET_BUCKET": BUCKET,
        "DATABASE_URL": database_url,
        "INLET_HASH_RANGE_SIZE": "0",
        "INLET_QUOTA_INBOX_PER_MINUTE": "0",
        "INLET_AUTH": "off",
        "POWERTOOLS_SERVICE_NAME": "inlet",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        "POWERTOOLS_METRICS_DISABLED": "true",
    }


# --- 1. one event, counted ----------------------------------------------------------------------


@dataclass
class Cost:
    statements: int = 0
    transactions: int = 0
    s3_calls: Counter[str] | None = None
    seconds: float = 0.0


@contextmanager
def counting(db: Database, storage: Storage) -> Iterator[Cost]:
    """Count what the block sends: SQL statements and transactions, S3 calls by operation."""
    cost = Cost(s3_calls=Counter())

    def statement(*_: Any) -> None:
        cost.statements += 1

    def transaction(*_: Any) -> None:
        cost.transactions += 1

    def s3_call(model: Any, **_: Any) -> None:
        assert cost.s3_calls is not None
        cost.s3_calls[model.name] += 1

    event.listen(db.engine, "before_cursor_execute", statement)
    event.listen(db.engine, "begin", transaction)
    storage.client.meta.events.register("before-call.s3", s3_call)
    started = time.perf_counter()
    try:
        yield cost
    finally:
        cost.seconds = time.perf_counter() - started
        storage.client.meta.events.unregister("before-call.s3", s3_call)
        event.remove(db.engine, "begin", transaction)
        event.remove(db.engine, "before_cursor_execute", statement)


def one_event_costs(settings: Settings, rounds: int) -> None:
    logger.setLevel("WARNING")  # the table, not a log line per event
    db = Database.from_url(settings.database_url)
    storage = Storage(make_s3_client(settings), settings.inlet_bucket, settings.inlet_presign_ttl)
    events = BucketEvents(db, storage, settings)

    def inbox_drop() -> ObjectEvent:
        return put(storage, f"inbox/one-event/{uuid.uuid4()}.txt", b"a small drop")

    def run_upload() -> ObjectEvent:
        data = b"a small upload"
        key = create(db, storage, settings, data).files[0].key
        return put(storage, key, data)

    cases: list[tuple[str, Callable[[], ObjectEvent], bool]] = [
        ("`inbox/` drop (event names its version, as S3's do)", inbox_drop, False),
        ("`runs/` upload", run_upload, False),
        ("duplicate delivery of an `inbox/` drop", inbox_drop, True),
    ]
    print("| event | SQL statements | transactions | S3 calls | ms (median) |")
    print("|---|---|---|---|---|")
    for name, make, twice in cases:
        costs = []
        for _ in range(rounds):
            bucket_event = make()
            if twice:
                events.process(bucket_event)
            with counting(db, storage) as cost:
                events.process(bucket_event)
            costs.append(cost)
        last = costs[-1]
        assert last.s3_calls is not None
        calls = ", ".join(f"{n} {op}" for op, n in sorted(last.s3_calls.items()))
        print(
            f"| {name} | {last.statements} | {last.transactions} "
            f"| {sum(last.s3_calls.values())} ({calls}) "
            f"| {statistics.median(c.seconds for c in costs) * 1000:.1f} |",
            flush=True,
        )


# --- 2. the pump, end to end ----------------------------------------------------------------------


def stored_count(db: Database, prefix: str) -> int:
    with db.session() as session:
        query = (
            select(func.count())
            .select_from(Run)
            .join(File, File.run_id == Run.id)
            .where(File.object_key.startswith(prefix), Run.status == RunStatus.STORED.value)
        )
        return int(session.scalar(query) or 0)


def drop_objects(storage: Storage, prefix: str, count: int) -> None:
    def drop(index: int) -> None:
        storage.client.put_object(
            Bucket=storage.bucket, Key=f"{prefix}{index:05d}.txt", Body=f"object {index}".encode()
        )

    with ThreadPoolExecutor(PUT_CLIENTS) as clients:
        list(clients.map(drop, range(count)))


@dataclass(frozen=True)
class Throughput:
    stored_per_s: float  # from the first PUT to the last run stored
    put_per_s: float  # the PUTs alone: how fast objects arrived (a bound on the above)
    stored_during_puts: int
    drained_per_s: float  # a backlog of as many events, queued before the pump started


def wait_stored(db: Database, prefix: str, objects: int, pump: Any, log: Path) -> None:
    deadline = time.perf_counter() + STORED_WITHIN
    while stored_count(db, prefix) < objects:
        if time.perf_counter() > deadline or pump.poll() is not None:
            raise SystemExit(f"only {stored_count(db, prefix)} of {objects} stored; see {log}")
        time.sleep(0.05)


def drain_rate(db: Database, prefix: str, objects: int, pump: Any, log: Path) -> float:
    """Objects stored per second from the pump's first stored run to its last, the events
    waiting in the queue already: the pump's own throughput, with no PUT to wait for."""
    while (first := stored_count(db, prefix)) == 0:
        if pump.poll() is not None:
            raise SystemExit(f"the pump exited; see {log}")
        time.sleep(0.01)
    started = time.perf_counter()
    wait_stored(db, prefix, objects, pump, log)
    return (objects - first) / (time.perf_counter() - started)


def pump_throughput(
    env: dict[str, str], db: Database, storage: Storage, objects: int, receivers: int, each: int
) -> Throughput:
    """`objects` drops through a pump with `receivers` receivers processing `each` records of
    a batch at once."""
    prefix = f"inbox/bench-{receivers}x{each}-{uuid.uuid4().hex[:6]}/"
    command = [sys.executable, "-m", "local.pump", "--wait-seconds", "1"]
    command += ["--receivers", str(receivers)]
    pump_env = os.environ | env | {"INLET_EVENT_CONCURRENCY": str(each)}
    log = Path(tempfile.gettempdir()) / "inlet-bench-pump.log"
    with process_group(command, log, cwd=ROOT, env=pump_env) as pump:
        time.sleep(3)  # the pump imports the app and finds the queue
        if pump.poll() is not None:
            raise SystemExit(f"the pump exited; see {log}")
        started = time.perf_counter()
        drop_objects(storage, prefix, objects)
        put_seconds = time.perf_counter() - started
        during_puts = stored_count(db, prefix)
        wait_stored(db, prefix, objects, pump, log)
        seconds = time.perf_counter() - started
    backlog = f"{prefix}backlog/"
    drop_objects(storage, backlog, objects)
    with process_group(command, log, cwd=ROOT, env=pump_env) as pump:
        drained = drain_rate(db, backlog, objects, pump, log)
    return Throughput(objects / seconds, objects / put_seconds, during_puts, drained)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--objects", type=int, default=500)
    parser.add_argument("--receivers", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=10, help="make dev's")
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()

    with ExitStack() as stack:
        endpoint = stack.enter_context(moto_server())
        if args.database == "postgres":
            databases = postgres_database()
            database_url = next(databases)
            stack.callback(lambda: next(databases, None))
        else:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            database_url = f"sqlite:///{workdir / 'inlet.db'}"
        env = stack_environment(endpoint, database_url)
        os.environ.update(env)
        settings = Settings.from_env()
        upgrade_url(database_url)
        init_resources(settings)
        print(f"moto (own process), {args.database}; {os.cpu_count()} cores\n")

        print(f"One event, in process ({args.rounds} rounds)\n")
        one_event_costs(settings, args.rounds)
        queue = init_resources(settings).queue
        assert queue is not None
        make_sqs_client(settings).purge_queue(QueueUrl=queue.url)  # the events of part 1

        if not args.objects:
            return
        db = Database.from_url(database_url)
        storage = Storage(make_s3_client(settings), BUCKET, settings.inlet_presign_ttl)
        print(f"\nThe pump, end to end: {args.objects} objects PUT into inbox/ by {PUT_CLIENTS}")
        print("clients, from the first PUT to the last run stored\n")
        print("and, second, a backlog of as many events drained by a pump started after the PUTs\n")
        print(
            "| pump | stored objects/s | x baseline | PUTs/s (arrival) | stored while PUTting "
            "| backlog drained objects/s | x baseline |"
        )
        print("|---|---|---|---|---|---|---|")
        setups = [(1, 1, "1 receiver, 1 record at a time (baseline)")]
        setups.append(
            (
                args.receivers,
                args.concurrency,
                f"{args.receivers} receivers, {args.concurrency} records at a time",
            )
        )
        base = drained_base = 0.0
        for receivers, each, name in setups:
            found = pump_throughput(env, db, storage, args.objects, receivers, each)
            base = base or found.stored_per_s
            drained_base = drained_base or found.drained_per_s
            print(
                f"| {name} | {found.stored_per_s:.1f} | {found.stored_per_s / base:.2f} "
                f"| {found.put_per_s:.1f} | {found.stored_during_puts} "
                f"| {found.drained_per_s:.1f} | {found.drained_per_s / drained_base:.2f} |",
                flush=True,
            )
        db.engine.dispose()


if __name__ == "__main__":
    main()
