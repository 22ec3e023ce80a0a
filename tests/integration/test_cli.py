"""The `inlet` client against the real local stack: `python -m local.stack` on free ports
(moto S3 server, SQLite, `chalice local`, and the queue pump once it is part of the stack)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import urllib3
from requests.adapters import HTTPAdapter

import inlet.download
import inlet.plan
import inlet.retry
import inlet.upload
from chalicelib.config import MiB, Settings
from chalicelib.storage import make_s3_client
from inlet.api import ApiClient
from inlet.cli import main, wait_for_run
from inlet.files import sha256_file
from inlet.retry import RetryPolicy
from local.processes import free_port
from tests.support.http import InterceptingAdapter, Send, canned, use_adapter
from tests.support.stack import BUCKET as STACK_BUCKET
from tests.support.stack import Stack

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.http

# The retry rule and attempts of the defaults, without the back-off between attempts.
NO_WAIT = RetryPolicy(base_delay=0)
NO_WAIT_CLI = (
    "-c",
    "import sys\n"
    "from inlet.cli import main\n"
    "from inlet.retry import RetryPolicy\n"
    "sys.exit(main(retry=RetryPolicy(base_delay=0)))\n",
)


@pytest.fixture
def cli_env(stack: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The environment of `inlet`, in this process and for subprocesses."""
    values = {"INLET_API_URL": stack.api_url, "INLET_STATE_DIR": str(tmp_path / "state")}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return {**os.environ, **values}


