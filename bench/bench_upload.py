"""`make bench-upload`: `inlet upload --wait` until the run is `stored`, hashing while the parts
are on the wire, against the client before issue 14 (`--baseline REF`: it hashed every file before
the first byte, and polled less often), with boto3's `upload_file` and `aws s3 cp` (both
s3transfer) beside them as the transfer's reference: same file, same S3 server, same run. Not a
test: it prints numbers.

It starts the dev stack (`python -m local.stack`) on free ports with a throwaway SQLite
database, on moto and, with `--stores moto localstack`, on LocalStack too (`local.localstack`
installs it in `.venv-localstack` on first use; a faster S3 server than moto). For each round
it runs every tool in its own process, in an order that rotates between rounds, timing the
whole process (start-up included) and reading its peak RSS from the kernel (`wait4`). For
`inlet` it also reads when the server stored the run (`stored_at`): time to `stored` is from
spawning the process to that instant, so the client's polling interval does not blur it.

    .venv/bin/python bench/bench_upload.py [--size-mib 256] [--rounds 2] [--parallel 4]
        [--stores moto localstack] [--baseline REF]
    (the issue's size: --size-mib 1024 --rounds 3)
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from local import localstack  # noqa: E402
from local.processes import dev_stack  # noqa: E402

BUCKET = "inlet-uploads"
MiB = 1024 * 1024
# The same client settings Inlet uses for S3-compatible endpoints (see chalicelib/storage.py),
# and the classic transfer client (moto cannot see CRT traffic).
BOTO3_UPLOAD = """
import sys, boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
config = Config(s3={"addressing_style": "path"}, request_checksum_calculation="when_required",
                response_checksum_validation="when_required")
s3 = boto3.client("s3", endpoint_url=sys.argv[1], config=config)
s3.upload_file(sys.argv[2], sys.argv[3], sys.argv[4],
               Config=TransferConfig(preferred_transfer_client="classic"))
