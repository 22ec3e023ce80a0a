"""`make bench-keepalive`: `GET /v1/runs/{id}` on the local API (`chalice local` through
local/api_server.py, as `make dev` runs it) over one kept-alive connection against a fresh
connection per request, same server, same run. Not a test.

A moto server and the API run in child processes over a temporary SQLite file (or
`--database-url`, a migrated Postgres database). One run with one file is created; then each
round times `--requests` GETs on a new connection each (the baseline) and as many on one
`requests.Session`, in turns (so both meet the same load on a shared machine). Prints the
median and p99 of each, and their ratio (the goal: kept-alive no slower than fresh). The
server's access log goes to stderr.

    .venv/bin/python bench/bench_keepalive.py [--requests 200] [--rounds 3] [--database-url URL]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
for _name, _value in {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
    "INLET_AUTH": "off",
    "INLET_QUOTA_RUNS_PER_MINUTE": "0",
}.items():
    os.environ.setdefault(_name, _value)

import requests  # noqa: E402

from chalicelib.config import Settings  # noqa: E402
from chalicelib.storage import make_s3_client  # noqa: E402
from local.processes import moto_server  # noqa: E402
from local.resources import ensure_upload_bucket  # noqa: E402
from tests.support.api import api_server  # noqa: E402
from tests.support.config import BUCKET, CORS_ORIGIN  # noqa: E402
from tests.support.databases import migrate  # noqa: E402


def timed(get: Callable[[], requests.Response]) -> float:
    """Milliseconds of one call (which must answer 200)."""
    start = time.perf_counter()
    response = get()
    elapsed = (time.perf_counter() - start) * 1000
    assert response.status_code == 200, response.text
    return elapsed


def p99(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=100)[98]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="per way and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url", help="a Postgres URL (default: a temporary SQLite file)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, moto_server() as s3:
        database_url = args.database_url or f"sqlite:///{tmp}/bench.db"
        migrate(database_url)
        ensure_upload_bucket(make_s3_client(Settings(s3_endpoint_url=s3)), BUCKET, [CORS_ORIGIN])
        with api_server(database_url, s3) as base:
            body = {"type": "app_bundle", "files": [{"name": "a.bin", "size": 10}]}
            run_id = requests.post(f"{base}/v1/uploads", json=body, timeout=10).json()["run"]["id"]
            url = f"{base}/v1/runs/{run_id}"
            fresh: list[float] = []
            kept: list[float] = []
            for _ in range(args.rounds):
                with requests.Session() as session:
                    session.get(url, timeout=10)  # the connection, opened before timing
                    for _ in range(args.requests):  # in turns: both meet the same load
                        fresh.append(timed(partial(requests.get, url, timeout=10)))
                        kept.append(timed(partial(session.get, url, timeout=10)))

    print(f"GET /v1/runs/{{id}}, {args.rounds} x {args.requests} requests per way, loopback")
    print(f"{'connection':<22}{'median ms':>10}{'p99 ms':>10}")
    for name, samples in (("fresh (baseline)", fresh), ("kept alive", kept)):
        print(f"{name:<22}{statistics.median(samples):>10.2f}{p99(samples):>10.2f}")
    ratio = statistics.median(kept) / statistics.median(fresh)
    print(f"kept alive / fresh (median): {ratio:.2f} (goal: <= 1.0)")


if __name__ == "__main__":
    main()
