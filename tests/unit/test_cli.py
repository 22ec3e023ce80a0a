"""The `inlet` client's parts that need no server: state, file slices, signing, parsing, the
retry rule, error codes, and its contract checked against docs/openapi.json."""

from __future__ import annotations

import ast
import functools
import hashlib
import io
import json
import operator
import socket
import stat
import sys
import threading
import time
import types
import typing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import pytest
import requests
import urllib3
from requests.adapters import HTTPAdapter
from rich.console import Console

import inlet
import inlet.api
import inlet.cli
import inlet.download
import inlet.text
from inlet.api import ApiClient, ApiError, RunPage
from inlet.cli import build_parser, human_size
from inlet.files import Cancelled, FileSlice, LocalFile, content_type, sha256_file
from inlet.plan import _status
from inlet.progress import Bars, Quiet
from inlet.retry import (
    API_RETRY,
    TRANSFER_RETRY,
    RetryPolicy,
    never_sent,
    repeatable,
    retry_after,
    retry_answer,
    retry_error,
    retryable_status,
)
from inlet.state import FileState, StateStore, UploadState, state_key
from inlet.upload import SIGN_BATCH, PartSigner, Uploader, UploadError, s3_session
from tests.support.http import InterceptingAdapter, Send, canned

ROOT = Path(__file__).resolve().parents[2]
NO_WAIT = RetryPolicy(base_delay=0)


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
    policy = RetryPolicy(base_delay=1.0, max_delay=4.0)
    assert 0.5 <= policy.delay(1) <= 1.0
    assert 1.0 <= policy.delay(2) <= 2.0
    assert 2.0 <= policy.delay(10) <= 4.0
    assert NO_WAIT.delay(3) == 0
    assert (API_RETRY.attempts, TRANSFER_RETRY.attempts) == (4, 5)


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
    [
        [],
        ["upload"],
        ["upload", "f", "--parallel", "0"],
        ["runs", "--limit", "x"],
        ["nope"],
        ["admin", "list-tokens"],  # operators run `python -m local.admin` from a checkout
    ],
)
def test_bad_arguments_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(argv)
    assert exited.value.code == 2


def test_options_before_or_after_the_command() -> None:
    parser = build_parser()
    assert parser.parse_args(["--api", "http://a", "health"]).api == "http://a"
    assert parser.parse_args(["health", "--api", "http://b", "--json"]).api == "http://b"


class Recorder(InterceptingAdapter):
    def __init__(self) -> None:
        super().__init__()
        self.headers: list[dict[str, str]] = []

    def intercept(self, request: requests.PreparedRequest, send: Send) -> requests.Response:
        self.headers.append(dict(request.headers))
        body = b'{"error": {"code": "unauthorized", "message": "bad token", "details": []}}'
        return canned(request, 401, body)


def test_token_goes_to_the_api_as_a_bearer_header() -> None:
    api = ApiClient("http://api.invalid", token="inlet_secret")
    recorder = Recorder()
    api.session.mount("http://", recorder)
    with pytest.raises(ApiError) as refused:
        api.get_run("r1")
    assert recorder.headers[0]["Authorization"] == "Bearer inlet_secret"
    assert (refused.value.status, refused.value.code) == (401, "unauthorized")
    assert "Authorization" not in s3_session(4).headers, "presigned URLs never carry it"


# --- the one retry rule ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "again"),
    [
        (200, False),
        (400, False),
        (401, False),
        (403, False),
        (404, False),
        (408, True),
        (409, False),
        (413, False),
        (422, False),
        (429, True),
        (500, True),
        (502, True),
        (503, True),
        (504, True),
        (599, True),
    ],
)
def test_retried_statuses(status: int, again: bool) -> None:
    assert retryable_status(status) is again
    assert retry_answer(status, repeatable=True) is again
    # It reached the server: never twice, but for a 429, which the server did not act on.
    assert retry_answer(status, repeatable=False) is (status == 429)


def test_repeatable_methods() -> None:
    assert all(map(repeatable, ["GET", "HEAD", "PUT", "DELETE", "get"]))
    assert not repeatable("POST"), "a POST says itself whether it may be sent twice"


def refused_connection() -> requests.ConnectionError:
    """What requests raises when nothing listens on the port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    session = requests.Session()
    session.mount("http://", HTTPAdapter(max_retries=0))
    with pytest.raises(requests.ConnectionError) as raised:
        session.get(f"http://127.0.0.1:{port}/", timeout=5)
    return raised.value


def test_retried_errors() -> None:
    nobody = refused_connection()
    exc: BaseException
    for exc in (nobody, requests.ConnectTimeout()):
        assert never_sent(exc)
        assert retry_error(exc, repeatable=True)
        assert retry_error(exc, repeatable=False), "nothing reached the server"
    in_transit = (
        requests.ReadTimeout(),
        requests.ConnectionError("Connection reset by peer"),
        requests.exceptions.ChunkedEncodingError(),
    )
    for exc in in_transit:
        assert not never_sent(exc)
        assert retry_error(exc, repeatable=True)
        assert not retry_error(exc, repeatable=False), "it may have reached the server"
    for exc in (requests.exceptions.InvalidURL(), requests.TooManyRedirects(), ValueError()):
        assert not retry_error(exc, repeatable=True)


Answer = int | BaseException | tuple[int, dict[str, str]]


class Scripted(InterceptingAdapter):
    """Answers request n with `answers[n]` (the last one again and again): a status, with a JSON
    body (an ErrorBody when >= 400), or an exception to raise. Records each request's method."""

    def __init__(self, *answers: Answer, body: object = None) -> None:
        super().__init__()
        self.answers = list(answers)
        self.body = body
        self.methods: list[str] = []

    def intercept(self, request: requests.PreparedRequest, send: Send) -> requests.Response:
        answer = self.answers[min(len(self.methods), len(self.answers) - 1)]
        self.methods.append(request.method or "")
        if isinstance(answer, BaseException):
            raise answer
        status, headers = answer if isinstance(answer, tuple) else (answer, {})
        body = self.body
        if status >= 400:
            code = {404: "not_found", 409: "run_not_pending", 429: "quota_exceeded"}.get(
                status, "unavailable"
            )
            body = {"error": {"code": code, "message": f"HTTP {status}", "details": []}}
        return canned(request, status, json.dumps(body).encode(), headers)


def scripted_api(*answers: Answer, body: object = None, retry: RetryPolicy = NO_WAIT) -> Any:
    api = ApiClient("http://api.invalid", retry=retry)
    adapter = Scripted(*answers, body=body)
    api.session.mount("http://", adapter)
    return api, adapter


EMPTY_PAGE: RunPage = {"items": [], "next_cursor": None}


def test_api_get_is_retried_on_5xx_and_429() -> None:
    api, adapter = scripted_api(503, 429, 502, 200, body=EMPTY_PAGE)
    assert api.list_runs(None, None, 20, None) == EMPTY_PAGE
    assert adapter.methods == ["GET"] * 4

    api, adapter = scripted_api(503)
    with pytest.raises(ApiError) as failed:
        api.list_runs(None, None, 20, None)
    assert (failed.value.status, failed.value.code) == (503, "unavailable")
    assert len(adapter.methods) == NO_WAIT.attempts


def test_api_refusals_and_run_creations_that_arrived_are_not_retried() -> None:
    api, adapter = scripted_api(404)
    with pytest.raises(ApiError) as missing:
        api.get_run("r1")
    assert missing.value.means("not_found")
    assert adapter.methods == ["GET"]

    for answer in (503, requests.ReadTimeout("read timed out")):
        api, adapter = scripted_api(answer)
        with pytest.raises(ApiError):
            api.create_upload("app_bundle", [], None, None)
        assert adapter.methods == ["POST"], "a run is never created twice"


