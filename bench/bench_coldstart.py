"""`make bench-coldstart`: how long each Lambda function takes to start from its package, with
the bytecode and trimming of infra/package.py against Chalice's own package, same run. Not a test.

The package is built as the CDK app builds it (Chalice's packager, Linux wheels from PyPI), once
as Chalice leaves it and once optimized (`infra.package.optimize`); each is unpacked into a
directory made read-only, as /var/task is. Each start is a fresh interpreter, `python -I -S -B`
(no site-packages, no PYTHON* variables, no bytecode written), with the package alone on its path:

- entry: `import app`, what Lambda's runtime does before the first invocation;
- entry + first event: then what the function's first invocation builds before it talks to
  anyone (`infra.package.FIRST_EVENT`: its services, the engine, the S3 client and its model).

Rounds alternate packages and functions so that noise from other processes spreads evenly.
Prints the packages' sizes, then per start the median and p90 wall time and the median CPU time,
with the bare interpreter (`pass`) as the floor.

    .venv/bin/python bench/bench_coldstart.py [--rounds 5] [--functions APIHandler ...]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from chalice.api import package_app  # noqa: E402

from infra import package  # noqa: E402

GOAL_MS = 400  # issue 14: the HTTP function and the queue handler
MiB = 1024 * 1024
# What a start sees of the environment: no database is reached (the engine does not connect).
START_ENV = {
    "PATH": os.environ.get("PATH", ""),
    "AWS_DEFAULT_REGION": "us-east-1",
    "DATABASE_URL": "postgresql://inlet@127.0.0.1:1/inlet",
}
# What infra/api.py gives Chalice that packaging needs (the roles are the stack's).
STAGE_CONFIG = {
    "autogen_policy": False,
    "manage_iam_role": False,
    "iam_role_arn": "arn:aws:iam::123456789012:role/bench",
}


def build(scratch: Path) -> Path:
    """Chalice's deployment.zip, built as `make synth` builds it (before optimizing)."""
    out = scratch / "chalice"
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    package_app(str(ROOT), str(out), "bench", chalice_config=STAGE_CONFIG)
    return out / "deployment.zip"


def unpack(archive: Path, tree: Path) -> Path:
    """`archive` extracted into `tree`, then made read-only like /var/task."""
    with zipfile.ZipFile(archive) as zipped:
        zipped.extractall(tree)
    set_writable(tree, False)
    return tree


def set_writable(tree: Path, writable: bool) -> None:
    write = 0o200 if writable else 0
    for path in [tree, *tree.rglob("*")]:
        path.chmod((0o555 if path.is_dir() else 0o444) | write)


def measure_size(archive: Path) -> tuple[int, int, int]:
    """Zipped bytes, unpacked bytes, files."""
    with zipfile.ZipFile(archive) as zipped:
        entries = zipped.infolist()
    return archive.stat().st_size, sum(entry.file_size for entry in entries), len(entries)


def start(tree: Path, code: str) -> tuple[float, float]:
    """Wall and CPU seconds of one fresh interpreter running `code` with only `tree` on its path.
    CPU time (user + system) barely moves when other processes share the cores; wall time does."""
    source = f"import sys\nsys.path.insert(0, {str(tree)!r})\n{code}"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    subprocess.run(  # noqa: S603 (this interpreter, our own code)
        [sys.executable, "-I", "-S", "-B", "-c", source],
        cwd=tree,
        env=START_ENV,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def p90(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=10, method="inclusive")[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="starts per measurement (11: full)")
    parser.add_argument(
        "--functions", nargs="+", default=list(package.FIRST_EVENT), choices=package.FIRST_EVENT
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="inlet-coldstart-") as scratch_dir:
        scratch = Path(scratch_dir)
        chalice_zip = build(scratch)
        optimized_zip = scratch / "optimized.zip"
        shutil.copyfile(chalice_zip, optimized_zip)
        package.optimize(optimized_zip)
        archives = {"optimized": optimized_zip, "Chalice's package": chalice_zip}
        sizes = {name: measure_size(path) for name, path in archives.items()}
        trees = {
            name: unpack(path, scratch / f"tree{i}")
            for i, (name, path) in enumerate(archives.items())
        }

        samples: dict[tuple[str, str], list[tuple[float, float]]] = {}
        for _ in range(args.rounds):
            for row, code in rows(args.functions).items():
                for name, tree in trees.items():
                    samples.setdefault((row, name), []).append(start(tree, code))
        for tree in trees.values():  # so that the scratch directory can be removed
            set_writable(tree, True)

    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} cores, {args.rounds} starts each\n")
    print("| package | zipped | unpacked | files |\n|---|---|---|---|")
    for name, (zipped, unpacked, files) in sizes.items():
        print(f"| {name} | {zipped / MiB:.1f} MiB | {unpacked / MiB:.1f} MiB | {files} |")
    names = list(trees)
    print("\nWall time, median and p90; CPU time (user + system), median; ratio of the medians.\n")
    print(
        f"| start | {' | '.join(f'{name}: wall, p90, CPU' for name in names)} | ratio (wall, CPU) |"
    )
    print(f"|---|{'---|' * len(names)}---|")
    for row in rows(args.functions):
        medians = {}
        cells = []
        for name in names:
            wall, cpu = ([sample[i] for sample in samples[(row, name)]] for i in (0, 1))
            medians[name] = statistics.median(wall), statistics.median(cpu)
            cells.append(f"{ms(medians[name][0])}, {ms(p90(wall))}, {ms(medians[name][1])}")
        (fast_wall, fast_cpu), (slow_wall, slow_cpu) = medians.values()
        ratios = f"{slow_wall / fast_wall:.1f}x, {slow_cpu / fast_cpu:.1f}x"
        print(f"| {row} | {' | '.join(cells)} | {ratios} |")
    print(f"\nGoal: {GOAL_MS} ms for APIHandler and HandleBucketEvents.")


def rows(functions: list[str]) -> dict[str, str]:
    """What is timed: the bare interpreter (the floor), each function's entry and entry + first
    event, and every function's first event in one process (what one app.py used to import)."""
    found = {"bare interpreter (`pass`)": "pass"}
    for function in functions:
        found[f"{function}: entry"] = package.startup_code(function, first_event=False)
        found[f"{function}: entry + first event"] = package.startup_code(function, first_event=True)
    everything = "\n".join(package.FIRST_EVENT.values())
    found["every function's first event in one process"] = f"import app\n{everything}"
    return found


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


if __name__ == "__main__":
    main()
