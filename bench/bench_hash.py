"""`make bench-hash`: the event handler's SHA-256 of a stored object against the baseline
"download it with boto3 `get_object`, then hash it", same moto server, same run. Not a test.

A moto server runs in a child process (so this process's memory is the hashing's alone). For
each size, one object made of a random 8 MiB chunk repeated is created server-side; then, for
each round, both ways hash it, alternating. Prints MB/s (median of the rounds), the ratio, and
peak RSS (the kernel's high-water mark, reset before each measurement).

    .venv/bin/python bench/bench_hash.py [--sizes-mib 256 1024] [--rounds 3]
        [--range-size-mib 0] [--concurrency 4]

`--range-size-mib 0` (one stream per object) is how `make dev` hashes on moto, where every
ranged GET costs the server a whole-object read; 8 is the default for S3.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
for _name, _value in {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
}.items():
    os.environ.setdefault(_name, _value)

import moto  # noqa: E402

from chalicelib.config import MiB, Settings  # noqa: E402
from chalicelib.hashing import sha256_object  # noqa: E402
from chalicelib.storage import Storage, make_s3_client  # noqa: E402
from local.processes import moto_server  # noqa: E402
from local.resources import ensure_bucket  # noqa: E402
from tests.support.objects import upload_repeated  # noqa: E402

BUCKET = "bench-hash"
CHUNK = 8 * MiB


@dataclass(frozen=True)
class Sample:
    seconds: float
    peak_rss: int  # bytes
    growth: int  # peak RSS minus RSS before


def _status(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def measure(work: Callable[[], str], expected: str) -> Sample:
    """Time `work` and read the peak RSS it reached (Linux: VmHWM, reset by clear_refs)."""
    Path("/proc/self/clear_refs").write_text("5")
    before = _status("VmRSS")
    started = time.perf_counter()
    digest = work()
    seconds = time.perf_counter() - started
    if digest != expected:
        raise SystemExit(f"wrong digest {digest}, expected {expected}")
    peak = _status("VmHWM")
    return Sample(seconds, peak, peak - before)


def mb_per_s(size: int, samples: list[Sample]) -> float:
    return size / statistics.median(s.seconds for s in samples) / 1e6


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown",
    )
    return (
        f"{cpu}, {os.cpu_count()} cores; Linux {platform.release()}; "
        f"Python {platform.python_version()}; moto {moto.__version__} (own process)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes-mib", type=int, nargs="+", default=[256, 1024])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--range-size-mib", type=int, default=0)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    range_size = args.range_size_mib * MiB

    with moto_server() as endpoint:
        settings = Settings(s3_endpoint_url=endpoint, inlet_bucket=BUCKET)
        client = make_s3_client(settings)
        ensure_bucket(client, BUCKET)
        storage = Storage(client, BUCKET, settings.inlet_presign_ttl)
        how = (
            f"{args.range_size_mib} MiB ranges, {args.concurrency} readers"
            if range_size
            else "one stream (one reader, one hasher)"
        )
        print(f"machine: {machine()}")
        print(f"handler: {how}; rounds: {args.rounds} (median)\n")
        print(
            "| size | baseline MB/s | handler MB/s | ratio | baseline peak RSS | handler peak RSS |"
        )
        print("|---|---|---|---|---|---|")
        for size_mib in args.sizes_mib:
            size = size_mib * MiB
            key, etag, expected = upload_repeated(storage, size, os.urandom(CHUNK))

            def baseline(key: str = key) -> str:
                body = client.get_object(Bucket=BUCKET, Key=key)["Body"].read()
                return hashlib.sha256(body).hexdigest()

            def handler(key: str = key, etag: str = etag, size: int = size) -> str:
                digest = sha256_object(
                    storage,
                    key,
                    size,
                    etag=etag,
                    range_size=range_size,
                    concurrency=args.concurrency,
                )
                return digest.sha256

            base: list[Sample] = []
            ours: list[Sample] = []
            for _ in range(args.rounds):
                base.append(measure(baseline, expected))
                ours.append(measure(handler, expected))
            base_rate, our_rate = mb_per_s(size, base), mb_per_s(size, ours)
            print(
                f"| {size_mib} MiB | {base_rate:.0f} | {our_rate:.0f} | {our_rate / base_rate:.2f} "
                f"| {max(s.peak_rss for s in base) / MiB:.0f} MiB "
                f"(+{max(s.growth for s in base) / MiB:.0f}) "
                f"| {max(s.peak_rss for s in ours) / MiB:.0f} MiB "
                f"(+{max(s.growth for s in ours) / MiB:.0f}) |",
                flush=True,
            )
            client.delete_object(Bucket=BUCKET, Key=key)


if __name__ == "__main__":
    main()