"""
# The last commit of inlet/ before issue 14: every file hashed before the run is created.
BASELINE = "7bbe8f1"
HASH_FIRST = "inlet before, hash first"
HASH_WHILE = "inlet, hash while uploading"


@dataclass(frozen=True)
class Result:
    tool: str
    seconds: float  # the process, spawn to exit
    peak_rss_mib: float
    size: int
    to_stored: float | None = None  # spawn to the run's stored_at (inlet only)

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


def measure(
    tool: str, argv: list[str], env: dict[str, str], size: int, cwd: Path = ROOT
) -> tuple[Result, str, float]:
    """Wall time from spawn to exit, the process's peak RSS as the kernel counted it, what it
    printed, and the wall-clock instant it was spawned."""
    with tempfile.TemporaryFile() as out:
        spawned = time.time()
        started = time.perf_counter()
        process = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out)  # noqa: S603 (our argv)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        printed = out.read().decode()
    if process.returncode != 0:
        raise SystemExit(f"{tool} failed with exit code {process.returncode}")
    return Result(tool, seconds, usage.ru_maxrss / 1024, size), printed, spawned


def upload_boto3(s3: str, path: Path, number: int) -> Result:
    argv = [sys.executable, "-c", BOTO3_UPLOAD, s3, str(path), BUCKET, f"bench/boto3-{number}.bin"]
    return measure("boto3 upload_file", argv, dict(os.environ), path.stat().st_size)[0]


def upload_aws_cli(aws: str, s3: str, path: Path, number: int) -> Result:
    argv = [aws, "s3", "cp", "--only-show-errors", "--endpoint-url", s3, str(path)]
    argv.append(f"s3://{BUCKET}/bench/aws-{number}.bin")
    env = os.environ | {"AWS_REQUEST_CHECKSUM_CALCULATION": "when_required"}
    return measure("aws s3 cp", argv, env, path.stat().st_size)[0]


@contextmanager
def client_at(ref: str) -> Iterator[Path]:
    """A directory holding `inlet/` as it was at `ref`: `python -m inlet` run there is that
    client (the working directory comes first on sys.path)."""
    git = ["git", "archive", "--format=tar", ref, "inlet"]
    archive = subprocess.run(git, cwd=ROOT, capture_output=True, check=True).stdout  # noqa: S603
    with (
        tempfile.TemporaryDirectory(prefix="inlet-baseline-") as tmp,
        tarfile.open(fileobj=io.BytesIO(archive)) as tar,
    ):
        tar.extractall(tmp, filter="data")
        yield Path(tmp)


def upload_inlet(
    tool: str, client: Path, api: str, path: Path, number: int, parallel: int
) -> Result:
    """`inlet upload --wait` of the client in `client`: the process ends when the run is final."""
    with tempfile.TemporaryDirectory() as state:
        argv = [sys.executable, "-m", "inlet", "upload", str(path), "--api", api, "--json"]
        argv += ["--wait", "--type", "app_bundle", "--label", f"bench-{number}"]
        argv += ["--parallel", str(parallel)]
        env = os.environ | {"INLET_STATE_DIR": state}
        result, printed, spawned = measure(tool, argv, env, path.stat().st_size, client)
    run = json.loads(printed)
    if run["status"] != "stored":
        raise SystemExit(f"{tool}: run {run['id']} is {run['status']}")
    stored = datetime.fromisoformat(run["stored_at"].replace("Z", "+00:00")).timestamp()
    return Result(tool, result.seconds, result.peak_rss_mib, result.size, stored - spawned)


def bench_round(tools: list[Callable[[], Result]], number: int) -> list[Result]:
    """Every tool once; who goes first rotates between rounds."""
    turn = number % len(tools)
    order = list(range(len(tools)))[turn:] + list(range(len(tools)))[:turn]
    results = {index: tools[index]() for index in order}
    return [results[index] for index in range(len(tools))]


def report(store: str, rounds: list[list[Result]], parallel: int) -> None:
    size = rounds[0][0].size
    print(f"\n{store}: upload of {size / MiB:.0f} MiB over loopback ({os.cpu_count()} cores)")
    header = (
        f"{'round':<7}{'tool':<30}{'process s':>10}{'MB/s':>8}{'to stored s':>13}{'RSS MiB':>9}"
    )
    print(header)
    for number, results in enumerate(rounds, 1):
        for r in results:
            stored = f"{r.to_stored:>13.2f}" if r.to_stored is not None else f"{'-':>13}"
            print(
                f"{number:<7}{r.tool:<30}{r.seconds:>10.2f}{r.mb_per_s:>8.1f}{stored}"
                f"{r.peak_rss_mib:>9.0f}"
            )
    by_tool = {
        r.tool: [x for results in rounds for x in results if x.tool == r.tool] for r in rounds[0]
    }
    first = [r.to_stored or 0.0 for r in by_tool[HASH_FIRST]]
    now = [r.to_stored or 0.0 for r in by_tool[HASH_WHILE]]
    speedups = [a / b for a, b in zip(first, now, strict=True)]
    print(
        f"time to stored, before / now, per round: {', '.join(f'{s:.2f}' for s in speedups)}; "
        f"median {statistics.median(speedups):.2f}x (goal >= 1.15x; inlet --parallel {parallel})"
    )
    before = [r.seconds for r in by_tool[HASH_FIRST]]
    after = [r.seconds for r in by_tool[HASH_WHILE]]
    exits = [a / b for a, b in zip(before, after, strict=True)]
    print(
        f"process time (inlet sees `stored` and exits), before / now, per round: "
        f"{', '.join(f'{s:.2f}' for s in exits)}; median {statistics.median(exits):.2f}x"
    )
    for reference in ("boto3 upload_file", "aws s3 cp"):
        if reference in by_tool:
            ratio = statistics.median(
                b.seconds / a.seconds
                for a, b in zip(by_tool[HASH_WHILE], by_tool[reference], strict=True)
            )
            print(
                f"{reference} (upload only, nothing verified) / inlet to stored, process time: "
                f"median {ratio:.2f}"
            )


@contextmanager
def s3_server(store: str) -> Iterator[dict[str, str]]:
    """Settings for the dev stack: moto (its own, started by the stack) or LocalStack."""
    if store == "moto":
        yield {"AWS_ACCESS_KEY_ID": "inlet-dev", "AWS_SECRET_ACCESS_KEY": "inlet-dev"}
        return
    python = localstack.find_python()
    if python is None:
        raise SystemExit("LocalStack needs Python >= 3.13 (see python -m local.localstack --help)")
    localstack.ensure_venv(python)
    with localstack.running() as endpoint:
        # LocalStack checks signatures against the secret key `test`.
        yield {
            "S3_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "INLET_HASH_RANGE_SIZE": "0",
        }


def bench_store(
    store: str, path: Path, workdir: Path, baseline: Path, args: argparse.Namespace
) -> None:
    aws = shutil.which("aws")
    with s3_server(store) as settings:
        os.environ.update(settings)  # for boto3 and the AWS CLI
        stack_settings = settings | {"POWERTOOLS_LOG_LEVEL": "WARNING", "INLET_AUTH": "off"}
        with dev_stack(workdir / store, **stack_settings) as stack:
            api, s3 = stack.api_url, settings.get("S3_ENDPOINT_URL", stack.s3_url)
            rounds = []
            for number in range(args.rounds):
                tools: list[Callable[[], Result]] = [
                    partial(upload_inlet, HASH_FIRST, baseline, api, path, number, args.parallel),
                    partial(upload_inlet, HASH_WHILE, ROOT, api, path, number, args.parallel),
                    partial(upload_boto3, s3, path, number),
                ]
                if aws:
                    tools.append(partial(upload_aws_cli, aws, s3, path, number))
                rounds.append(bench_round(tools, number))
    report(store, rounds, args.parallel)
    if not aws:
        print("aws s3 cp: no `aws` on PATH, left out")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--size-mib", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--parallel", type=int, default=4, help="inlet --parallel")
    parser.add_argument(
        "--stores", nargs="+", choices=["moto", "localstack"], default=["moto"], metavar="STORE"
    )
    parser.add_argument("--baseline", default=BASELINE, metavar="REF", help="the client before")
    args = parser.parse_args()
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    with (
        tempfile.TemporaryDirectory(prefix="inlet-bench-") as tmp,
        client_at(args.baseline) as baseline,
    ):
        workdir = Path(tmp)
        path = workdir / "payload.bin"
        random_file(path, args.size_mib * MiB)
        for store in args.stores:
            (workdir / store).mkdir()
            bench_store(store, path, workdir, baseline, args)


if __name__ == "__main__":
    main()