def run_cli(
    env: dict[str, str], *args: str, prefix: tuple[str, ...] = ("-m", "inlet")
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *prefix, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def make_file(path: Path, size: int) -> Path:
    path.write_bytes(os.urandom(size))
    return path


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def one_line_error(stderr: str) -> str:
    """The contract of the client: errors are a single line on stderr, no traceback."""
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("inlet: ")
    return lines[0]


def runs_labelled(api: ApiClient, label: str) -> list[dict[str, Any]]:
    page = api.list_runs(None, None, 200, None)
    return [dict(run) for run in page["items"] if run["label"] == label]


# --- uploads --------------------------------------------------------------------------------


def test_mixed_set_is_stored_with_wait(
    cli_env: dict[str, str], stack: Stack, tmp_path: Path
) -> None:
    files = [
        make_file(tmp_path / "empty.bin", 0),
        make_file(tmp_path / "small.conf", 1234),
        make_file(tmp_path / "bundle.tgz", 30 * 1000 * 1000),
    ]
    result = run_cli(
        cli_env,
        "upload",
        *map(str, files),
        "--type",
        "app_bundle",
        "--label",
        "mixed",
        "--wait",
        "--wait-timeout",
        "60",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    run = json.loads(result.stdout)
    assert run["status"] == "stored"
    assert run["file_count"] == 3
    by_name = {f["name"]: f for f in run["files"]}
    for path in files:
        data = path.read_bytes()
        assert by_name[path.name]["status"] == "stored"
        assert by_name[path.name]["sha256"] == sha256(data)
        assert stack.read_object(by_name[path.name]["key"]) == data
    assert by_name["bundle.tgz"]["content_type"] == "application/gzip"
    assert not list((tmp_path / "state").glob("*.json")), "finished uploads leave no state"


def test_upload_json_output_and_bytes(
    cli_env: dict[str, str], stack: Stack, tmp_path: Path
) -> None:
    big = make_file(tmp_path / "twelve.bin", 12 * MiB)
    small = make_file(tmp_path / "small.txt", 100)
    result = run_cli(cli_env, "upload", str(big), str(small), "--type", "ds_etc", "--json")
    assert result.returncode == 0, result.stderr
    assert result.stderr == "", "no progress output when stderr is not a terminal"
    run = json.loads(result.stdout)
    # Printed as soon as the bytes are in, without waiting: the pump may or may not have verified
    # them yet, so the run is pending or already stored; either way it ends stored.
    assert (run["type"], run["file_count"]) == ("ds_etc", 2)
    assert run["status"] in ("pending", "stored")
    statuses = {f["status"] for f in run["files"]}
    assert statuses <= ({"stored"} if run["status"] == "stored" else {"pending", "stored"})
    for file in run["files"]:
        data = (tmp_path / file["name"]).read_bytes()
        assert file["declared_sha256"] == sha256(data)
        assert stack.read_object(file["key"]) == data
    final = wait_for_run(ApiClient(stack.api_url), run["id"], timeout=60)
    assert final["status"] == "stored"
    assert all(f["sha256"] == f["declared_sha256"] for f in final["files"])


class FailingPart(InterceptingAdapter):
    """Answers the first `failures` PUTs of part 2 with `status` without sending them."""

    def __init__(self, status: int, failures: int = 1) -> None:
        super().__init__(max_retries=0)
        self.status = status
        self.failures = failures
        self.part_two_puts = 0

    def intercept(self, request: requests.PreparedRequest, send: Send) -> requests.Response:
        if parse_qs(urlsplit(request.url or "").query).get("partNumber") == ["2"]:
            self.part_two_puts += 1
            if self.part_two_puts <= self.failures:
                return canned(request, self.status, b"<Error><Code>Injected</Code></Error>")
        return send()


@pytest.mark.parametrize("status", [500, 403])
def test_failing_part_is_retried(
    cli_env: dict[str, str],
    stack: Stack,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    status: int,
) -> None:
    """A 5xx is retried; a 403 (an expired URL) is re-signed through the API, then retried."""
    adapter = FailingPart(status)
    use_adapter(monkeypatch, adapter)
    signed: list[list[int]] = []
    sign_parts = ApiClient.sign_parts

    def recording_sign(self: ApiClient, run_id: str, file_id: str, numbers: list[int]) -> Any:
        signed.append(numbers)
        return sign_parts(self, run_id, file_id, numbers)

    monkeypatch.setattr(ApiClient, "sign_parts", recording_sign)
    path = make_file(tmp_path / "three-parts.bin", 12 * MiB)

    args = ["upload", str(path), "--type", "app_bundle", "--json", "--parallel", "2"]
    code = main(args, retry=NO_WAIT)

    assert code == 0, capsys.readouterr().err
    assert adapter.part_two_puts == 2
    assert any(2 in numbers for numbers in signed) == (status == 403)
    run = json.loads(capsys.readouterr().out)
    assert stack.read_object(run["files"][0]["key"]) == path.read_bytes()


def test_part_that_keeps_failing_exits_4_then_resumes(
    cli_env: dict[str, str],
    stack: Stack,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    adapter = FailingPart(500, failures=1000)
    use_adapter(monkeypatch, adapter)
    path = make_file(tmp_path / "stuck.bin", 11 * MiB)
    args = ["upload", str(path), "--type", "app_bundle", "--label", "stuck", "--json"]

    assert main(args, retry=NO_WAIT) == 4
    error = capsys.readouterr().err
    assert "part 2 of stuck.bin: HTTP 500 Injected" in error
    assert adapter.part_two_puts == NO_WAIT.attempts == inlet.retry.TRANSFER_RETRY.attempts

    adapter.failures = 0  # the network heals; the same command picks up where it stopped
    assert main(args, retry=NO_WAIT) == 0
    captured = capsys.readouterr()
    assert "resuming run" in captured.err
    run = json.loads(captured.out)
    assert len(runs_labelled(ApiClient(stack.api_url), "stuck")) == 1
    assert stack.read_object(run["files"][0]["key"]) == path.read_bytes()


# --- interrupted uploads --------------------------------------------------------------------

# The CLI with its disk reads slowed down (as by a slow link), so it can be killed midway.
SLOW_CLI = (
    "-c",
    "import sys, time, inlet.files as f\n"
    "read = f.FileSlice.read\n"
    "def slow(self, size=-1):\n"
    "    time.sleep(0.1)\n"
    "    return read(self, size)\n"
    "f.FileSlice.read = slow\n"
    "from inlet.cli import main\n"
    "sys.exit(main())\n",
)


@dataclass(frozen=True)
class Interrupted:
    run_id: str
    part_count: int
    returncode: int
    stderr: str


def _interrupt_midway(
    env: dict[str, str], path: Path, label: str, sig: int = signal.SIGKILL
) -> Interrupted:
    """Start an upload and send it `sig` once some but not all of its parts are in."""
    args = ["upload", str(path), "--type", "app_bundle", "--label", label, "--parallel", "2"]
    process = subprocess.Popen(
        [sys.executable, *SLOW_CLI, *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    api = ApiClient(env["INLET_API_URL"])
    state_dir = Path(env["INLET_STATE_DIR"])
    try:
        deadline = time.monotonic() + 120
        stored: list[Any] = []
        while len(stored) < 2 and time.monotonic() < deadline:
            assert process.poll() is None, "the upload ended before it could be interrupted"
            saved = list(state_dir.glob("*.json"))
            if saved:
                state = json.loads(saved[0].read_text())
                stored = api.list_parts(state["run_id"], state["files"][0]["file_id"])
            time.sleep(0.05)
        assert len(stored) >= 2
    finally:
        process.send_signal(sig)
        _, stderr = process.communicate(timeout=60)
    file = state["files"][0]
    return Interrupted(state["run_id"], file["part_count"], process.returncode, stderr)


@pytest.mark.parametrize("how", ["same-command", "resume-flag"])
def test_killed_upload_resumes_to_identical_bytes(
    cli_env: dict[str, str], stack: Stack, tmp_path: Path, how: str
) -> None:
    path = make_file(tmp_path / "interrupted.bin", 40 * MiB)
    label = f"killed-{how}"
    killed = _interrupt_midway(cli_env, path, label)
    run_id, api = killed.run_id, ApiClient(stack.api_url)
    assert len(api.list_parts(run_id, api.get_run(run_id)["files"][0]["id"])) < killed.part_count

    if how == "same-command":
        args = ["upload", str(path), "--type", "app_bundle", "--label", label, "--json"]
    else:
        args = ["upload", "--resume", run_id, str(path), "--json"]
    result = run_cli(cli_env, *args)

    assert result.returncode == 0, result.stderr
    assert f"resuming run {run_id}" in result.stderr
    run = json.loads(result.stdout)
    assert run["id"] == run_id
    assert [r["id"] for r in runs_labelled(api, label)] == [run_id]
    assert sha256(stack.read_object(run["files"][0]["key"])) == sha256(path.read_bytes())


def test_ctrl_c_exits_130_with_a_resume_hint(
    cli_env: dict[str, str], stack: Stack, tmp_path: Path
) -> None:
    path = make_file(tmp_path / "interrupted.bin", 40 * MiB)
    stopped = _interrupt_midway(cli_env, path, "ctrl-c", signal.SIGINT)
    assert stopped.returncode == 130
    assert f"interrupted; run the same command again to resume run {stopped.run_id}" in (
        one_line_error(stopped.stderr)
    )
    resumed = run_cli(cli_env, "upload", str(path), "--type", "app_bundle", "--label", "ctrl-c")
    assert resumed.returncode == 0, resumed.stderr
    assert f"resuming run {stopped.run_id}" in resumed.stderr


def test_resume_refuses_other_files(cli_env: dict[str, str], tmp_path: Path) -> None:
    path = make_file(tmp_path / "first.bin", 40 * MiB)
    run_id = _interrupt_midway(cli_env, path, "other-files").run_id
    other = make_file(tmp_path / "other.bin", 10)

    result = run_cli(cli_env, "upload", "--resume", run_id, str(other))
    assert result.returncode == 4
    assert "other files" in one_line_error(result.stderr)

    unknown = run_cli(cli_env, "upload", "--resume", str(uuid.uuid4()), str(path))
    assert unknown.returncode == 4
    assert "no saved state" in one_line_error(unknown.stderr)


# --- failed runs and exit codes -------------------------------------------------------------


def test_file_changed_after_hashing_fails_the_run(
    cli_env: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The declared sha256 is verified by the server: `--wait` reports the mismatch, exit 1."""

    def hash_then_modify(path: Path, on_bytes: Callable[[int], None], stop: threading.Event) -> str:
        digest = sha256_file(path, on_bytes, stop)
        with path.open("r+b") as stream:  # same size, other bytes
            stream.write(b"changed!")
        return digest

    monkeypatch.setattr(inlet.plan, "sha256_file", hash_then_modify)
    path = make_file(tmp_path / "moving.bin", 6 * MiB)

    code = main(
        ["upload", str(path), "--type", "app_bundle", "--wait", "--wait-timeout", "60", "--json"]
    )

    captured = capsys.readouterr()
    run = json.loads(captured.out)
    assert code == 1
    assert "moving.bin: checksum_mismatch" in captured.err
    assert run["status"] == "failed"
    assert run["files"][0]["error"]["code"] == "checksum_mismatch"


# Above this the client creates a file without a sha256 and hashes it while its parts go.
LARGE = inlet.plan.HASH_FIRST_MAX + 4 * MiB


def test_a_large_file_declares_its_sha256_at_complete_and_is_stored(
    cli_env: dict[str, str],
    stack: Stack,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    created: list[Any] = []
    create_upload = ApiClient.create_upload

    def recording_create(self: ApiClient, *args: Any) -> Any:
        created.append(args[1])
        return create_upload(self, *args)

    monkeypatch.setattr(ApiClient, "create_upload", recording_create)
    path = make_file(tmp_path / "large.bin", LARGE)
    args = ["upload", str(path), "--type", "app_bundle", "--wait", "--wait-timeout", "60", "--json"]

    assert main(args, retry=NO_WAIT) == 0, capsys.readouterr().err
    [[spec]] = created
    assert "sha256" not in spec, "created before it was hashed"
    [file] = json.loads(capsys.readouterr().out)["files"]
    assert file["status"] == "stored"
    assert file["declared_sha256"] == file["sha256"] == sha256(path.read_bytes())
    assert sha256(stack.read_object(file["key"])) == file["sha256"]


def test_a_sha256_declared_at_complete_that_differs_fails_the_run(
    cli_env: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The hash read other bytes than the parts did (a change the client could not see): the
    server verifies the sha256 declared at `complete`, and `--wait` exits 1 naming the file."""
    other = tmp_path / "other.bin"

    def hash_other_bytes(path: Path, on_bytes: Callable[[int], None], stop: threading.Event) -> str:
        other.write_bytes(path.read_bytes()[:-8] + b"changed!")  # same size, other bytes
        return sha256_file(other, on_bytes, stop)

    monkeypatch.setattr(inlet.upload, "sha256_file", hash_other_bytes)
    path = make_file(tmp_path / "moving.bin", LARGE)
    args = ["upload", str(path), "--type", "app_bundle", "--wait", "--wait-timeout", "60", "--json"]

    assert main(args, retry=NO_WAIT) == 1
    captured = capsys.readouterr()
    assert "moving.bin: checksum_mismatch" in captured.err
    [file] = json.loads(captured.out)["files"]
    assert file["error"]["code"] == "checksum_mismatch"
    assert file["declared_sha256"] == sha256(other.read_bytes())


def test_usage_and_api_errors_have_exit_codes(cli_env: dict[str, str], tmp_path: Path) -> None:
    present = make_file(tmp_path / "present.bin", 10)

    unknown_type = run_cli(cli_env, "upload", str(present), "--type", "no_such_type")
    assert unknown_type.returncode == 3
    assert "unknown run type" in one_line_error(unknown_type.stderr)

    missing = run_cli(cli_env, "upload", str(tmp_path / "absent.bin"), "--type", "app_bundle")
    assert missing.returncode == 2
    assert "absent.bin" in one_line_error(missing.stderr)

    no_type = run_cli(cli_env, "upload", str(present))
    assert no_type.returncode == 2
    assert "--type" in one_line_error(no_type.stderr)

    bad_parallel = run_cli(
        cli_env, "upload", str(present), "--type", "app_bundle", "--parallel", "0"
    )
    assert bad_parallel.returncode == 2

    not_found = run_cli(cli_env, "run", str(uuid.uuid4()))
    assert not_found.returncode == 3
    assert "not_found" in one_line_error(not_found.stderr)


def test_unreachable_api_exits_3(cli_env: dict[str, str], tmp_path: Path) -> None:
    """After every retry (without the back-off, which the unit tests cover)."""
    nowhere = f"http://127.0.0.1:{free_port()}"
    present = make_file(tmp_path / "present.bin", 10)
    for args in (["health"], ["runs"], ["upload", str(present), "--type", "app_bundle"]):
        result = run_cli(cli_env, *args, "--api", nowhere, prefix=NO_WAIT_CLI)
        assert result.returncode == 3
        assert f"cannot reach the API at {nowhere}" in one_line_error(result.stderr)


# --- reading and cancelling runs ------------------------------------------------------------


def test_health_runs_run_and_cancel(cli_env: dict[str, str], stack: Stack) -> None:
    health = run_cli(cli_env, "health", "--json")
    assert health.returncode == 0
    assert json.loads(health.stdout)["checks"] == {"db": "ok", "storage": "ok"}
    assert run_cli(cli_env, "health").stdout.startswith("ok")

    created = requests.post(
        f"{stack.api_url}/v1/uploads",
        json={"type": "single_conf", "label": "to-cancel", "files": [{"name": "a", "size": 3}]},
        timeout=10,
    ).json()["run"]
    listed = run_cli(cli_env, "runs", "--type", "single_conf", "--status", "pending", "--json")
    assert listed.returncode == 0
    assert created["id"] in [r["id"] for r in json.loads(listed.stdout)["items"]]
    text = run_cli(cli_env, "runs", "--limit", "1").stdout.splitlines()
    assert text[0].startswith(created["id"])

    cancelled = run_cli(cli_env, "cancel", created["id"])
    assert (cancelled.returncode, cancelled.stdout.strip()) == (0, f"run {created['id']} cancelled")
    detail = run_cli(cli_env, "run", created["id"], "--json")
    assert json.loads(detail.stdout)["status"] == "cancelled"
    assert "status   cancelled" in run_cli(cli_env, "run", created["id"]).stdout


# --- downloads ------------------------------------------------------------------------------


def uploaded(env: dict[str, str], *paths: Path, label: str = "to-download") -> dict[str, Any]:
    """The run of `paths`, uploaded by the CLI and stored."""
    args = ["upload", *map(str, paths), "--type", "app_bundle", "--label", label, "--wait"]
    result = run_cli(env, *args, "--wait-timeout", "60", "--json")
    assert result.returncode == 0, result.stderr
    run: dict[str, Any] = json.loads(result.stdout)
    assert run["status"] == "stored"
    return run


def test_upload_then_download_every_byte_verified(cli_env: dict[str, str], tmp_path: Path) -> None:
    """A multipart file, a name with emoji and accents, and two files of the same name: each
    comes back byte for byte under a name of its own, verified, with progress bars drawn."""
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    paths = [
        make_file(tmp_path / "big.bin", 12 * MiB),
        make_file(tmp_path / "🦆 notes é.txt", 1000),
        make_file(tmp_path / "one" / "same.conf", 10),
        make_file(tmp_path / "two" / "same.conf", 20),
    ]
    run = uploaded(cli_env, *paths)
    out = tmp_path / "out"

    result = run_cli(cli_env | {"TTY_COMPATIBLE": "1"}, "download", run["id"], "--out", str(out))

    assert result.returncode == 0, result.stderr
    got = {p.name: p.read_bytes() for p in out.iterdir()}
    # Files created in one request may share a timestamp: which of the two is "(2)" is not set.
    same = sorted((paths[2].read_bytes(), paths[3].read_bytes()))
    first, second = same if got["same.conf"] == same[0] else same[::-1]
    expected = {
        "big.bin": paths[0].read_bytes(),
        "🦆 notes é.txt": paths[1].read_bytes(),
        "same.conf": first,
        "same (2).conf": second,
    }
    assert got == expected
    assert sorted(result.stdout.splitlines()) == sorted(
        f"{sha256(data)}  {out / name}" for name, data in expected.items()
    )
    # sha256sum's format: the files check again with it
    check = subprocess.run(
        ["sha256sum", "-c", "-"], input=result.stdout, capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stdout + check.stderr
    # the bars: the total and a line per file, drawn on stderr for a terminal
    assert "download" in result.stderr
    for name in ("big.bin", "🦆 notes é.txt", "same.conf"):
        assert name in result.stderr
    assert "12.0/12.0 MiB" in result.stderr

    again = run_cli(cli_env, "download", run["id"], "same.conf", "--out", str(out))
    assert again.returncode == 2
    assert f"{out / 'same.conf'} exists (and 1 more); --force replaces it" in one_line_error(
        again.stderr
    )
    forced = run_cli(cli_env, "download", run["id"], "same.conf", "--out", str(out), "--force")
    assert forced.returncode == 0, forced.stderr
    assert forced.stderr == "", "no progress when stderr is not a terminal"


class TamperedBody(InterceptingAdapter):
    """The bucket's answer to a GET, with its first byte changed on the way: the same length."""

    def intercept(self, request: requests.PreparedRequest, send: Send) -> requests.Response:
        response = send()
        if request.method == "GET" and response.ok:
            data = response.raw.read()
            tampered = bytes([data[0] ^ 0xFF]) + data[1:]
            response.raw = urllib3.HTTPResponse(
                body=io.BytesIO(tampered), status=200, preload_content=False
            )
        return response


def test_bytes_that_are_not_the_recorded_ones_are_not_kept(
    cli_env: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = make_file(tmp_path / "precious.conf", 4096)
    run = uploaded(cli_env, path)
    use_download_adapter(monkeypatch, TamperedBody())
    out = tmp_path / "out"

    assert main(["download", run["id"], "--out", str(out)], retry=NO_WAIT) == 6

    assert list(out.iterdir()) == [], "neither the file nor its temporary file is left"
    captured = capsys.readouterr()
    assert captured.out == ""
    error = one_line_error(captured.err)
    assert error.startswith("inlet: precious.conf: the bytes from the bucket are not the recorded")
    tampered = bytes([path.read_bytes()[0] ^ 0xFF]) + path.read_bytes()[1:]
    assert f"sha256 expected {sha256(path.read_bytes())}, got {sha256(tampered)}" in error


def use_download_adapter(monkeypatch: pytest.MonkeyPatch, adapter: HTTPAdapter) -> None:
    """The downloads' presigned-URL session goes through `adapter`."""

    def session(parallel: int) -> requests.Session:
        through = requests.Session()
        through.mount("http://", adapter)
        return through

    monkeypatch.setattr(inlet.download, "s3_session", session)


class ExpiredOnce(InterceptingAdapter):
    """Answers the first GET as S3 does an expired URL."""

    def __init__(self) -> None:
        super().__init__()
        self.refused: list[str] = []

    def intercept(self, request: requests.PreparedRequest, send: Send) -> requests.Response:
        if not self.refused:
            self.refused.append(request.url or "")
            body = b"<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>"
            return canned(request, 403, body)
        return send()


def test_an_expired_download_url_is_asked_for_again(
    cli_env: dict[str, str],
    stack: Stack,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = make_file(tmp_path / "late.bin", 3000)
    run = uploaded(cli_env, path)
    adapter = ExpiredOnce()
    use_download_adapter(monkeypatch, adapter)
    links: list[Any] = []
    download = ApiClient.download

    def recording_download(self: ApiClient, run_id: str, file_id: str) -> Any:
        links.append(download(self, run_id, file_id))
        return links[-1]

    monkeypatch.setattr(ApiClient, "download", recording_download)

    assert main(["download", run["id"], "--out", str(tmp_path / "out")], retry=NO_WAIT) == 0
    assert (tmp_path / "out" / "late.bin").read_bytes() == path.read_bytes()
    assert [link["url"] for link in links[:1]] == adapter.refused
    assert len(links) == 2
    assert links[0]["version_id"] == links[1]["version_id"] == run["files"][0]["version_id"]


def test_an_overwritten_key_still_downloads_the_recorded_version(
    cli_env: dict[str, str], stack: Stack, tmp_path: Path
) -> None:
    """Other bytes written over the key in the (versioned) bucket: the download reads the
    version that was verified, never the newer one."""
    path = make_file(tmp_path / "kept.conf", 2048)
    run = uploaded(cli_env, path)
    s3 = make_s3_client(Settings(s3_endpoint_url=stack.s3_url))
    s3.put_object(Bucket=STACK_BUCKET, Key=run["files"][0]["key"], Body=b"someone else's bytes")

    result = run_cli(cli_env, "download", run["id"], "--out", str(tmp_path / "out"), "--json")

    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "kept.conf").read_bytes() == path.read_bytes()
    [file] = json.loads(result.stdout)["files"]
    assert (file["version_id"], file["error"]) == (run["files"][0]["version_id"], None)


def test_a_pending_file_cannot_be_downloaded(cli_env: dict[str, str], stack: Stack) -> None:
    created = requests.post(
        f"{stack.api_url}/v1/uploads",
        json={"type": "single_conf", "files": [{"name": "not-yet.conf", "size": 3}]},
        timeout=10,
    ).json()["run"]

    result = run_cli(cli_env, "download", created["id"])

    assert result.returncode == 3
    error = one_line_error(result.stderr)
    assert error.startswith("inlet: not-yet.conf: ")
    assert "(file_pending, HTTP 409)" in error

    unknown = run_cli(cli_env, "download", str(uuid.uuid4()))
    assert unknown.returncode == 3
    assert "not_found" in one_line_error(unknown.stderr)


def test_upload_wait_long_polls(
    cli_env: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`--wait` asks the server to hold each request (`?wait=`) instead of polling."""
    asked: list[int | None] = []
    get_run = ApiClient.get_run

    def recording_get_run(self: ApiClient, run_id: str, wait: int | None = None) -> Any:
        asked.append(wait)
        return get_run(self, run_id, wait)

    monkeypatch.setattr(ApiClient, "get_run", recording_get_run)
    path = make_file(tmp_path / "waited.bin", 8 * MiB)
    args = ["upload", str(path), "--type", "app_bundle", "--wait", "--wait-timeout", "60"]

    assert main([*args, "--json"], retry=NO_WAIT) == 0, capsys.readouterr().err
    assert json.loads(capsys.readouterr().out)["status"] == "stored"
    assert asked
    assert all(wait == 20 for wait in asked), asked