def test_signing_and_completing_are_repeatable() -> None:
    signed = {"parts": [{"part_number": 1, "url": "u", "expires_at": "t"}]}
    api, adapter = scripted_api(503, requests.ReadTimeout("read timed out"), 200, body=signed)
    assert api.sign_parts("r1", "f1", [1]) == signed["parts"]
    assert adapter.methods == ["POST"] * 3

    api, adapter = scripted_api(requests.ReadTimeout("read timed out"), 409)
    with pytest.raises(ApiError):
        api.complete("r1", "f1", {1: "etag"}, "0" * 64)
    assert adapter.methods == ["POST"] * 2


def test_api_connection_failures_are_retried_for_any_method() -> None:
    nobody = refused_connection()
    api, adapter = scripted_api(nobody, nobody, 201, body={"run": {}, "files": []})
    assert api.create_upload("app_bundle", [], None, None) == {"run": {}, "files": []}
    assert adapter.methods == ["POST"] * 3

    api, adapter = scripted_api(nobody)
    with pytest.raises(ApiError) as unreachable:
        api.get_run("r1")
    assert (unreachable.value.status, unreachable.value.code) == (0, "unreachable")
    assert "cannot reach the API at http://api.invalid" in str(unreachable.value)
    assert len(adapter.methods) == NO_WAIT.attempts


def test_api_backs_off_by_its_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)
    api, _ = scripted_api(503, retry=RetryPolicy(attempts=3, base_delay=1.0, max_delay=1.5))
    with pytest.raises(ApiError):
        api.get_run("r1")
    assert len(slept) == 2
    assert 0.5 <= slept[0] <= 1.0
    assert 0.75 <= slept[1] <= 1.5
    assert ApiClient("http://api.invalid").retry == API_RETRY


def put_file(tmp_path: Path, **changes: Any) -> FileState:
    path = tmp_path / "small.conf"
    path.write_bytes(b"x" * 12)
    values: dict[str, Any] = {"path": str(path), "method": "PUT", "put_url": "http://bucket/k"}
    return file_state(**(values | changes))


def bucket(*answers: Answer) -> tuple[requests.Session, Scripted]:
    adapter = Scripted(*answers)
    session = requests.Session()
    session.mount("http://", adapter)
    return session, adapter


def test_bucket_puts_follow_the_same_rule(tmp_path: Path) -> None:
    ok = (200, {"ETag": '"abc"'})
    scripts: list[list[Answer]] = [
        [500, 429, 408, ok],
        [refused_connection(), requests.ReadTimeout(), ok],
    ]
    for answers in scripts:
        file = put_file(tmp_path)
        session, adapter = bucket(*answers)
        done: list[FileState] = []
        Uploader(FakeApi(), "r1", 1, Quiet(), NO_WAIT, session).upload(  # type: ignore[arg-type]
            [file], {}, done.append
        )
        assert done == [file]
        assert file.completed
        assert adapter.methods == ["PUT"] * len(answers)

    session, adapter = bucket(400)
    with pytest.raises(UploadError, match=r"small\.conf: HTTP 400"):
        Uploader(FakeApi(), "r1", 1, Quiet(), NO_WAIT, session).upload(  # type: ignore[arg-type]
            [put_file(tmp_path)], {}, lambda _: None
        )
    assert adapter.methods == ["PUT"], "a 4xx is final"

    session, adapter = bucket(503)
    with pytest.raises(UploadError, match=r"small\.conf: HTTP 503"):
        Uploader(FakeApi(), "r1", 1, Quiet(), NO_WAIT, session).upload(  # type: ignore[arg-type]
            [put_file(tmp_path)], {}, lambda _: None
        )
    assert len(adapter.methods) == NO_WAIT.attempts
    assert Uploader(FakeApi(), "r1", 1, Quiet()).retry == TRANSFER_RETRY  # type: ignore[arg-type]


class SigningFails(FakeApi):
    def sign_parts(self, run_id: str, file_id: str, numbers: list[int]) -> list[dict[str, Any]]:
        self.calls.append(numbers)
        raise ApiError(503, "unavailable", "database down")


def test_a_part_is_not_retried_on_top_of_the_api_clients_retries(tmp_path: Path) -> None:
    """Signing failed after the API client's own attempts: the part fails (resumable), rather
    than multiplying the attempts by a second layer."""
    session, adapter = bucket(500)
    file = file_state(path=str(put_file(tmp_path).path))
    api = SigningFails()
    uploader = Uploader(api, "r1", 1, Quiet(), NO_WAIT, session)  # type: ignore[arg-type]
    with pytest.raises(UploadError, match=r"part 1 of small\.conf: database down"):
        uploader.upload([file], {"f1": []}, lambda _: None)
    assert (len(api.calls), adapter.methods) == (1, [])


# --- error codes ----------------------------------------------------------------------------


class ResumingApi(FakeApi):
    """`list_parts` fails with `error`, as the API answers a resumed file it will not take."""

    def __init__(self, error: ApiError) -> None:
        super().__init__()
        self.error = error

    def list_parts(self, run_id: str, file_id: str) -> list[dict[str, Any]]:
        raise self.error


def test_resume_of_a_completed_upload_is_told_by_its_code(tmp_path: Path) -> None:
    session, adapter = bucket(500)
    file = file_state(path=str(put_file(tmp_path).path))
    api = ResumingApi(ApiError(409, "upload_completed", "already completed"))
    done: list[FileState] = []
    Uploader(api, "r1", 1, Quiet(), NO_WAIT, session).upload([file], {}, done.append)  # type: ignore[arg-type]
    assert (file.completed, done, adapter.methods) == (True, [file], [])


@pytest.mark.parametrize("code", ["run_not_pending", "upload_gone", "not_multipart", "http_error"])
def test_other_conflicts_are_not_taken_for_completion(tmp_path: Path, code: str) -> None:
    session, adapter = bucket(500)
    file = file_state(path=str(put_file(tmp_path).path))
    api = ResumingApi(ApiError(409, code, "refused"))
    with pytest.raises(ApiError) as refused_resume:
        Uploader(api, "r1", 1, Quiet(), NO_WAIT, session).upload([file], {}, lambda _: None)  # type: ignore[arg-type]
    assert refused_resume.value.code == code
    assert not file.completed
    assert adapter.methods == []


class CompletingApi(FakeApi):
    """The bucket holds every part already; `complete` fails with `error`."""

    def __init__(self, error: ApiError) -> None:
        super().__init__()
        self.error = error

    def list_parts(self, run_id: str, file_id: str) -> list[dict[str, Any]]:
        return [{"part_number": n, "etag": f"e{n}", "size": s} for n, s in [(1, 5), (2, 5), (3, 2)]]

    def complete(
        self, run_id: str, file_id: str, etags: dict[int, str], sha256: str
    ) -> dict[str, Any]:
        assert (etags, sha256) == ({1: "e1", 2: "e2", 3: "e3"}, "0" * 64)
        raise self.error


