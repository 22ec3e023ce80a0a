"""`make bench-hash`: the event handler's SHA-256 of a stored object against its physical limit,
min(SHA-256 of an in-memory buffer, a plain GET of the same object read and discarded), both
measured in the same run, and against the baseline "download it with boto3, then hash it". Not
a test.

A moto server runs in a child process (so this process's memory is the hashing's alone). One
object made of a random 8 MiB chunk repeated is created server-side; then, for each round, the
four are measured in turn. Prints MB/s (median of the rounds), the handler's ratio to the limit
and to each of its two parts, and peak RSS (the kernel's high-water mark, reset before each
measurement).

    .venv/bin/python bench/bench_hash.py [--size-mib 256] [--rounds 3]
        [--range-size-mib 0] [--concurrency 4]

The goal (issue 14): >= 0.9x the limit at `--size-mib 1024`. `--range-size-mib 0` (one stream
per object) is how `make dev` hashes on moto, where every ranged GET costs the server a
whole-object read; 8 is the default for S3.
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


def sha256_in_memory(chunk: bytes, size: int) -> str:
    """SHA-256 alone: `size` bytes of `chunk` repeated, already in memory."""
    digest = hashlib.sha256()
    for _ in range(size // len(chunk)):
        digest.update(chunk)
    return digest.hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=256, help="1024 for the goal")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--range-size-mib", type=int, default=0)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    range_size, size = args.range_size_mib * MiB, args.size_mib * MiB

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
        print(f"handler: {how}; {args.size_mib} MiB; rounds: {args.rounds} (median)\n")
        chunk = os.urandom(CHUNK)
        key, etag, expected = upload_repeated(storage, size, chunk)

        def plain_get() -> str:
            body = client.get_object(Bucket=BUCKET, Key=key)["Body"]
            for _ in body.iter_chunks(CHUNK):
                pass
            return expected  # read and discarded: the network alone

        def download_then_hash() -> str:
            body = client.get_object(Bucket=BUCKET, Key=key)["Body"].read()
            return hashlib.sha256(body).hexdigest()

        def handler() -> str:
            digest = sha256_object(
                storage, key, size, etag=etag, range_size=range_size, concurrency=args.concurrency
            )
            return digest.sha256

        ways: dict[str, Callable[[], str]] = {
            "SHA-256 in memory": lambda: sha256_in_memory(chunk, size),
            "plain GET, read and discarded": plain_get,
            "handler (sha256_object)": handler,
            "download, then hash (baseline)": download_then_hash,
        }
        samples: dict[str, list[Sample]] = {name: [] for name in ways}
        for _ in range(args.rounds):
            for name, work in ways.items():
                samples[name].append(measure(work, expected))
        rate = {name: mb_per_s(size, found) for name, found in samples.items()}
        limit = min(rate["SHA-256 in memory"], rate["plain GET, read and discarded"])
        print("| way | MB/s | x limit | peak RSS |")
        print("|---|---|---|---|")
        for name, found in samples.items():
            peak = max(s.peak_rss for s in found) / MiB
            growth = max(s.growth for s in found) / MiB
            print(
                f"| {name} | {rate[name]:.0f} | {rate[name] / limit:.2f} "
                f"| {peak:.0f} MiB (+{growth:.0f}) |"
            )
        ours = rate["handler (sha256_object)"]
        # Without a spare core (another process busy), reading and hashing cannot overlap.
        serial = 1 / (1 / rate["SHA-256 in memory"] + 1 / rate["plain GET, read and discarded"])
        print(
            f"\nlimit = min(SHA-256, GET) = {limit:.0f} MB/s; handler {ours / limit:.2f}x the "
            f"limit ({ours / rate['SHA-256 in memory']:.2f}x SHA-256, "
            f"{ours / rate['plain GET, read and discarded']:.2f}x GET); "
            f"{ours / rate['download, then hash (baseline)']:.2f}x the baseline; "
            f"{ours / serial:.2f}x 1/(1/SHA-256 + 1/GET) = {serial:.0f} MB/s, the bound when no "
            "core is free to overlap them",
            flush=True,
        )
        client.delete_object(Bucket=BUCKET, Key=key)


if __name__ == "__main__":
    main()
