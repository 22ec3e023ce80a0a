"""`POST /v1/uploads` for runs of many multipart files, against the one-file run of the same
run. Not a test.

A moto server runs in a child process; the database is a fresh one on the local Postgres
server. Each case creates the same run `--rounds` times, in turn with the other cases, and
reports the median: through the service (`Uploads.create`, what the route calls) and through
the local HTTP API (`chalice local`, a fresh connection per request). Files are 100 MiB, in
16 MiB parts (7 parts, the defaults); quotas are on (so their checks are paid) with limits far
away. The baseline is the one-file multipart run: a run of 20 files should cost at most 3x it.
The floor of a run is its CreateMultipartUpload calls made by a bare boto3 client, 8 at a time,
timed in the same rounds: on moto, the server's CPU bounds them (on S3, the round trips).

    .venv/bin/python bench/bench_create.py [--rounds 9] [--files 1 20 200] [--no-http]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
for _name, _value in {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
    "INLET_AUTH": "off",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
}.items():
    os.environ.setdefault(_name, _value)

from chalicelib.config import MiB, Settings  # noqa: E402
from chalicelib.db import Database  # noqa: E402
from chalicelib.schemas import CreateUploadRequest, FileSpec  # noqa: E402
from chalicelib.storage import Storage, make_s3_client  # noqa: E402
from chalicelib.uploads import BUCKET_CONCURRENCY, Uploads  # noqa: E402
from local.processes import moto_server  # noqa: E402
from local.resources import ensure_upload_bucket  # noqa: E402
from tests.support.api import api_server  # noqa: E402
from tests.support.config import BUCKET, CORS_ORIGIN  # noqa: E402
from tests.support.databases import migrate, postgres_database  # noqa: E402

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

FILE_SIZE = 100 * MiB
SMALL = "1 small file"
FLOOR = "floor {}"
FAR = 10**12  # quota limits that are checked but never reached
# What the HTTP leg's server runs with, beyond tests.support.api.api_server's: the defaults'
# parts, far limits, and room for 200 files in a run.
SETTINGS = {
    "inlet_part_size": 16 * MiB,
    "inlet_multipart_threshold": 16 * MiB,
    "inlet_max_files_per_run": 10_000,
    "inlet_quota_pending_runs": FAR,
    "inlet_quota_pending_bytes": FAR,
    "inlet_quota_runs_per_minute": FAR,
}


def files_body(count: int) -> list[dict[str, object]]:
    if count == 0:
        return [{"name": "small.bin", "size": 4096}]
    return [{"name": f"part-{i}.bin", "size": FILE_SIZE} for i in range(count)]


def label(count: int) -> str:
    return SMALL if count == 0 else f"{count} x 100 MiB"


def with_latency(s3: S3Client, seconds: float) -> S3Client:
    """`s3`, each request of which waits `seconds` before it is sent: a network round trip to
    S3 (tens of milliseconds from a Lambda), which moto on loopback does not have."""
    if seconds:
        s3.meta.events.register("before-send.s3", lambda **_: time.sleep(seconds))
    return s3


@contextmanager
def service(database_url: str, s3_endpoint: str, latency: float) -> Iterator[Uploads]:
    settings = Settings(database_url=database_url, s3_endpoint_url=s3_endpoint, **SETTINGS)
    db = Database.from_url(database_url)
    s3 = with_latency(make_s3_client(settings), latency)
    storage = Storage(s3, BUCKET, settings.inlet_presign_ttl)
    try:
        yield Uploads(db, storage, settings)
    finally:
        db.engine.dispose()


def through_service(uploads: Uploads, count: int) -> Callable[[], int]:
    request = CreateUploadRequest(
        type="app_bundle", files=[FileSpec.model_validate(f) for f in files_body(count)]
    )

    def create() -> int:
        response = uploads.create(request, owner=None)
        return sum(len(getattr(f.upload, "parts", [])) for f in response.files)

    return create


def through_http(base: str, count: int) -> Callable[[], int]:
    body = json.dumps({"type": "app_bundle", "files": files_body(count)})
    netloc = urlsplit(base).netloc

    def create() -> int:
        connection = http.client.HTTPConnection(netloc, timeout=60)
        try:
            connection.request("POST", "/v1/uploads", body, {"Content-Type": "application/json"})
            answer = connection.getresponse()
            payload = json.loads(answer.read())
        finally:
            connection.close()
        if answer.status != 201:
            raise SystemExit(f"POST /v1/uploads answered {answer.status}: {payload}")
        return sum(len(f["upload"].get("parts", [])) for f in payload["files"])

    return create


def bare_creations(s3: S3Client, count: int) -> Callable[[], int]:
    """The floor: `count` CreateMultipartUpload calls of a bare boto3 client, as many at a time
    as the service makes them."""

    def create(index: int) -> None:
        s3.create_multipart_upload(Bucket=BUCKET, Key=f"floor/{uuid.uuid4()}/{index}")

    def create_all() -> int:
        with ThreadPoolExecutor(min(BUCKET_CONCURRENCY, count)) as pool:
            list(pool.map(create, range(count)))
        return 0

    return create_all


def measure(cases: dict[str, Callable[[], int]], rounds: int) -> dict[str, tuple[float, int]]:
    """Median milliseconds and part URLs per case; the cases take turns, one warm-up each."""
    times: dict[str, list[float]] = {name: [] for name in cases}
    urls: dict[str, int] = {}
    for create in cases.values():
        create()
    for _ in range(rounds):
        for name, create in cases.items():
            started = time.perf_counter()
            urls[name] = create()
            times[name].append((time.perf_counter() - started) * 1000)
    return {name: (statistics.median(times[name]), urls[name]) for name in cases}


def report(title: str, results: dict[str, tuple[float, int]], counts: list[int]) -> None:
    base = results[label(1)][0]
    print(f"\n{title}")
    print(
        "| run | p50 ms | part URLs signed | vs 1 x 100 MiB (goal for 20: <= 3x) "
        "| floor: its CreateMultipartUpload calls alone, bare boto3 |"
    )
    print("|---|---|---|---|---|")
    for count in counts:
        ms, urls = results[label(count)]
        floor = f"{results[FLOOR.format(count)][0]:.1f} ms" if count else "-"
        print(f"| {label(count)} | {ms:.1f} | {urls} | {ms / base:.2f}x | {floor} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--files", type=int, nargs="+", default=[1, 20, 200])
    parser.add_argument("--no-http", action="store_true", help="only through the service")
    parser.add_argument(
        "--s3-latency-ms",
        type=float,
        default=0,
        help="a round trip added to each S3 request (service and floor only; no HTTP run)",
    )
    args = parser.parse_args()
    latency = args.s3_latency_ms / 1000
    counts = [0, 1, *sorted(set(args.files) - {1})]
    with moto_server() as s3_endpoint:
        s3 = make_s3_client(Settings(s3_endpoint_url=s3_endpoint))
        ensure_upload_bucket(s3, BUCKET, [CORS_ORIGIN])
        with_latency(s3, latency)
        databases = postgres_database()
        database_url = next(databases)
        try:
            migrate(database_url)
            with service(database_url, s3_endpoint, latency) as uploads:
                cases = {label(n): through_service(uploads, n) for n in counts}
                floors = {FLOOR.format(n): bare_creations(s3, n) for n in counts if n}
                results = measure(cases | floors, args.rounds)
                title = "Through the service (Uploads.create)"
                if latency:
                    title += f", {args.s3_latency_ms:g} ms added to each S3 request"
                report(title, results, counts)
            if not (args.no_http or latency):
                env = {name.upper(): str(value) for name, value in SETTINGS.items()}
                with api_server(database_url, s3_endpoint, **env) as base:
                    cases = {label(n): through_http(base, n) for n in counts}
                    results = measure(cases | floors, args.rounds)
                    report("Through the local HTTP API", results, counts)
        finally:
            next(databases, None)  # drops the database


if __name__ == "__main__":
    main()
