"""`make bench-upload`: `inlet upload` against boto3's `upload_file` (s3transfer, what
`aws s3 cp` uses), same file, same moto server, same run. Not a test: it prints numbers.

It starts the dev stack (`python -m local.stack`) on free ports with a throwaway SQLite
database, writes a random file, then for each round uploads it with boto3 and with `inlet`,
each in its own process, timing the whole process (start-up included; for `inlet` also its
sha256 pass) and reading its peak RSS from the kernel (`wait4`).

    .venv/bin/python bench/bench_upload.py [--size-mib 1024] [--rounds 3] [--parallel 4]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from local.processes import dev_stack  # noqa: E402

BUCKET = "inlet-uploads"
MiB = 1024 * 1024
# The same client settings Inlet uses for S3-compatible endpoints (see chalicelib/storage.py).
BOTO3_UPLOAD = """
import sys, boto3
from botocore.config import Config
config = Config(s3={"addressing_style": "path"}, request_checksum_calculation="when_required",
                response_checksum_validation="when_required")
s3 = boto3.client("s3", endpoint_url=sys.argv[1], config=config)
s3.upload_file(sys.argv[2], sys.argv[3], sys.argv[4])
"""


@dataclass(frozen=True)
class Result:
    tool: str
    seconds: float
    peak_rss_mib: float
    size: int

    @property
    def mb_per_s(self) -> float:
        return self.size / 1e6 / self.seconds


def random_file(path: Path, size: int) -> None:
    with path.open("wb") as out:
        left = size
        while left:
            chunk = min(left, 16 * MiB)
            out.write(os.urandom(chunk))
            left -= chunk


def measure(tool: str, argv: list[str], env: dict[str, str], size: int) -> tuple[Result, str]:
    """Wall time from spawn to exit, the process's peak RSS as the kernel counted it, and
    what it printed."""
    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out)  # noqa: S603 (our argv)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        printed = out.read().decode()
    if process.returncode != 0:
        raise SystemExit(f"{tool} failed with exit code {process.returncode}")
    return Result(tool, seconds, usage.ru_maxrss / 1024, size), printed


def wait_final(api: str, run_id: str, seconds: float) -> None:
    """Let the server finish hashing the last upload before timing the next one."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"{api}/v1/runs/{run_id}", timeout=10) as response:  # noqa: S310
            if json.load(response)["status"] != "pending":
                return
        time.sleep(1)
    print(f"note: run {run_id} is still pending; the next round may overlap its processing")


def upload_boto3(s3: str, path: Path, number: int) -> Result:
    argv = [sys.executable, "-c", BOTO3_UPLOAD, s3, str(path), BUCKET, f"bench/boto3-{number}.bin"]
    return measure("boto3 upload_file", argv, dict(os.environ), path.stat().st_size)[0]


def upload_inlet(api: str, path: Path, number: int, parallel: int) -> Result:
    """Timed up to the end of the upload; then the server's processing of it is waited for,
    so that it never competes with the next measurement for the emulator's CPU."""
    with tempfile.TemporaryDirectory() as state:
        argv = [sys.executable, "-m", "inlet", "upload", str(path), "--api", api, "--json"]
        argv += ["--type", "app_bundle", "--label", f"bench-{number}", "--parallel", str(parallel)]
        env = os.environ | {"INLET_STATE_DIR": state}
        result, printed = measure("inlet upload", argv, env, path.stat().st_size)
    wait_final(api, json.loads(printed)["id"], 300)
    return result


def bench_round(api: str, s3: str, path: Path, parallel: int, number: int) -> list[Result]:
    """Both uploads; who goes first alternates between rounds."""
    if number % 2:
        inlet = upload_inlet(api, path, number, parallel)
        return [upload_boto3(s3, path, number), inlet]
    boto3 = upload_boto3(s3, path, number)
    return [boto3, upload_inlet(api, path, number, parallel)]


def report(results: list[Result], parallel: int) -> None:
    size = results[0].size
    print(f"\nupload of {size / MiB:.0f} MiB to moto over loopback ({os.cpu_count()} cores)")
    print(f"{'round':<7}{'tool':<20}{'seconds':>9}{'MB/s':>9}{'peak RSS MiB':>14}")
    for index, result in enumerate(results):
        print(
            f"{index // 2 + 1:<7}{result.tool:<20}{result.seconds:>9.2f}{result.mb_per_s:>9.1f}"
            f"{result.peak_rss_mib:>14.0f}"
        )
    ratios = [
        inlet.mb_per_s / boto3.mb_per_s
        for boto3, inlet in zip(results[::2], results[1::2], strict=True)
    ]
    print(
        f"ratio inlet/boto3 per round: {', '.join(f'{r:.2f}' for r in ratios)}; "
        f"median {statistics.median(ratios):.2f} (target >= 1.0; inlet --parallel {parallel})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--parallel", type=int, default=4, help="inlet --parallel")
    args = parser.parse_args()
    for name, value in {
        "AWS_ACCESS_KEY_ID": "inlet-dev",  # moto accepts any credentials
        "AWS_SECRET_ACCESS_KEY": "inlet-dev",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        os.environ.setdefault(name, value)
    with tempfile.TemporaryDirectory(prefix="inlet-bench-") as tmp:
        workdir = Path(tmp)
        path = workdir / "payload.bin"
        random_file(path, args.size_mib * MiB)
        results: list[Result] = []
        settings = {"POWERTOOLS_LOG_LEVEL": "WARNING", "INLET_AUTH": "off"}  # throwaway stack
        with dev_stack(workdir, **settings) as stack:
            api, s3 = stack.api_url, stack.s3_url
            for number in range(args.rounds):
                results += bench_round(api, s3, path, args.parallel, number)
        report(results, args.parallel)


if __name__ == "__main__":
    main()
