"""Child processes of the local tooling (dev stack, LocalStack, test servers, benchmarks):
each runs in a process group of its own, so stopping it stops everything it started."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def stop_group(process: subprocess.Popen[bytes], timeout: float = 20) -> None:
    """SIGTERM the process group (a clean stop), SIGKILL it if it is still there after `timeout`."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@contextmanager
def process_group(
    command: Sequence[str], log: Path | None = None, **popen: Any
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `command` until the block ends, then stop its group. Its output goes to `log` when
    given, else to ours."""
    with ExitStack() as files:
        out = files.enter_context(log.open("ab")) if log else None
        process = subprocess.Popen(  # noqa: S603 (our own tools, fixed arguments)
            list(command),
            stdout=out,
            stderr=subprocess.STDOUT if out else None,
            start_new_session=True,
            **popen,
        )
    try:
        yield process
    finally:
        stop_group(process)


def wait_until_ok(url: str, seconds: float, process: subprocess.Popen[bytes]) -> None:
    """Wait until `url` answers 2xx; raise RuntimeError if the process dies or time runs out."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 (our own local URL)
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing answered at {url} within {seconds:.0f} s")


@contextmanager
def moto_server(log: Path = Path(os.devnull), port: int | None = None) -> Iterator[str]:
    """A moto server (S3, SQS, Secrets Manager) in a child process, so that it shares neither
    this process's memory nor its GIL, on `port` or a free one; its endpoint URL. It answers a
    browser's presigned POST as S3 does (`local.moto_s3`)."""
    port = port or free_port()
    command = [sys.executable, "-m", "local.moto_s3", "-H", HOST, "-p", str(port)]
    env = os.environ | {"MOTO_DISABLE_GLOBAL_CORS": "1"}
    with process_group(command, log, cwd=ROOT, env=env) as process:
        url = f"http://{HOST}:{port}"
        wait_until_ok(f"{url}/moto-api/", 30, process)
        yield url


@dataclass(frozen=True)
class DevStack:
    api_url: str
    s3_url: str
    log: Path


@contextmanager
def dev_stack(workdir: Path, **settings: str) -> Iterator[DevStack]:
    """`make dev` (`python -m local.stack`) on free ports with a SQLite file in `workdir`, and
    `settings` (upper-case variables) on top; stopped, with everything it started, on exit."""
    api_port, s3_port, web_port = free_port(), free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("S3_ENDPOINT_URL", "INLET_BUCKET")}
    env |= {
        "INLET_API_PORT": str(api_port),
        "INLET_S3_PORT": str(s3_port),
        "INLET_WEB_PORT": str(web_port),
        "DATABASE_URL": f"sqlite:///{workdir / 'inlet.db'}",
        **settings,
    }
    log = workdir / "devstack.log"
    # SIGTERM first: the dev stack stops the API process group and moto it started.
    with process_group([sys.executable, "-m", "local.stack"], log, cwd=ROOT, env=env) as stack:
        api_url = f"http://{HOST}:{api_port}"
        try:
            wait_until_ok(f"{api_url}/health", 120, stack)
        except RuntimeError as exc:
            output = log.read_text(errors="replace")
            raise RuntimeError(f"{exc}; the dev stack's log:\n{output}") from None
        yield DevStack(api_url, f"http://{HOST}:{s3_port}", log)