@pytest.mark.parametrize(("code", "done"), [("upload_completed", True), ("upload_gone", False)])
def test_a_repeated_complete_is_told_by_its_code(tmp_path: Path, code: str, done: bool) -> None:
    session, adapter = bucket(500)
    file = file_state(path=str(put_file(tmp_path).path))
    finished: list[FileState] = []
    uploader = Uploader(
        CompletingApi(ApiError(409, code, "x")),  # type: ignore[arg-type]
        "r1",
        1,
        Quiet(),
        NO_WAIT,
        session,
    )
    if done:
        uploader.upload([file], {}, finished.append)
    else:
        with pytest.raises(ApiError):
            uploader.upload([file], {}, finished.append)
    assert (file.completed, finished == [file], adapter.methods) == (done, done, [])


# --- 429: quotas and rate limits (Retry-After) ------------------------------------------------


def test_retry_after_is_read_in_seconds_or_as_a_date() -> None:
    now = datetime(2026, 11, 30, 12, 0, 0, tzinfo=UTC)
    assert retry_after("42") == 42.0
    assert retry_after(" 0 ") == 0.0
    assert retry_after("Mon, 30 Nov 2026 12:00:30 GMT", now) == 30.0
    assert retry_after("Mon, 30 Nov 2026 11:00:00 GMT", now) == 0.0, "a date past: at once"
    for unreadable in (None, "", "soon", "-5", "1.5"):
        assert retry_after(unreadable) is None


def test_a_policy_waits_what_the_server_asks_within_its_bound() -> None:
    policy = RetryPolicy(attempts=3, base_delay=0, max_retry_after=120)
    assert policy.wait(1, None) == 0
    assert 7 <= (policy.wait(1, 7.0) or 0) <= 7.5
    assert 120 <= (policy.wait(1, 120.0) or 0) <= 120.5
    assert policy.wait(1, 121.0) is None, "longer than the policy waits: final"
    assert API_RETRY.max_retry_after >= 60, "the API's own Retry-After is at most 60 s"


def quota(retry: str) -> tuple[int, dict[str, str]]:
    return (429, {"Retry-After": retry})


