"""The `inlet` client's parts that need no server: state, file slices, signing, parsing."""

from __future__ import annotations

import hashlib
import stat
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from requests.adapters import HTTPAdapter

from inlet.api import ApiClient, ApiError
from inlet.cli import build_parser, human_size
from inlet.files import Cancelled, FileSlice, LocalFile, content_type, sha256_file
from inlet.state import FileState, StateStore, UploadState, state_key
from inlet.upload import PartSigner, RetryPolicy, s3_session


def test_sha256_file_and_slices(tmp_path: Path) -> None:
    data = bytes(range(256)) * 10_000
    path = tmp_path / "data.bin"
    path.write_bytes(data)
    seen: list[int] = []
    assert sha256_file(path, seen.append, threading.Event()) == hashlib.sha256(data).hexdigest()
    assert sum(seen) == len(data)

    with FileSlice(path, 1000, 5000, seen.append, threading.Event()) as body:
        assert len(body) == 5000
        assert body.read(4096) + body.read(4096) + body.read() == data[1000:6000]
        assert body.sent == 5000


def test_slice_stops_and_notices_a_shrunk_file(tmp_path: Path) -> None:
    path = tmp_path / "data.bin"
    path.write_bytes(b"x" * 100)
    stop = threading.Event()
    with FileSlice(path, 0, 200, lambda n: None, stop) as body:
        with pytest.raises(OSError, match="shrank"):
            body.read()
        stop.set()
        with pytest.raises(Cancelled):
            body.read(10)


def test_state_key_follows_every_input(tmp_path: Path) -> None:
    file = LocalFile(path=tmp_path / "a", size=10, mtime_ns=1)
    key = state_key("http://api", "ds_etc", None, None, [file])
    assert key == state_key("http://api", "ds_etc", None, None, [file])
    touched = LocalFile(path=file.path, size=10, mtime_ns=2)
    for other in (
        state_key("http://api", "ds_etc", None, None, [touched]),
        state_key("http://api", "app_bundle", None, None, [file]),
        state_key("http://api", "ds_etc", "label", None, [file]),
        state_key("http://other", "ds_etc", None, None, [file]),
    ):
        assert other != key


def file_state(**changes: Any) -> FileState:
    values: dict[str, Any] = {
        "path": "/data/big.bin",
        "size": 12,
        "mtime_ns": 1,
        "sha256": "0" * 64,
        "file_id": "f1",
        "method": "multipart",
        "content_type": "application/octet-stream",
        "part_size": 5,
        "part_count": 3,
    }
    return FileState(**(values | changes))


def test_state_store_round_trip(tmp_path: Path) -> None:
    store = StateStore(tmp_path / "state")
    state = UploadState(key="k1", api_url="http://api", run_id="r1", files=[file_state()])
    store.save(state)
    saved = tmp_path / "state" / "k1.json"
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600, "it holds presigned URLs"
    assert store.load("k1") == state
    assert store.find_run("r1") == state
    assert store.find_run("r2") is None
    store.delete(state)
    assert store.load("k1") is None
    (tmp_path / "state" / "k2.json").write_text("{not json")
    assert store.load("k2") is None


def test_part_ranges() -> None:
    file = file_state()
    assert [file.part_range(n) for n in (1, 2, 3)] == [(0, 5), (5, 5), (10, 2)]


class FakeApi:
    def __init__(self) -> None:
        self.calls: list[list[int]] = []

    def sign_parts(self, run_id: str, file_id: str, numbers: list[int]) -> list[dict[str, Any]]:
        self.calls.append(numbers)
        expires = (datetime.now(UTC) + timedelta(minutes=15)).isoformat()
        return [
            {"part_number": n, "url": f"u{n}.{len(self.calls)}", "expires_at": expires}
            for n in numbers
        ]


def test_part_signer_batches_and_resigns() -> None:
    api = FakeApi()
    signer = PartSigner(api, "r1", file_state(part_count=30), list(range(1, 31)), [])  # type: ignore[arg-type]
    assert signer.url(1)["url"] == "u1.1"
    assert api.calls == [list(range(1, 21))]
    assert signer.url(20)["url"] == "u20.1"
    assert signer.url(21)["url"] == "u21.2"
    assert api.calls[1] == list(range(21, 31))

    signer.refused(signer.url(5))  # S3 said 403: that URL and its batch are stale
    assert signer.url(5)["url"] == "u5.3"
    assert api.calls[2] == list(range(5, 21))


def test_part_signer_resigns_urls_about_to_expire() -> None:
    api = FakeApi()
    soon = (datetime.now(UTC) + timedelta(seconds=5)).isoformat()
    stale = [{"part_number": 1, "url": "old", "expires_at": soon}]
    signer = PartSigner(api, "r1", file_state(), [1, 2, 3], stale)  # type: ignore[arg-type]
    assert signer.url(1)["url"] == "u1.1"


def test_retry_delays_grow_and_are_capped() -> None:
    policy = RetryPolicy(backoff=1.0, max_backoff=4.0)
    assert 0.5 <= policy.delay(1) <= 1.0
    assert 1.0 <= policy.delay(2) <= 2.0
    assert 2.0 <= policy.delay(10) <= 4.0


@pytest.mark.parametrize(
    ("name", "expected"),
    [("x.tgz", "application/gzip"), ("a.txt", "text/plain"), ("blob", "application/octet-stream")],
)
def test_content_type(name: str, expected: str) -> None:
    assert content_type(Path(name)) == expected


def test_human_size() -> None:
    assert [human_size(n) for n in (0, 1023, 1024, 5 * 1024**3)] == [
        "0 B",
        "1023 B",
        "1.0 KiB",
        "5.0 GiB",
    ]


@pytest.mark.parametrize(
    "argv",
    [[], ["upload"], ["upload", "f", "--parallel", "0"], ["runs", "--limit", "x"], ["nope"]],
)
def test_bad_arguments_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(argv)
    assert exited.value.code == 2


def test_options_before_or_after_the_command() -> None:
    parser = build_parser()
    assert parser.parse_args(["--api", "http://a", "health"]).api == "http://a"
    assert parser.parse_args(["health", "--api", "http://b", "--json"]).api == "http://b"


class Recorder(HTTPAdapter):
    def __init__(self) -> None:
        super().__init__()
        self.headers: list[dict[str, str]] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        self.headers.append(dict(request.headers))
        response = requests.Response()
        response.status_code, response._content = 401, b'{"error": {"code": "unauthorized", '
        response._content += b'"message": "bad token", "details": []}}'
        return response


def test_token_goes_to_the_api_as_a_bearer_header() -> None:
    api = ApiClient("http://api.invalid", token="inlet_secret")
    recorder = Recorder()
    api.session.mount("http://", recorder)
    with pytest.raises(ApiError) as refused:
        api.get_run("r1")
    assert recorder.headers[0]["Authorization"] == "Bearer inlet_secret"
    assert (refused.value.status, refused.value.code) == (401, "unauthorized")
    assert "Authorization" not in s3_session(4).headers, "presigned URLs never carry it"
