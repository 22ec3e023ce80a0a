"""LocalStack on the host, without Docker: `make test-localstack` and a local S3/SQS endpoint.

    python -m local.localstack test [PYTEST ARGS]   the integration tests against LocalStack
    python -m local.localstack serve [--port N]     LocalStack in the foreground (Ctrl-C stops it)

LocalStack checks what moto does not: presigned signatures and expiry, `x-amz-checksum-sha256`,
CORS exactly as S3, one event per multipart upload. `localstack-core[runtime]` needs Python 3.13
or newer, so it lives in a venv of its own, `.venv-localstack`, created on first use (about 75 s)
from the first Python >= 3.13 found: INLET_LOCALSTACK_PYTHON, python3.13/python3.14 on PATH,
then pyenv's versions. With none, `test` prints a loud notice and exits 0, so `make test` still
passes on machines that cannot run this leg, and says so; INLET_REQUIRE_LOCALSTACK=1 makes that
an error instead (CI that must run it).

`test` starts LocalStack on a free port (S3_SKIP_SIGNATURE_VALIDATION=0), runs pytest from this
interpreter with INLET_TEST_S3_ENDPOINT pointing the test fixtures at it, stops it, and prints
the timings. LocalStack checks signatures against the secret key `test`, so the tests sign with
AWS_ACCESS_KEY_ID=test and AWS_SECRET_ACCESS_KEY=test.
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from local.processes import free_port, stop_group

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv-localstack"
MIN_PYTHON = (3, 13)
# Verified together: localstack-core 2026.3.0 on Python 3.13 (it imports warnings.deprecated).
PACKAGES = (
    "localstack-core[runtime]==2026.3.0",
    "cbor2<6",
    "pyopenssl<25",
    "cryptography<45",
    "service_identity",
)
STAMP = VENV / ".inlet-installed"
STARTUP_SECONDS = 90
# The integration suite, less the modules that never talk to the tests' S3 endpoint or that
# start an emulator or a whole stack of their own (unit and deploy tests never do).
NOT_ON_LOCALSTACK = (
    "tests/integration/test_migrations.py",
    "tests/integration/test_cli.py",
    "tests/integration/test_client_wheel.py",
    "tests/integration/test_fuzz.py",
    "tests/integration/test_faults.py",
    "tests/integration/test_load.py",
)
BANNER = "=" * 78


def say(*lines: str) -> None:
    print("\n".join(f"[localstack] {line}" for line in lines), flush=True)


def loud(*lines: str, level: str = "warning") -> None:
    """A notice nobody scrolls past (and an annotation on GitHub Actions)."""
    print(f"\n{BANNER}", *(f"!!  {line}" for line in lines), f"{BANNER}\n", sep="\n", flush=True)
    if os.environ.get("GITHUB_ACTIONS"):
        print(f"::{level} title=LocalStack leg::{' '.join(lines)}", flush=True)


# --- the interpreter and the venv ------------------------------------------------------------


def python_version(executable: str) -> tuple[int, int] | None:
    try:
        out = subprocess.run(  # noqa: S603 (an interpreter we found ourselves, fixed arguments)
            [executable, "-c", "import sys; print(*sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=20,
            check=True,
        ).stdout.split()
        return int(out[0]), int(out[1])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return None


def candidates() -> Iterator[str]:
    explicit = os.environ.get("INLET_LOCALSTACK_PYTHON", "").strip()
    if explicit:
        yield explicit
    for name in ("python3.14", "python3.13"):
        found = shutil.which(name)
        if found:
            yield found
    pyenv_root = os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")
    installed = glob.glob(f"{pyenv_root}/versions/3.*/bin/python3")
    yield from sorted(installed, key=_version_key, reverse=True)  # the newest first


def _version_key(path: str) -> tuple[int, ...]:
    version = Path(path).parent.parent.name  # .../versions/3.13.0/bin/python3
    return tuple(int(part) if part.isdigit() else -1 for part in version.split("."))


def find_python() -> str | None:
    """The first interpreter found that is Python >= 3.13."""
    for executable in candidates():
        version = python_version(executable)
        if version is not None and version >= MIN_PYTHON:
            return executable
    return None


def venv_python() -> Path:
    return VENV / "bin" / "python"


def ensure_venv(python: str) -> float:
    """Create `.venv-localstack` and install LocalStack when missing; seconds it took (0: ready)."""
    wanted = "\n".join(PACKAGES)
    version = python_version(str(venv_python())) if venv_python().exists() else None
    if version is not None and version >= MIN_PYTHON:
        if STAMP.exists() and STAMP.read_text() == wanted:
            return 0.0
    elif VENV.exists():
        say(f"{VENV.name} is not a Python >= 3.13 venv; creating it again")
        shutil.rmtree(VENV)
    started = time.monotonic()
    say(f"installing LocalStack into {VENV.name} with {python} (about 75 s, once)")
    if not venv_python().exists():
        subprocess.run([python, "-m", "venv", str(VENV)], check=True)  # noqa: S603
    pip = [str(venv_python()), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, *PACKAGES], check=True)  # noqa: S603 (pinned packages, our venv)
    STAMP.write_text(wanted)
    return time.monotonic() - started


# --- the server ------------------------------------------------------------------------------


def localstack_environment(port: int, data_dir: Path) -> dict[str, str]:
    return os.environ | {
        "OVERRIDE_IN_DOCKER": "0",
        "GATEWAY_LISTEN": f"127.0.0.1:{port}",
        "SERVICES": "s3,sqs,events",
        "S3_SKIP_SIGNATURE_VALIDATION": "0",
        "FILESYSTEM_ROOT": str(data_dir),
        "SKIP_SSL_CERT_DOWNLOAD": "1",
        "DISABLE_EVENTS": "1",  # no analytics calls home
    }


def healthy(endpoint: str) -> bool:
    try:
        with urllib.request.urlopen(f"{endpoint}/_localstack/health", timeout=2) as response:  # noqa: S310 (our own local URL)
            return bool(response.status == 200)
    except OSError:
        return False


@contextmanager
def running(port: int | None = None, log: Path | None = None) -> Iterator[str]:
    """LocalStack (S3 and SQS) on 127.0.0.1; its endpoint URL. Stopped, with all its processes
    and its data, when the block ends."""
    port = port or free_port()
    data_dir = Path(tempfile.mkdtemp(prefix="inlet-localstack-"))
    log = log or data_dir / "localstack.log"
    endpoint = f"http://127.0.0.1:{port}"
    with log.open("ab") as out:
        process = subprocess.Popen(  # noqa: S603 (our venv's python, fixed arguments)
            [str(venv_python()), "-m", "localstack.runtime.main"],
            cwd=data_dir,
            env=localstack_environment(port, data_dir),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: nothing outlives us
        )
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not (healthy(endpoint) and b"Ready." in log.read_bytes()):
            if process.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text(errors="replace")[-4000:]
                raise RuntimeError(f"LocalStack did not start on {endpoint}:\n{tail}")
            time.sleep(0.25)
        yield endpoint
    finally:
        stop_group(process)
        shutil.rmtree(data_dir, ignore_errors=True)


# --- the commands ----------------------------------------------------------------------------


def run_tests(pytest_args: Sequence[str]) -> int:
    began = time.monotonic()
    python = find_python()
    if python is None:
        required = os.environ.get("INLET_REQUIRE_LOCALSTACK") == "1" or bool(os.environ.get("CI"))
        loud(
            f"LocalStack leg {'FAILED' if required else 'SKIPPED'}: no Python >= 3.13 here.",
            "localstack-core 2026.3.0 needs one; looked at INLET_LOCALSTACK_PYTHON,",
            "python3.13/python3.14 on PATH and pyenv (pyenv install 3.13).",
            "Presigned signatures, expiry, checksums and bucket CORS went UNTESTED.",
            level="error" if required else "warning",
        )
        return 1 if required else 0
    installed = ensure_venv(python)
    args = list(pytest_args) or [
        "tests/integration",
        *(f"--ignore={m}" for m in NOT_ON_LOCALSTACK),
    ]
    started = time.monotonic()
    with running() as endpoint:
        ready = time.monotonic() - started
        say(f"LocalStack is up at {endpoint} ({ready:.1f} s); running the integration tests")
        env = os.environ | {
            "INLET_TEST_S3_ENDPOINT": endpoint,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
        tests_began = time.monotonic()
        code = subprocess.call(  # noqa: S603 (this interpreter's pytest)
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args], cwd=ROOT, env=env
        )
        tested = time.monotonic() - tests_began
    say(
        f"LocalStack leg {'passed' if code == 0 else f'FAILED (pytest exit code {code})'}",
        f"timings: install {installed:.1f} s, start {ready:.1f} s, tests {tested:.1f} s, "
        f"total {time.monotonic() - began:.1f} s",
    )
    return code


def serve_command(port: int) -> int:
    python = find_python()
    if python is None:
        loud("no Python >= 3.13 found: LocalStack cannot run here (see local/localstack.py)")
        return 1
    ensure_venv(python)
    stop = False

    def on_signal(*_: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    log = Path(tempfile.gettempdir()) / f"inlet-localstack-{port}.log"
    with running(port, log) as endpoint:
        say(
            f"LocalStack (S3, SQS) at {endpoint}; log: {log}; Ctrl-C stops it",
            f"try: S3_ENDPOINT_URL={endpoint} AWS_ACCESS_KEY_ID=test "
            "AWS_SECRET_ACCESS_KEY=test make dev",
        )
        while not stop:
            time.sleep(0.5)
    return 0


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m local.localstack", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("test", help="the integration tests against LocalStack")
    serve = commands.add_parser("serve", help="LocalStack in the foreground")
    serve.add_argument("--port", type=int, default=4566)
    args, rest = parser.parse_known_args(argv)
    if args.command == "test":
        raise SystemExit(run_tests(rest))
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    raise SystemExit(serve_command(args.port))


if __name__ == "__main__":
    main()