def test_a_refused_creation_waits_out_retry_after_then_is_sent_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A 429 created nothing: even creating a run is sent again, after the wait it asks for."""
    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)
    created: dict[str, Any] = {"run": {}, "files": []}
    api, adapter = scripted_api(quota("7"), 201, body=created)
    told: list[str] = []
    api.notice = told.append
    assert api.create_upload("app_bundle", [], None, None) == created
    assert adapter.methods == ["POST", "POST"]
    assert len(slept) == 1
    assert 7 <= slept[0] <= 7.5
    assert len(told) == 1
    assert "HTTP 429" in told[0]
    assert "waiting 7 s as the API asks" in told[0]
    assert "attempt 2 of" in told[0]


def test_waiting_out_429_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)
    api, adapter = scripted_api(quota("3"), retry=RetryPolicy(attempts=3, base_delay=0))
    with pytest.raises(ApiError) as refused:
        api.create_upload("app_bundle", [], None, None)
    assert adapter.methods == ["POST"] * 3, "at most the policy's attempts"
    assert len(slept) == 2
    assert (refused.value.status, refused.value.code) == (429, "quota_exceeded")
    assert refused.value.retry_after == 3

    # Asked to wait longer than the policy would: the answer is final at once.
    slept.clear()
    api, adapter = scripted_api(quota("3600"))
    with pytest.raises(ApiError) as later:
        api.create_upload("app_bundle", [], None, None)
    assert adapter.methods == ["POST"]
    assert slept == []
    assert later.value.retry_after == 3600


def test_a_429_without_retry_after_backs_off_as_before(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)
    api, adapter = scripted_api(429, 200, body=EMPTY_PAGE, retry=RetryPolicy(base_delay=1.0))
    api.notice = lambda message: pytest.fail(f"nothing asked to wait: {message}")
    assert api.list_runs(None, None, 20, None) == EMPTY_PAGE
    assert adapter.methods == ["GET", "GET"]
    assert len(slept) == 1
    assert 0.5 <= slept[0] <= 1.0


def test_the_cli_says_a_429_in_words_with_when_to_try_again(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def refuse(*args: Any) -> Any:
        raise ApiError(429, "quota_exceeded", "quota exceeded: 20 runs are pending", 42.0)

    monkeypatch.setattr(ApiClient, "list_runs", refuse)
    assert inlet.cli.main(["runs", "--api", "http://api.invalid"]) == 3
    err = capsys.readouterr().err
    assert err.startswith("inlet: quota exceeded: 20 runs are pending (quota_exceeded, HTTP 429)")
    assert "; try again after " in err
    assert "(in 42 s)" in err
    assert "inlet limits" in err


def test_the_cli_tells_each_wait_it_makes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Through `main`: the ApiClient it builds tells its waits on stderr."""
    monkeypatch.setattr(time, "sleep", lambda seconds: None)
    adapter = Scripted(quota("5"), 200, body=LIMITS)
    monkeypatch.setattr(requests.Session, "get_adapter", lambda self, url: adapter)
    assert inlet.cli.main(["limits", "--api", "http://api.invalid", "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out) == LIMITS
    assert "inlet: HTTP 429 (HTTP 429); waiting 5 s as the API asks" in captured.err


def limit_use(limit: int | None, used: int, **changes: Any) -> dict[str, Any]:
    remaining = None if limit is None else max(limit - used, 0)
    return {
        "limit": limit,
        "used": used,
        "remaining": remaining,
        "window_seconds": None,
        "retry_after": None,
        "setting": "INLET_QUOTA_X",
    } | changes


LIMITS = {
    "owner": "alice",
    "uploads": {
        "max_file_size": 50 * 2**30,
        "max_files_per_run": 100,
        "multipart_threshold": 16 * 2**20,
    },
    "pending_runs": limit_use(20, 3),
    "pending_bytes": limit_use(200 * 2**30, 2**30),
    "runs_per_minute": limit_use(60, 60, window_seconds=60, retry_after=12),
    "inbox_per_minute": None,
}


def test_limits_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(ApiClient, "limits", lambda self: LIMITS)
    assert inlet.cli.main(["limits", "--api", "http://api.invalid"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "owner            alice",
        "pending runs     3 of 20, 17 left",
        "pending bytes    1.0 GiB of 200.0 GiB, 199.0 GiB left",
        "runs per minute  60 of 60, none left: one frees up in 12 s",
        "largest file     50.0 GiB",
        "files per run    100",
        "multipart above  16.0 MiB",
    ]
    unlimited = LIMITS | {
        "owner": None,
        "pending_runs": limit_use(None, 3),
        "pending_bytes": limit_use(10, 10),
        "inbox_per_minute": limit_use(120, 0, window_seconds=60),
    }
    monkeypatch.setattr(ApiClient, "limits", lambda self: unlimited)
    assert inlet.cli.main(["limits", "--api", "http://api.invalid"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "owner            (one for all: no tokens)"
    assert lines[1] == "pending runs     3 (no limit)"
    assert lines[2] == (
        "pending bytes    10 B of 10 B, none left: wait for uploads to finish, or cancel some"
    )
    assert lines[4] == "inbox per minute 0 of 120, 120 left"


class RunLookup:
    def __init__(self, error: ApiError) -> None:
        self.error = error

    def get_run(self, run_id: str) -> dict[str, Any]:
        raise self.error


def test_a_forgotten_run_is_told_by_its_code() -> None:
    assert _status(RunLookup(ApiError(404, "not_found", "no run")), "r1") == "unknown"  # type: ignore[arg-type]
    with pytest.raises(ApiError):  # a 404 that is not the API's (a proxy's) is not "unknown"
        _status(RunLookup(ApiError(404, "http_error", "Not Found")), "r1")  # type: ignore[arg-type]


@pytest.mark.parametrize(("code", "hinted"), [("unauthorized", True), ("forbidden", False)])
def test_token_hint_follows_the_code(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], code: str, hinted: bool
) -> None:
    def refuse(*args: Any) -> Any:
        raise ApiError(401 if hinted else 403, code, "no")

    monkeypatch.setattr(ApiClient, "list_runs", refuse)
    assert inlet.cli.main(["runs", "--api", "http://api.invalid"]) == 3
    assert ("INLET_API_TOKEN" in capsys.readouterr().err) is hinted


# --- the contract: docs/openapi.json --------------------------------------------------------

OPENAPI = json.loads((ROOT / "docs" / "openapi.json").read_text())
SCHEMAS: dict[str, Any] = OPENAPI["components"]["schemas"]
# The client's TypedDicts, each named after the component schema it describes.
RESPONSES = [
    inlet.api.RunOut,
    inlet.api.RunDetail,
    inlet.api.FileOut,
    inlet.api.Incident,
    inlet.api.ErrorInfo,
    inlet.api.CreateUploadResponse,
    inlet.api.UploadFileOut,
    inlet.api.SingleUpload,
    inlet.api.MultipartUpload,
    inlet.api.SignedPart,
    inlet.api.SignPartsResponse,
    inlet.api.StoredPart,
    inlet.api.ListPartsResponse,
    inlet.api.RunPage,
    inlet.api.ErrorResponse,
    inlet.api.ErrorBody,
    inlet.api.ErrorDetail,
    inlet.api.Health,
    inlet.api.Limits,
    inlet.api.UploadRules,
    inlet.api.LimitUse,
    inlet.api.Download,
]
TYPED = {typed.__name__: typed for typed in [*RESPONSES, inlet.api.FileSpec]}


def annotation(schema: dict[str, Any]) -> Any:
    """The Python type a JSON schema describes, in the TypedDicts' terms."""
    if "$ref" in schema:
        return TYPED[schema["$ref"].rsplit("/", 1)[1]]
    if "anyOf" in schema:
        return functools.reduce(operator.or_, [annotation(s) for s in schema["anyOf"]])
    if "const" in schema:
        return Literal[schema["const"]]
    if "enum" in schema:
        return Literal[tuple(schema["enum"])]
    kind = schema["type"]
    if kind == "array":
        return list[annotation(schema["items"])]  # type: ignore[misc]
    if kind == "object":
        return dict[str, annotation(schema["additionalProperties"])]  # type: ignore[misc]
    return {"string": str, "integer": int, "boolean": bool, "null": types.NoneType}[kind]


@pytest.mark.parametrize("typed", RESPONSES, ids=lambda typed: typed.__name__)
def test_typeddicts_match_the_openapi_document(typed: Any) -> None:
    schema = SCHEMAS[typed.__name__]
    properties: dict[str, Any] = schema["properties"]
    assert set(typed.__annotations__) == set(properties)
    required = set(schema.get("required", []))
    always_sent = required | {k for k, v in properties.items() if "default" in v}
    assert required <= typed.__required_keys__ <= always_sent
    hints = typing.get_type_hints(typed)
    for key, prop in properties.items():
        expected = annotation(prop)
        if typing.get_origin(expected) is Literal and "enum" in prop:
            assert hints[key] in (str, expected), key  # a str, or exactly the enum
        else:
            assert hints[key] == expected, key


def test_request_typeddicts_match_the_openapi_document() -> None:
    schema = SCHEMAS["FileSpec"]
    assert set(inlet.api.FileSpec.__annotations__) == set(schema["properties"])
    assert set(schema["required"]) <= inlet.api.FileSpec.__required_keys__


def test_error_codes_are_the_contracts() -> None:
    assert typing.get_args(inlet.api.ErrorCode) == tuple(
        SCHEMAS["ErrorBody"]["properties"]["code"]["enum"]
    )


def test_sign_batch_is_within_what_the_server_takes() -> None:
    numbers = SCHEMAS["SignPartsRequest"]["properties"]["part_numbers"]
    assert numbers["minItems"] <= SIGN_BATCH == 20 <= numbers["maxItems"]


def test_responses_are_typed_as_the_document_says() -> None:
    """Each ApiClient method returns what the matching path's 2xx answer is."""
    returned = {
        ("get", "/health"): "Health",
        ("post", "/v1/uploads"): "CreateUploadResponse",
        ("delete", "/v1/uploads/{run_id}"): "RunOut",
        ("get", "/v1/uploads/{run_id}/files/{file_id}/parts"): "ListPartsResponse",
        ("post", "/v1/uploads/{run_id}/files/{file_id}/parts"): "SignPartsResponse",
        ("post", "/v1/uploads/{run_id}/files/{file_id}/complete"): "FileOut",
        ("get", "/v1/runs"): "RunPage",
        ("get", "/v1/runs/{run_id}"): "RunDetail",
        ("get", "/v1/limits"): "Limits",
        ("get", "/v1/runs/{run_id}/files/{file_id}/download"): "Download",
    }
    for (method, path), name in returned.items():
        answers = OPENAPI["paths"][path][method]["responses"]
        ok = next(body for status, body in answers.items() if status.startswith("2"))
        assert ok["content"]["application/json"]["schema"] == {
            "$ref": f"#/components/schemas/{name}"
        }
    hints = {
        name: typing.get_type_hints(getattr(ApiClient, name))["return"]
        for name in (
            "health",
            "create_upload",
            "cancel",
            "complete",
            "list_runs",
            "get_run",
            "limits",
            "download",
        )
    }
    assert hints == {
        "health": inlet.api.Health,
        "create_upload": inlet.api.CreateUploadResponse,
        "cancel": inlet.api.RunOut,
        "complete": inlet.api.FileOut,
        "list_runs": inlet.api.RunPage,
        "get_run": inlet.api.RunDetail,
        "limits": inlet.api.Limits,
        "download": inlet.api.Download,
    }


# --- the client stands alone ----------------------------------------------------------------


def test_the_client_imports_nothing_from_the_repository() -> None:
    """Only the standard library, requests (and its urllib3), rich and `inlet` itself: the
    client works installed from a wheel, without the server's code."""
    allowed = set(sys.stdlib_module_names) | {"requests", "urllib3", "rich", "inlet"}
    package = Path(inlet.__file__).parent
    for source in sorted(package.rglob("*.py")):
        tree = ast.parse(source.read_text(), str(source))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                assert node.level == 0, f"{source.name}: relative import"
                names = [node.module or ""]
            else:
                if isinstance(node, ast.Attribute) and node.attr == "path":
                    assert not (isinstance(node.value, ast.Name) and node.value.id == "sys"), (
                        f"{source.name}: no sys.path tricks"
                    )
                continue
            for name in names:
                assert name.split(".")[0] in allowed, f"{source.name} imports {name}"


# --- what the CLI prints of other people's text ---------------------------------------------

HOSTILE = "e\x1b[31mvil\x07 invoice\u202efdp.exe \u2067x\u2069\u200f\x9b\x00\u2028"
SAFE = "e\\x1b[31mvil\\x07 invoice\\u202efdp.exe \\u2067x\\u2069\\u200f\\x9b\\x00\\u2028"
# Control characters, bidirectional controls and marks, separators: none may reach a terminal.
RAW = [chr(c) for c in [*range(0x20), *range(0x7F, 0xA0)] if chr(c) != "\n"] + [
    "\u061c",
    "\u200e",
    "\u200f",
    *map(chr, range(0x202A, 0x202F)),
    *map(chr, range(0x2066, 0x206A)),
    "\u2028",
    "\u2029",
]


def hostile_run(**changes: Any) -> dict[str, Any]:
    run: dict[str, Any] = {
        "id": "00000000-0000-0000-0000-000000000001",
        "type": "app_bundle",
        "label": f"label {HOSTILE}",
        # (U+2028 is a line break in notes: they are printed line by line)
        "notes": f"first line\nsecond {HOSTILE}\u2029third",
        "status": "failed",
        "source": "bucket",
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
        "stored_at": None,
        "file_count": 1,
        "total_bytes": 3,
        "error": {"code": "files_failed", "message": f"message {HOSTILE}"},
        "files": [
            {
                "id": "00000000-0000-0000-0000-000000000002",
                "run_id": "00000000-0000-0000-0000-000000000001",
                "name": f"name {HOSTILE}",
                "key": f"inbox/{HOSTILE}",
                "size_bytes": 3,
                "content_type": "text/plain",
                "status": "failed",
                "sha256": None,
                "declared_sha256": None,
                "etag": None,
                "version_id": None,
                "stored_at": None,
                "error": {"code": "size_mismatch", "message": f"file {HOSTILE}"},
            }
        ],
        "incidents": [],
    }
    return run | changes


def assert_nothing_raw(text: str) -> None:
    found = [f"U+{ord(ch):04X}" for ch in RAW if ch in text]
    assert not found, f"printed raw: {found}"


def test_printable_escapes_controls_and_bidi_and_keeps_the_rest() -> None:
    assert inlet.text.printable(HOSTILE) == SAFE
    kept = "👨\u200d👩\u200d👧 ❤\ufe0f cafe\u0301 日本語 דוח.pdf ملف \ue000"
    assert inlet.text.printable(kept) == kept
    assert_nothing_raw(inlet.text.printable("".join(RAW)))


def test_runs_and_run_print_other_peoples_text_escaped(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run = hostile_run()
    page = {"items": [hostile_run(files=None)], "next_cursor": None}
    monkeypatch.setattr(ApiClient, "list_runs", lambda *args: page)
    monkeypatch.setattr(ApiClient, "get_run", lambda *args: run)

    assert inlet.cli.main(["runs", "--api", "http://api.invalid"]) == 0
    listed = capsys.readouterr().out
    assert_nothing_raw(listed)
    assert listed.count("\n") == 1  # one run, one line
    assert f"label {SAFE}" in listed

    assert inlet.cli.main(["run", run["id"], "--api", "http://api.invalid"]) == 0
    shown = capsys.readouterr().out
    assert_nothing_raw(shown)
    for field in ("label", "message", "name", "file"):
        assert f"{field} {SAFE}" in shown, field
    # Notes keep their lines, each escaped and indented.
    second = SAFE.removesuffix("\\u2028")
    assert f"notes    first line\n         second {second}\n         \n         third\n" in shown

    assert inlet.cli.main(["run", run["id"], "--json", "--api", "http://api.invalid"]) == 0
    as_json = capsys.readouterr().out
    assert_nothing_raw(as_json.replace("\n", " "))
    assert json.loads(as_json) == run


def test_errors_quoting_the_api_are_escaped(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def refuse(*args: Any) -> Any:
        raise ApiError(422, "validation_error", f"name {HOSTILE}")

    monkeypatch.setattr(ApiClient, "get_run", refuse)
    assert inlet.cli.main(["run", "r1", "--api", "http://api.invalid"]) == 3
    err = capsys.readouterr().err
    assert_nothing_raw(err.rstrip("\n"))
    assert "\\x1b[31mvil\\x07" in err


# --- hashing while uploading ----------------------------------------------------------------

MiB = 1024 * 1024


class FakeInlet(InterceptingAdapter):
    """The API and the bucket in one adapter, as far as `inlet upload` uses them: files above
    16 MiB go multipart in 16 MiB parts. Records the create and complete bodies; `on_part` runs
    before a part is stored; `verdict` is the status the run ends in."""

    def __init__(self, verdict: str = "stored", threshold: int = 16 * MiB) -> None:
        super().__init__()
        self.threshold = threshold  # the server's INLET_MULTIPART_THRESHOLD
        self.created: list[dict[str, Any]] = []
        self.completed: list[dict[str, Any]] = []
        self.on_part: Any = lambda number: None
        self.verdict = verdict

    def intercept(self, request: requests.PreparedRequest, send: Send) -> requests.Response:
        url = request.url or ""
        if url.startswith("http://bucket.invalid/"):
            if "partNumber=" in url:
                self.on_part(int(url.rsplit("partNumber=", 1)[1]))
            for _ in iter(functools.partial(request.body.read, MiB), b""):  # type: ignore[union-attr]
                pass
            return canned(request, 200, headers={"ETag": f'"{len(self.completed)}"'})
        body = json.loads(request.body or b"null")
        if url.endswith("/v1/limits"):
            rules = {"max_file_size": 2**40, "max_files_per_run": 100}
            limits = {"uploads": rules | {"multipart_threshold": self.threshold}}
            return canned(request, 200, json.dumps(limits).encode())
        if request.method == "POST" and url.endswith("/v1/uploads"):
            self.created.append(body)
            return canned(request, 201, json.dumps(self.run(body["files"])).encode())
        if url.endswith("/complete"):
            self.completed.append(body)
            return canned(request, 200, b"{}")
        return canned(request, 200, json.dumps(self.detail()).encode())

    def run(self, specs: list[dict[str, Any]]) -> dict[str, Any]:
        expires = (datetime.now(UTC) + timedelta(minutes=15)).isoformat()
        files = []
        for index, spec in enumerate(specs):
            if spec["size"] > self.threshold:
                count = -(-spec["size"] // (16 * MiB))
                parts = [
                    {"part_number": n, "url": f"http://bucket.invalid/k{index}?partNumber={n}"}
                    for n in range(1, count + 1)
                ]
                upload: dict[str, Any] = {
                    "method": "multipart",
                    "upload_id": "u",
                    "part_size": 16 * MiB,
                    "part_count": count,
                    "parts": [p | {"expires_at": expires} for p in parts],
                }
            else:
                url = f"http://bucket.invalid/k{index}"
                upload = {"method": "PUT", "url": url, "headers": {}, "expires_at": expires}
            files.append(
                {"id": f"f{index}", "content_type": spec["content_type"], "upload": upload}
            )
        return {"run": {"id": "r1"}, "files": files}

    def detail(self) -> dict[str, Any]:
        failed = self.verdict == "failed"
        error = {"code": "checksum_mismatch", "message": "sha256 differs"} if failed else None
        files = [{"name": "big.bin", "error": error}]
        return {"id": "r1", "status": self.verdict, "error": error, "files": files}


@pytest.fixture
def fake_inlet(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> tuple[FakeInlet, Path, Path]:
    """A 40 MiB file (3 parts: created without a sha256) and a small one (hashed first)."""
    monkeypatch.setenv("INLET_STATE_DIR", str(tmp_path / "state"))
    adapter = FakeInlet()
    monkeypatch.setattr(requests.Session, "get_adapter", lambda self, url: adapter)
    big, small = tmp_path / "big.bin", tmp_path / "small.txt"
    with big.open("wb") as stream:
        for n in range(40):
            stream.write(bytes([n]) * MiB)
    small.write_bytes(b"hello")
    return adapter, big, small


def upload(*paths: Path, wait: bool = False) -> int:
    argv = ["upload", *map(str, paths), "--type", "t", "--api", "http://api.invalid", "--json"]
    return inlet.cli.main([*argv, "--wait"] if wait else argv, retry=NO_WAIT)


def test_a_multipart_file_is_created_without_sha256_and_declares_it_at_complete(
    fake_inlet: tuple[FakeInlet, Path, Path],
) -> None:
    adapter, big, small = fake_inlet
    assert upload(big, small) == 0
    [created] = adapter.created
    specs = {spec["name"]: spec for spec in created["files"]}
    assert "sha256" not in specs["big.bin"], "hashed while its parts are sent"
    assert specs["small.txt"]["sha256"] == hashlib.sha256(b"hello").hexdigest()
    [complete] = adapter.completed
    assert complete["sha256"] == hashlib.sha256(big.read_bytes()).hexdigest()
    assert [p["part_number"] for p in complete["parts"]] == [1, 2, 3]


def test_a_file_the_server_takes_in_one_put_is_hashed_first(
    fake_inlet: tuple[FakeInlet, Path, Path],
) -> None:
    """A server whose multipart threshold is above 40 MiB (`GET /v1/limits`) takes the big file
    in one PUT, whose URL signs the sha256 declared at creation: it is hashed first."""
    adapter, big, _ = fake_inlet
    adapter.threshold = 64 * MiB
    assert upload(big) == 0
    [created] = adapter.created
    assert created["files"][0]["sha256"] == hashlib.sha256(big.read_bytes()).hexdigest()
    assert adapter.completed == []


def test_a_file_changed_while_uploading_ends_in_a_clear_failure(
    fake_inlet: tuple[FakeInlet, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    adapter, big, _ = fake_inlet
    adapter.on_part = lambda number: number == 2 and big.open("ab").write(b"more")
    assert upload(big) == 4
    assert adapter.completed == [], "nothing is declared for bytes that changed"
    err = capsys.readouterr().err
    assert "inlet: upload failed: big.bin changed while it was being uploaded" in err
    assert "inlet cancel r1" in err


def test_a_change_the_client_cannot_see_fails_the_servers_verification(
    fake_inlet: tuple[FakeInlet, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """Same size and mtime, other bytes: the declared sha256 is not the stored object's, the
    server fails the run, and `--wait` exits 1 naming the file."""
    adapter, big, _ = fake_inlet
    adapter.verdict = "failed"
    assert upload(big, wait=True) == 1
    assert (
        "run r1 is failed: sha256 differs (big.bin: checksum_mismatch)" in capsys.readouterr().err
    )


def test_a_resumed_multipart_file_is_hashed_again(tmp_path: Path) -> None:
    """Resume state knows no sha256 for a file hashed while it uploaded: it is computed again
    and declared at `complete`."""
    path = tmp_path / "big.bin"
    path.write_bytes(b"0123456789ab")
    info = path.stat()
    file = file_state(path=str(path), sha256=None, mtime_ns=info.st_mtime_ns)
    declared: list[str] = []

    class Resumed(CompletingApi):
        def complete(
            self, run_id: str, file_id: str, etags: dict[int, str], sha256: str
        ) -> dict[str, Any]:
            declared.append(sha256)
            return {}

    done: list[FileState] = []
    uploader = Uploader(Resumed(ApiError(0, "x", "")), "r1", 1, Quiet(), NO_WAIT)  # type: ignore[arg-type]
    uploader.upload([file], {}, done.append)
    assert declared == [hashlib.sha256(b"0123456789ab").hexdigest()] == [file.sha256]
    assert done == [file]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- downloads: names -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("recorded", "local"),
    [
        ("report 2026.pdf", "report 2026.pdf"),  # spaces stay
        ("café résumé.txt", "café résumé.txt"),  # accents stay
        ("👨\u200d👩\u200d👧 family ❤\ufe0f.png", "👨\u200d👩\u200d👧 family ❤\ufe0f.png"),
        ("דוח\u200f.pdf", "דוח\u200f.pdf"),  # a bidi mark (the API accepts it) stays
        ("../x", ".._x"),
        ("../../etc/passwd", ".._.._etc_passwd"),
        ("/abs/path", "_abs_path"),
        ("dir\\win.ini", "dir_win.ini"),
        ("a\x00b\x1b[31m\n.conf", "a_b_[31m_.conf"),
        ("invoice\u202efdp.exe", "invoice_fdp.exe"),
        ("line\u2028break", "line_break"),
        ("", "_"),
        (".", "_"),
        ("..", "__"),
        (".bashrc", ".bashrc"),
    ],
)
def test_safe_name(recorded: str, local: str) -> None:
    assert inlet.download.safe_name(recorded) == local


@pytest.mark.parametrize(
    ("recorded", "ending"),
    [("a" * 300 + ".tar.gz", "a.tar.gz"), ("🦆" * 200 + ".conf", "🦆.conf"), ("é" * 255, "é")],
)
def test_safe_name_fits_a_file_system_name_and_keeps_the_extension(
    recorded: str, ending: str
) -> None:
    """255 bytes of UTF-8 at most, cut between characters (never inside one)."""
    local = inlet.download.safe_name(recorded)
    assert 250 < len(local.encode()) <= 255
    assert local.endswith(ending)
    assert set(local) == set(recorded)


def run_file(file_id: str, name: str, status: str = "stored", data: bytes = b"") -> dict[str, Any]:
    return {
        "id": file_id,
        "name": name,
        "status": status,
        "size_bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest() if status == "stored" else None,
    }


def test_duplicate_names_get_a_deterministic_number() -> None:
    files = [
        run_file("f1", "a.conf"),
        run_file("f2", "b.tar.gz"),
        run_file("f3", "a.conf"),
        run_file("f4", "A.CONF"),  # the same name on macOS and Windows
        run_file("f5", "b.tar.gz"),
        run_file("f6", "a (2).conf"),  # taken by f3 already
        run_file("f7", "dir/a.conf"),
        run_file("f8", "dir\\a.conf"),
        run_file("f9", "cafe\u0301"),  # NFD and NFC: one name on macOS
        run_file("f10", "caf\u00e9"),
    ]
    names = inlet.download.local_names(files)  # type: ignore[arg-type]
    assert names == {
        "f1": "a.conf",
        "f2": "b.tar.gz",
        "f3": "a (2).conf",
        "f4": "A (3).CONF",
        "f5": "b (2).tar.gz",
        "f6": "a (2) (2).conf",
        "f7": "dir_a.conf",
        "f8": "dir_a (2).conf",
        "f9": "cafe\u0301",
        "f10": "caf\u00e9 (2)",
    }
    again = inlet.download.local_names(files)  # type: ignore[arg-type]
    assert again == names, "the same run, the same names"


def test_files_are_chosen_by_id_or_name() -> None:
    run: Any = {
        "id": "r1",
        "files": [
            run_file("f1", "a.conf"),
            run_file("f2", "b.conf", "pending"),
            run_file("f3", "a.conf"),
            run_file("f4", "c.conf", "failed"),
        ],
    }
    select = inlet.download.select

    def ids(files: list[Any]) -> list[str]:
        return [file["id"] for file in files]

    chosen, skipped = select(run, [])
    assert (ids(chosen), ids(skipped)) == (["f1", "f3"], ["f2", "f4"])
    assert ids(select(run, ["a.conf"])[0]) == ["f1", "f3"]
    assert ids(select(run, ["f4", "f2", "f2"])[0]) == ["f2", "f4"]  # asked for: the API says why
    with pytest.raises(
        LookupError, match=r"run r1 has no file 'nope'; its files: a\.conf, b\.conf"
    ):
        select(run, ["a.conf", "nope"])
    nothing_stored: Any = {"id": "r2", "files": [run_file("f2", "b.conf", "pending")]}
    assert ids(select(nothing_stored, [])[0]) == ["f2"]


def test_download_arguments() -> None:
    parser = build_parser()
    args = parser.parse_args(["download", "r1", "a.conf", "f2", "--out", "d", "--force"])
    assert (args.run_id, args.files, args.out, args.force) == ("r1", ["a.conf", "f2"], "d", True)
    defaults = parser.parse_args(["download", "r1"])
    assert (defaults.files, defaults.out, defaults.force, defaults.parallel) == ([], ".", False, 4)
    for bad in (["download"], ["download", "r1", "--parallel", "0"]):
        with pytest.raises(SystemExit) as exited:
            parser.parse_args(bad)
        assert exited.value.code == 2


# --- downloads: fetching, verifying, exit codes ---------------------------------------------


class BrokenBody:
    """A body whose connection breaks after its first bytes."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, amount: int, decode_content: bool) -> Any:
        yield self.data[:3]
        raise urllib3.exceptions.ProtocolError("Connection broken: IncompleteRead")

    def close(self) -> None:
        pass


def bucket_answer(request: requests.PreparedRequest, status: int, body: Any) -> requests.Response:
    """An answer read as the bucket's are: streamed from `raw`."""
    response = requests.Response()
    response.status_code, response.reason = status, "Canned"
    response.raw = (
        body
        if isinstance(body, BrokenBody)
        else urllib3.HTTPResponse(body=io.BytesIO(body), status=status, preload_content=False)
    )
    response.request, response.url = request, request.url or ""
    return response


class FakeDownloads(InterceptingAdapter):
    """The API (a run, its files, download links) and the bucket, as `inlet download` uses
    them. `served` replaces what the bucket sends for a file; `refusals` are statuses the bucket
    answers a file's first GETs with; `broken` files lose their connection on the first GET."""

    def __init__(self, *files: tuple[str, str, str, bytes]) -> None:
        super().__init__()
        self.files = [run_file(*file) for file in files]
        self.data = {file[0]: file[3] for file in files}
        self.served: dict[str, bytes] = {}
        self.refusals: dict[str, list[int]] = {}
        self.broken: set[str] = set()
        self.links: list[str] = []
        self.gets: list[str] = []

    def intercept(self, request: requests.PreparedRequest, send: Send) -> requests.Response:
        url = request.url or ""
        if url.startswith("http://bucket.invalid/"):
            assert "Authorization" not in request.headers, "the token never goes to the bucket"
            file_id = urlsplit(url).path.rsplit("/", 1)[1]
            self.gets.append(file_id)
            refusals = self.refusals.get(file_id) or []
            if refusals:
                status = refusals.pop(0)
                return bucket_answer(request, status, b"<Error><Code>Refused</Code></Error>")
            if file_id in self.broken:
                self.broken.discard(file_id)
                return bucket_answer(request, 200, BrokenBody(self.data[file_id]))
            return bucket_answer(request, 200, self.served.get(file_id, self.data[file_id]))
        path = urlsplit(url).path
        if path.endswith("/download"):
            file_id = path.split("/")[-2]
            self.links.append(file_id)
            [file] = [f for f in self.files if f["id"] == file_id]
            if file["status"] != "stored":
                code = {"pending": "file_pending", "failed": "file_failed"}[file["status"]]
                error = {"code": code, "message": f"file {file_id} is {file['status']}"}
                body = json.dumps({"error": error | {"details": []}}).encode()
                return canned(request, 409, body)
            link = {
                "url": f"http://bucket.invalid/{file_id}?X-Amz-Signature={len(self.links)}",
                "expires_at": "2030-01-01T00:00:00Z",
                "name": file["name"],
                "version_id": "v1",
                "sha256": file["sha256"],
                "size_bytes": file["size_bytes"],
            }
            return canned(request, 200, json.dumps(link).encode())
        assert path == "/v1/runs/r1", path
        return canned(request, 200, json.dumps({"id": "r1", "files": self.files}).encode())


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> FakeDownloads:
    """Two files of the same name and an emoji one, all stored."""
    adapter = FakeDownloads(
        ("f1", "a.conf", "stored", b"first a"),
        ("f2", "a.conf", "stored", b"second a, longer"),
        ("f3", "../🦆 notes.txt", "stored", b"quack" * 1000),
    )
    monkeypatch.setattr(requests.Session, "get_adapter", lambda self, url: adapter)
    return adapter


def download(out: Path, *args: str) -> int:
    argv = ["download", "r1", *args, "--out", str(out), "--api", "http://api.invalid"]
    return inlet.cli.main(argv, retry=NO_WAIT)


def saved(out: Path) -> dict[str, bytes]:
    """Every file in `out`, temporary ones too."""
    return {p.name: p.read_bytes() for p in out.iterdir()} if out.exists() else {}


def test_download_saves_every_stored_file_verified(
    downloads: FakeDownloads, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "new" / "dir"  # made as needed
    assert download(out) == 0
    assert saved(out) == {
        "a.conf": b"first a",
        "a (2).conf": b"second a, longer",
        ".._🦆 notes.txt": b"quack" * 1000,
    }
    captured = capsys.readouterr()
    assert captured.err == "", "no progress drawn when stderr is not a terminal"
    # sha256sum's format, in the run's order
    assert captured.out.splitlines() == [
        f"{sha256(b'first a')}  {out / 'a.conf'}",
        f"{sha256(b'second a, longer')}  {out / 'a (2).conf'}",
        f"{sha256(b'quack' * 1000)}  {out / '.._🦆 notes.txt'}",
    ]
    assert sorted(downloads.links) == ["f1", "f2", "f3"]


def test_download_chosen_files_as_json(
    downloads: FakeDownloads, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert download(tmp_path, "f2", "--json") == 0
    assert saved(tmp_path) == {"a (2).conf": b"second a, longer"}, "its name in the whole run"
    assert json.loads(capsys.readouterr().out) == {
        "run_id": "r1",
        "files": [
            {
                "id": "f2",
                "name": "a.conf",
                "path": str(tmp_path / "a (2).conf"),
                "size_bytes": 16,
                "sha256": sha256(b"second a, longer"),
                "version_id": "v1",
                "error": None,
            }
        ],
    }


@pytest.mark.parametrize(
    ("served", "code", "size"),
    [
        (b"other a", "sha256_mismatch", "size expected 7 bytes, got 7"),  # same size
        (b"first", "size_mismatch", "size expected 7 bytes, got 5"),
        (b"first a, and more", "size_mismatch", "size expected 7 bytes, got more than 7"),
    ],
)
def test_a_mismatch_keeps_nothing_and_exits_6(
    downloads: FakeDownloads,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    served: bytes,
    code: str,
    size: str,
) -> None:
    downloads.served["f1"] = served
    assert download(tmp_path, "--json") == 6
    files = saved(tmp_path)
    assert "a.conf" not in files
    assert not [name for name in files if name.endswith(".part")], "no temporary file left"
    assert set(files) == {"a (2).conf", ".._🦆 notes.txt"}, "the files that verified are kept"
    captured = capsys.readouterr()
    [error] = captured.err.splitlines()
    assert error.startswith("inlet: a.conf: the bytes from the bucket are not the recorded ones")
    assert f"sha256 expected {sha256(b'first a')}, got " in error
    assert size in error
    if code == "sha256_mismatch":
        assert f"got {sha256(served)};" in error
    [first, *_] = json.loads(captured.out)["files"]
    assert (first["path"], first["error"]["code"]) == (None, code)


def test_an_expired_url_is_asked_for_again_once(
    downloads: FakeDownloads, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    downloads.refusals["f1"] = [403]
    assert download(tmp_path, "f1") == 0
    assert downloads.links == ["f1", "f1"]
    assert saved(tmp_path) == {"a.conf": b"first a"}

    downloads.links.clear()
    downloads.refusals["f1"] = [403, 403]
    assert download(tmp_path, "f1", "--force") == 4
    assert downloads.links == ["f1", "f1"], "once only"
    assert capsys.readouterr().err.splitlines()[-1] == "inlet: a.conf: HTTP 403 Refused"
    assert saved(tmp_path) == {"a.conf": b"first a"}, "the file there is left alone"


def test_bucket_failures_follow_the_retry_rule(
    downloads: FakeDownloads, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    downloads.refusals["f1"] = [500, 503]
    downloads.broken.add("f2")  # the connection breaks mid-body: read again from the start
    assert download(tmp_path, "a.conf") == 0
    assert saved(tmp_path) == {"a.conf": b"first a", "a (2).conf": b"second a, longer"}
    assert (downloads.gets.count("f1"), downloads.gets.count("f2")) == (3, 2)

    downloads.gets.clear()
    downloads.refusals["f3"] = [500] * 10
    downloads.refusals["f1"] = [404]
    assert download(tmp_path, "f3", "f1", "--force") == 4
    assert downloads.gets.count("f3") == NO_WAIT.attempts
    assert downloads.gets.count("f1") == 1, "a 404 is final"
    assert capsys.readouterr().err.splitlines() == [
        "inlet: a.conf: HTTP 404 Refused",
        "inlet: ../🦆 notes.txt: HTTP 500 Refused",
    ]
    assert ".._🦆 notes.txt" not in saved(tmp_path)


def test_existing_files_are_replaced_only_with_force(
    downloads: FakeDownloads, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a (2).conf").write_bytes(b"mine")
    (tmp_path / "A.conf").symlink_to(tmp_path / "nowhere")  # dangling: still there
    assert download(tmp_path) == 2
    assert f"inlet: {tmp_path / 'a (2).conf'} exists; --force replaces it\n" == (
        capsys.readouterr().err
    )
    assert downloads.links == [], "refused before anything is fetched"
    assert download(tmp_path, "f2", "--force") == 0
    assert (tmp_path / "a (2).conf").read_bytes() == b"second a, longer"


def test_files_that_are_not_stored(
    downloads: FakeDownloads, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    downloads.files += [run_file("f4", "later.bin", "pending"), run_file("f5", "bad", "failed")]
    assert download(tmp_path / "all") == 0, "by default: the stored ones"
    assert capsys.readouterr().err.splitlines() == [
        "inlet: later.bin: not downloaded, it is pending",
        "inlet: bad: not downloaded, it is failed",
    ]
    assert download(tmp_path / "one", "later.bin") == 3
    assert capsys.readouterr().err == (
        "inlet: later.bin: file f4 is pending (file_pending, HTTP 409)\n"
    )
    downloads.served["f1"] = b"tampered"
    assert download(tmp_path / "both", "a.conf", "bad") == 6, "a mismatch says the most"
    assert download(tmp_path / "none", "nope") == 2
    assert "run r1 has no file 'nope'" in capsys.readouterr().err


def test_the_download_bars_show_each_file_by_its_escaped_name() -> None:
    drawn = io.StringIO()
    console = Console(file=drawn, force_terminal=True, width=200, color_system=None)
    with Bars(console, "download", 10) as bars:
        bars.add("[/]x\x1b[31m.bin", 10)  # rich markup that would not parse, and an escape
    assert "\n  [/]x\\x1b[31m.bin  " in drawn.getvalue()


# --- waiting for a run: long-poll -----------------------------------------------------------


class Clock:
    """`time` as wait_for_run sees it: nothing really waits."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class WaitingApi:
    """`GET /v1/runs/{id}?wait=`: the run is stored after `stored_at` seconds; a long-polling
    server holds each request until then or its wait is up (at most `max_wait`), an old one
    answers at once."""

    def __init__(self, clock: Clock, stored_at: float, max_wait: int | None) -> None:
        self.clock = clock
        self.stored_at = stored_at
        self.max_wait = max_wait
        self.asked: list[tuple[float, int | None]] = []  # (when, wait=)

    @property
    def waits(self) -> list[int | None]:
        return [wait for _, wait in self.asked]

    def get_run(self, run_id: str, wait: int | None = None) -> dict[str, Any]:
        self.asked.append((self.clock.now, wait))
        if self.max_wait is not None and self.clock.now < self.stored_at:
            held = min(wait or 0, self.max_wait)
            self.clock.now = min(self.clock.now + held, max(self.stored_at, self.clock.now))
        status = "stored" if self.clock.now >= self.stored_at else "pending"
        return {"id": run_id, "status": status}


def waiting(
    monkeypatch: pytest.MonkeyPatch, stored_at: float, max_wait: int | None
) -> tuple[WaitingApi, Clock]:
    clock = Clock()
    fake_time = types.SimpleNamespace(monotonic=clock.monotonic, sleep=clock.sleep)
    monkeypatch.setattr(inlet.cli, "time", fake_time)
    return WaitingApi(clock, stored_at, max_wait), clock


def test_waiting_long_polls_without_sleeping(monkeypatch: pytest.MonkeyPatch) -> None:
    api, clock = waiting(monkeypatch, stored_at=47.5, max_wait=20)
    run = inlet.cli.wait_for_run(api, "r1", None)  # type: ignore[arg-type]
    assert run["status"] == "stored"
    assert api.waits == [20, 20, 20]
    assert clock.now == 47.5, "seen the moment it is stored"
    assert clock.slept == []


def test_a_server_with_a_shorter_wait_is_asked_again_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    api, clock = waiting(monkeypatch, stored_at=12, max_wait=5)  # INLET_MAX_WAIT_SECONDS=5
    assert inlet.cli.wait_for_run(api, "r1", None)["status"] == "stored"  # type: ignore[arg-type]
    assert (api.waits, clock.slept) == ([20, 20, 20], [])


def test_an_old_server_that_answers_at_once_is_polled_with_back_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    api, clock = waiting(monkeypatch, stored_at=10, max_wait=None)
    assert inlet.cli.wait_for_run(api, "r1", None)["status"] == "stored"  # type: ignore[arg-type]
    assert clock.slept[:3] == [0.25, 0.3125, 0.390625]
    assert max(clock.slept) == 2.0
    assert len(api.waits) == len(clock.slept) + 1 < 15


@pytest.mark.parametrize("max_wait", [20, None])
def test_the_wait_timeout_bounds_every_request(
    monkeypatch: pytest.MonkeyPatch, max_wait: int | None
) -> None:
    api, clock = waiting(monkeypatch, stored_at=1000, max_wait=max_wait)
    with pytest.raises(inlet.cli.WaitTimeout, match=r"run r1 is still pending after 30\.5 s"):
        inlet.cli.wait_for_run(api, "r1", 30.5)  # type: ignore[arg-type]
    assert clock.now == 30.5
    assert all(wait is not None and wait <= 30.5 - when for when, wait in api.asked), (
        "never asks to be held past the deadline"
    )
    if max_wait is not None:
        assert api.waits[:2] == [20, 10]
    assert len(api.asked) < 30
