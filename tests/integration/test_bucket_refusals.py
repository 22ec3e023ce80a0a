"""The bucket refuses what was not declared (ADR 005, layer 1), with real HTTP requests to the
presigned URLs.

Single-PUT URLs sign the exact `Content-Length`, `If-None-Match: *` and a declared checksum;
part URLs sign their exact length; the server completes with `If-None-Match: *`; cancelling or
expiring a run aborts its multipart uploads and puts an empty tombstone at each single-PUT key.

What refuses depends on the store. LocalStack (the `make test-localstack` leg, signatures on)
refuses as S3 does: the tests marked `localstack` record its exact answers. moto checks no
signature, so it takes a body of the wrong length; it does honour `If-None-Match: *` when the
client sends it. On every store the outcome is the same promise: the run's record never says
`stored` for bytes that disagree with it (the event handler's size and checksum checks are the
backstop where the bucket lets bytes through)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from chalice.test import Client
from sqlalchemy import select

from chalicelib.config import MiB, Settings
from chalicelib.db import Database
from chalicelib.events import BucketEvents, Outcome
from chalicelib.expiry import expire_run
from chalicelib.models import File, Run
from chalicelib.sqs import ObjectEvent
from chalicelib.storage import (
    CHECKSUM_HEADER,
    TOMBSTONE_CONTENT_TYPE,
    TOMBSTONE_METADATA,
    Storage,
)
from inlet.api import ApiClient
from inlet.cli import main
from inlet.retry import RetryPolicy
from tests.support.api import (
    THREE_PARTS,
    TWO_PARTS,
    assert_error,
    create_run,
    file_path,
    open_uploads,
    send,
    spec,
    use_clients,
)
from tests.support.http import InterceptingAdapter, Send, use_adapter
from tests.support.stack import Stack

SINGLE_SIGNED = "content-disposition;content-length;content-type;host;if-none-match"
PART_SIGNED = "content-length;host"
S3_CODE = re.compile(r"<Code>([^<]+)</Code>")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def signed_headers(url: str) -> str:
    return dict(parse_qsl(urlsplit(url).query))["X-Amz-SignedHeaders"]


def s3_code(response: requests.Response) -> str | None:
    found = S3_CODE.search(response.text or "")
    return found.group(1) if found else None


def http_put(url: str, data: bytes, headers: Mapping[str, str] | None = None) -> requests.Response:
    return requests.put(url, data=data, headers=dict(headers or {}), timeout=60)


@pytest.fixture
def store(s3_endpoint: str) -> str:
    """Which store the tests talk to: "localstack", "moto" (the default suite's) or "other"."""
    try:
        health = requests.get(f"{s3_endpoint}/_localstack/health", timeout=30).json()
    except (requests.RequestException, ValueError):
        health = {}
    if isinstance(health, dict) and "services" in health:
        return "localstack"
    return "other" if os.environ.get("INLET_TEST_S3_ENDPOINT", "").strip() else "moto"


@pytest.fixture
def presigned_params(storage: Storage, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The parameters of every URL the server signs from now on (what boto3 signs into it)."""
    seen: list[dict[str, Any]] = []
    sign = storage.presigner.generate_presigned_url

    def recording(operation: str, Params: dict[str, Any], **kwargs: Any) -> str:
        seen.append({"operation": operation, **Params})
        return sign(operation, Params=Params, **kwargs)

    monkeypatch.setattr(storage.presigner, "generate_presigned_url", recording)
    return seen


# --- what each URL signs (every store) --------------------------------------------------------


@pytest.mark.parametrize("declared", [False, True], ids=["no-sha256", "sha256"])
def test_single_put_url_signs_its_size_and_if_none_match(
    api: Client, presigned_params: list[dict[str, Any]], declared: bool
) -> None:
    data = b"exactly these 29 bytes, once."
    extra = {"sha256": sha256(data)} if declared else {}
    upload = create_run(api, spec("a.txt", len(data), content_type="text/plain", **extra))["files"][
        0
    ]["upload"]

    expected = {
        "Content-Disposition": "attachment",
        "Content-Type": "text/plain",
        "If-None-Match": "*",
    }
    if declared:
        expected[CHECKSUM_HEADER] = base64.b64encode(hashlib.sha256(data).digest()).decode()
    assert upload["headers"] == expected  # Content-Length: every HTTP client sends it itself
    assert signed_headers(upload["url"]) == (
        f"{SINGLE_SIGNED};{CHECKSUM_HEADER}" if declared else SINGLE_SIGNED
    )
    (params,) = presigned_params
    assert (params["operation"], params["ContentLength"], params["IfNoneMatch"]) == (
        "put_object",
        len(data),
        "*",
    )


def test_part_urls_sign_the_exact_length_of_their_part(
    api: Client, presigned_params: list[dict[str, Any]]
) -> None:
    body = create_run(api, spec("big.bin", THREE_PARTS))  # 5 MiB, 5 MiB and the 2 MiB left
    run_id, file = body["run"]["id"], body["files"][0]
    assert {signed_headers(p["url"]) for p in file["upload"]["parts"]} == {PART_SIGNED}
    resigned = send(api, "POST", file_path(run_id, file["id"], "parts"), {"part_numbers": [3, 1]})
    assert resigned.status_code == 200, resigned.body

    lengths = [(p["PartNumber"], p["ContentLength"]) for p in presigned_params]
    assert lengths[:3] == [(1, 5 * MiB), (2, 5 * MiB), (3, 2 * MiB)]  # with the run
    assert sorted(lengths[3:]) == [(1, 5 * MiB), (3, 2 * MiB)]  # on demand


# --- the refusals: what each store answers, and what the record says --------------------------


@dataclass
class Attempt:
    """One try at putting bytes the run did not declare; what the bucket answered."""

    run_id: str
    file: dict[str, Any]
    response: requests.Response
    # Bytes the bucket must hold at the end when it refused (None: nothing, or a tombstone).
    expected_bytes: bytes | None = None
    outcomes: list[Outcome] = field(default_factory=list)


class Harness:
    """Runs scenarios through the API, the bucket over HTTP and the event handler."""

    def __init__(self, api: Client, db: Database, storage: Storage, settings: Settings) -> None:
        self.api = api
        self.db = db
        self.storage = storage
        self.handler = BucketEvents(db, storage, settings)

    def deliver(self, key: str) -> Outcome | None:
        """The event S3 sends for whatever is at `key` now (None: nothing is there)."""
        info = self.storage.head(key)
        if info is None:
            return None
        event = ObjectEvent(
            bucket=self.storage.bucket, key=key, size=info.size, etag=info.etag.strip('"')
        )
        return self.handler.process(event)

    def single(self, data: bytes, **extra: object) -> tuple[str, dict[str, Any]]:
        body = create_run(self.api, spec("notes.bin", len(data), **extra))
        return body["run"]["id"], body["files"][0]

    def put_single(self, file: dict[str, Any], data: bytes) -> requests.Response:
        return http_put(file["upload"]["url"], data, file["upload"]["headers"])

    def part_url(self, run_id: str, file: dict[str, Any], number: int) -> str:
        signed = send(
            self.api, "POST", file_path(run_id, file["id"], "parts"), {"part_numbers": [number]}
        )
        assert signed.status_code == 200, signed.body
        url: str = signed.json_body["parts"][0]["url"]
        return url

    def finish_multipart(self, run_id: str, file: dict[str, Any], data: bytes) -> Outcome | None:
        """Send the parts the bucket lacks (by the plan), complete with what it holds, deliver."""
        size = file["upload"]["part_size"]
        listed = send(self.api, "GET", file_path(run_id, file["id"], "parts")).json_body["parts"]
        etags = {p["part_number"]: p["etag"] for p in listed}
        for number in range(1, file["upload"]["part_count"] + 1):
            if number not in etags:
                chunk = data[(number - 1) * size : number * size]
                response = http_put(self.part_url(run_id, file, number), chunk)
                assert response.status_code == 200, response.text
                etags[number] = response.headers["ETag"]
        parts = [{"part_number": n, "etag": etags[n]} for n in sorted(etags)]
        completed = send(
            self.api, "POST", file_path(run_id, file["id"], "complete"), {"parts": parts}
        )
        assert completed.status_code == 200, completed.body
        return self.deliver(file["key"])

    def record(self, run_id: str) -> tuple[str, list[tuple[str, str | None]]]:
        """The run's status and each file's (status, error code)."""
        with self.db.session() as session:
            run = session.get(Run, uuid.UUID(run_id))
            assert run is not None
            files = session.scalars(select(File).where(File.run_id == run.id)).all()
            return run.status, [(f.status, f.error_code) for f in files]

    def assert_truthful(self, run_id: str) -> None:
        """Never a `stored` record that disagrees with the bytes: each stored file's version
        holds exactly its declared size, hashing to the recorded (and declared) sha256; a
        stored run has only stored files."""
        with self.db.session() as session:
            run = session.get(Run, uuid.UUID(run_id))
            assert run is not None
            files = session.scalars(select(File).where(File.run_id == run.id)).all()
            for file in files:
                if file.status != "stored":
                    continue
                params: dict[str, Any] = {"Bucket": self.storage.bucket, "Key": file.object_key}
                version = getattr(file, "version_id", None)
                if version:
                    params["VersionId"] = version
                data = self.storage.client.get_object(**params)["Body"].read()
                assert len(data) == file.size_bytes == file.stored_size, file.object_key
                assert sha256(data) == file.sha256, file.object_key
                assert file.declared_sha256 in (None, file.sha256), file.object_key
            if run.status == "stored":
                assert {f.status for f in files} == {"stored"}


@pytest.fixture
def harness(api: Client, db: Database, storage: Storage, settings: Settings) -> Harness:
    return Harness(api, db, storage, settings)


def larger(h: Harness) -> Attempt:
    data = os.urandom(1000)
    run_id, file = h.single(data)
    return Attempt(run_id, file, h.put_single(file, data + b"!"), expected_bytes=data)


def smaller(h: Harness) -> Attempt:
    data = os.urandom(1000)
    run_id, file = h.single(data)
    return Attempt(run_id, file, h.put_single(file, data[:-1]), expected_bytes=data)


def _wrong_part(h: Harness, delta: int) -> Attempt:
    """The last part (the one that may be short) one byte longer or shorter than planned."""
    data = os.urandom(5 * MiB + 1000)  # parts of 5 MiB and 1,000 bytes
    body = create_run(h.api, spec("big.bin", len(data)))
    run_id, file = body["run"]["id"], body["files"][0]
    last = file["upload"]["parts"][1]["url"]
    wrong = data[5 * MiB :] + b"!" if delta > 0 else data[5 * MiB : -1]
    return Attempt(run_id, file, http_put(last, wrong), expected_bytes=data)


def part_longer(h: Harness) -> Attempt:
    return _wrong_part(h, +1)


def part_shorter(h: Harness) -> Attempt:
    return _wrong_part(h, -1)


def second_put(h: Harness) -> Attempt:
    """A second PUT through the URL once the run is stored: other bytes of the same length."""
    data = os.urandom(1000)
    run_id, file = h.single(data)
    assert h.put_single(file, data).status_code == 200
    assert h.deliver(file["key"]) == Outcome.STORED
    response = h.put_single(file, os.urandom(len(data)))
    return Attempt(run_id, file, response, expected_bytes=data)


def second_put_without_if_none_match(h: Harness) -> Attempt:
    """The same, leaving the signed If-None-Match out (what a client trying to overwrite does)."""
    data = os.urandom(1000)
    run_id, file = h.single(data)
    assert h.put_single(file, data).status_code == 200
    h.deliver(file["key"])
    headers = {k: v for k, v in file["upload"]["headers"].items() if k != "If-None-Match"}
    response = http_put(file["upload"]["url"], os.urandom(len(data)), headers)
    return Attempt(run_id, file, response, expected_bytes=data)


def put_after_cancel(h: Harness) -> Attempt:
    data = os.urandom(1000)
    run_id, file = h.single(data, sha256=sha256(data))
    assert send(h.api, "DELETE", f"/v1/uploads/{run_id}").status_code == 200
    return Attempt(run_id, file, h.put_single(file, data))


def put_after_expiry(h: Harness) -> Attempt:
    data = os.urandom(1000)
    run_id, file = h.single(data, sha256=sha256(data))
    expire_run(h.db, h.storage, uuid.UUID(run_id), timedelta(hours=24))
    assert h.record(run_id)[0] == "expired"
    return Attempt(run_id, file, h.put_single(file, data))


def part_after_cancel(h: Harness) -> Attempt:
    data = os.urandom(TWO_PARTS)
    body = create_run(h.api, spec("big.bin", len(data)))
    run_id, file = body["run"]["id"], body["files"][0]
    assert send(h.api, "DELETE", f"/v1/uploads/{run_id}").status_code == 200
    return Attempt(run_id, file, http_put(file["upload"]["parts"][0]["url"], data[: 5 * MiB]))


SCENARIOS: dict[str, Callable[[Harness], Attempt]] = {
    "larger-put": larger,
    "smaller-put": smaller,
    "part-too-long": part_longer,
    "part-too-short": part_shorter,
    "second-put-after-stored": second_put,
    "put-after-cancel": put_after_cancel,
    "put-after-expiry": put_after_expiry,
    "part-after-cancel": part_after_cancel,
}

# What LocalStack 2026.3 answers (S3_SKIP_SIGNATURE_VALIDATION=0): status and <Code>.
LOCALSTACK_ANSWERS: dict[str, tuple[int, str]] = {
    "larger-put": (403, "SignatureDoesNotMatch"),
    "smaller-put": (403, "SignatureDoesNotMatch"),
    "part-too-long": (403, "SignatureDoesNotMatch"),
    "part-too-short": (403, "SignatureDoesNotMatch"),
    "second-put-after-stored": (412, "PreconditionFailed"),
    "second-put-without-if-none-match": (403, "SignatureDoesNotMatch"),
    "put-after-cancel": (412, "PreconditionFailed"),
    "put-after-expiry": (412, "PreconditionFailed"),
    "part-after-cancel": (404, "NoSuchUpload"),
}

# What moto 5.2 answers: no signature or length checks, but If-None-Match when it is sent.
MOTO_STATUSES: dict[str, int] = {
    "larger-put": 200,
    "smaller-put": 200,
    "part-too-long": 200,
    "part-too-short": 200,
    "second-put-after-stored": 412,
    "put-after-cancel": 412,
    "put-after-expiry": 412,
}

# Where the run ends: (run status, file status) when the bucket refused, and when it let the
# wrong bytes in (moto): then the handler's size check fails the file.
REFUSED_END = {
    "larger-put": ("stored", "stored"),  # the right bytes, sent after the refusal
    "smaller-put": ("stored", "stored"),
    "part-too-long": ("stored", "stored"),
    "part-too-short": ("stored", "stored"),
    "second-put-after-stored": ("stored", "stored"),
    "second-put-without-if-none-match": ("stored", "stored"),
    "put-after-cancel": ("cancelled", "pending"),
    "put-after-expiry": ("expired", "pending"),
    "part-after-cancel": ("cancelled", "pending"),
}
LET_IN_END = ("failed", "failed")


def follow_up(h: Harness, name: str, attempt: Attempt) -> None:
    """What a client does next, and the events the bucket sends: the right bytes after a
    refused wrong size (through the same URL, or the parts the bucket lacks), then the events
    of whatever the key holds."""
    if attempt.expected_bytes is None or name.startswith("second-put"):
        outcome = h.deliver(attempt.file["key"])
    elif attempt.file["upload"]["method"] == "PUT":
        h.put_single(attempt.file, attempt.expected_bytes)  # 200, or 412 when wrong bytes are in
        outcome = h.deliver(attempt.file["key"])
    else:
        outcome = h.finish_multipart(attempt.run_id, attempt.file, attempt.expected_bytes)
    if outcome is not None:
        attempt.outcomes.append(outcome)


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_never_stored_with_bytes_that_disagree(harness: Harness, store: str, name: str) -> None:
    """Every store: whatever the bucket lets through, the record tells the truth about it."""
    attempt = SCENARIOS[name](harness)
    let_in = attempt.response.status_code == 200
    if store == "moto" and name in MOTO_STATUSES:
        assert attempt.response.status_code == MOTO_STATUSES[name], attempt.response.text[:300]
    elif store == "moto":  # an aborted upload: moto 5.2 answers 500 (a KeyError), never 200
        assert attempt.response.status_code >= 400
    follow_up(harness, name, attempt)

    harness.assert_truthful(attempt.run_id)
    if name.startswith("put-after"):
        assert attempt.outcomes == [Outcome.IGNORED]  # the tombstone's event: a closed run
    run_status, files = harness.record(attempt.run_id)
    if let_in:
        assert (run_status, files) == (LET_IN_END[0], [(LET_IN_END[1], "size_mismatch")])
    else:
        assert (run_status, files[0][0]) == REFUSED_END[name]


@pytest.mark.localstack
@pytest.mark.parametrize("name", [*SCENARIOS, "second-put-without-if-none-match"])
def test_localstack_refuses_what_was_not_declared(
    harness: Harness, storage: Storage, store: str, name: str
) -> None:
    """LocalStack, checking signatures as S3 does, refuses each one; the key keeps what it had
    (nothing, the stored bytes or the tombstone), and the run ends as if nothing was tried."""
    if store != "localstack":
        pytest.skip("needs LocalStack with signature validation: `make test-localstack`")
    scenario = SCENARIOS.get(name) or second_put_without_if_none_match
    attempt = scenario(harness)

    status, code = LOCALSTACK_ANSWERS[name]
    assert (attempt.response.status_code, s3_code(attempt.response)) == (status, code), (
        attempt.response.text[:300]
    )
    info = storage.head(attempt.file["key"])
    if name.startswith("second-put"):
        assert info is not None
        assert (
            storage.client.get_object(Bucket=storage.bucket, Key=attempt.file["key"])["Body"].read()
            == attempt.expected_bytes
        )
    elif name.startswith("put-after"):
        assert info is not None
        assert info.size == 0  # the tombstone
    else:
        assert info is None
    follow_up(harness, name, attempt)
    harness.assert_truthful(attempt.run_id)
    run_status, files = harness.record(attempt.run_id)
    assert (run_status, files[0][0]) == REFUSED_END[name]


# --- closing a run: tombstones and aborts -----------------------------------------------------


def tombstone(storage: Storage, key: str) -> bool:
    head = storage.client.head_object(Bucket=storage.bucket, Key=key)
    return (head["ContentLength"], head["ContentType"], head["Metadata"]) == (
        0,
        TOMBSTONE_CONTENT_TYPE,
        TOMBSTONE_METADATA,
    )


def test_cancel_closes_every_url_and_keeps_what_arrived(harness: Harness, storage: Storage) -> None:
    arrived, late = os.urandom(100), os.urandom(200)
    body = create_run(
        harness.api,
        spec("arrived.bin", len(arrived)),
        spec("late.bin", len(late), sha256=sha256(late)),
        spec("empty.bin", 0),
        spec("big.bin", TWO_PARTS),
    )
    run_id = body["run"]["id"]
    put_file, late_file, empty_file, multi = body["files"]
    assert harness.put_single(put_file, arrived).status_code == 200  # its event is still on its way

    cancelled = send(harness.api, "DELETE", f"/v1/uploads/{run_id}")
    assert cancelled.status_code == 200, cancelled.body

    assert (
        storage.client.get_object(Bucket=storage.bucket, Key=put_file["key"])["Body"].read()
        == arrived
    )
    assert tombstone(storage, late_file["key"])
    assert tombstone(storage, empty_file["key"])
    assert storage.head(multi["key"]) is None
    assert not open_uploads(storage, run_id)
    # Every URL is spent: the late PUTs meet the tombstones (412 here on moto too: the client
    # sends the signed If-None-Match), the part URL an aborted upload.
    assert harness.put_single(late_file, late).status_code == 412
    assert harness.put_single(empty_file, b"").status_code == 412
    assert http_put(multi["upload"]["parts"][0]["url"], b"x" * 5 * MiB).status_code >= 400
    # The tombstones' events (and the arrived object's) reach the handler for a cancelled run.
    for file in (put_file, late_file, empty_file):
        assert harness.deliver(file["key"]) == Outcome.IGNORED
    assert harness.record(run_id) == ("cancelled", [("pending", None)] * 4)

    again = send(harness.api, "DELETE", f"/v1/uploads/{run_id}")  # twice is harmless
    assert again.json_body == cancelled.json_body
    assert tombstone(storage, late_file["key"])


def test_expiry_closes_single_put_keys_too(harness: Harness, storage: Storage) -> None:
    data = os.urandom(100)
    run_id, file = harness.single(data)
    expire_run(harness.db, storage, uuid.UUID(run_id), timedelta(hours=24))

    assert tombstone(storage, file["key"])
    assert harness.put_single(file, data).status_code == 412
    assert harness.deliver(file["key"]) == Outcome.IGNORED
    assert harness.record(run_id) == ("expired", [("pending", None)])


def test_a_bucket_failure_while_closing_leaves_the_run_pending(
    harness: Harness, storage: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = os.urandom(100)
    run_id, file = harness.single(data)
    broken = Storage(storage.client, "no-such-bucket", 60)
    use_clients(monkeypatch, storage=broken)
    assert_error(send(harness.api, "DELETE", f"/v1/uploads/{run_id}"), 503, "unavailable")
    assert harness.record(run_id)[0] == "pending"
    assert storage.head(file["key"]) is None

    use_clients(monkeypatch, storage=storage)  # a retry closes it
    assert send(harness.api, "DELETE", f"/v1/uploads/{run_id}").json_body["status"] == "cancelled"
    assert tombstone(storage, file["key"])


def test_a_tombstone_never_replaces_an_object_written_meanwhile(storage: Storage) -> None:
    key = f"runs/{uuid.uuid4()}/{uuid.uuid4()}/raced.bin"
    storage.client.put_object(
        Bucket=storage.bucket, Key=key, Body=b"the client won", IfNoneMatch="*"
    )
    assert storage.write_tombstone(key) is False
    assert storage.client.get_object(Bucket=storage.bucket, Key=key)["Body"].read() == (
        b"the client won"
    )
    other = f"runs/{uuid.uuid4()}/{uuid.uuid4()}/closed.bin"
    assert storage.write_tombstone(other) is True
    assert storage.write_tombstone(other) is False  # closing twice is harmless


# --- the clients: a 412 on a single PUT -------------------------------------------------------


class FirstSinglePut(InterceptingAdapter):
    """Sees the single PUTs of the upload engine: runs `before` ahead of the first one, and
    with `lose_answer` drops that one's answer after the bucket took it (a connection reset)."""

    def __init__(self, *, lose_answer: bool, before: Callable[[], None] | None = None) -> None:
        super().__init__(max_retries=0)
        self.lose_answer = lose_answer
        self.before = before
        self.puts: list[int] = []
        self.lock = threading.Lock()

    def intercept(self, request: requests.PreparedRequest, send: Send) -> requests.Response:
        single = request.method == "PUT" and "uploadId=" not in (request.url or "")
        with self.lock:
            first = single and not self.puts
        if first and self.before:
            self.before()
        response = send()
        if single:
            with self.lock:
                self.puts.append(response.status_code)
            if first and self.lose_answer:
                raise requests.ConnectionError("connection reset (injected, after the PUT)")
        return response


@pytest.fixture
def cli_env(stack: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Stack:
    monkeypatch.setenv("INLET_API_URL", stack.api_url)
    monkeypatch.setenv("INLET_STATE_DIR", str(tmp_path / "state"))
    return stack


@pytest.mark.http
def test_cli_retry_that_meets_its_own_put_counts_it_as_in(
    cli_env: Stack,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The answer to a PUT that went in is lost; the retry meets If-None-Match (412): the file
    is in, and the server verifies it (`--wait`: stored)."""
    adapter = FirstSinglePut(lose_answer=True)
    use_adapter(monkeypatch, adapter)
    path = tmp_path / "small.bin"
    path.write_bytes(os.urandom(4096))

    args = ["upload", str(path), "--type", "app_bundle", "--wait", "--wait-timeout", "60", "--json"]
    code = main(args, retry=RetryPolicy(base_delay=0))

    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert adapter.puts == [200, 412]
    run = json.loads(captured.out)
    assert run["status"] == "stored"
    assert cli_env.read_object(run["files"][0]["key"]) == path.read_bytes()


@pytest.mark.http
def test_cli_put_to_a_run_cancelled_meanwhile_fails(
    cli_env: Stack,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Cancelled (from elsewhere) just before the PUT: the tombstone answers 412, and the client
    says the run is cancelled instead of claiming the upload."""
    api = ApiClient(cli_env.api_url)

    def cancel_the_run() -> None:
        runs = api.list_runs(None, None, 200, None)["items"]
        pending = [r for r in runs if r["status"] == "pending" and r["label"] == "to-cancel"]
        api.cancel(pending[0]["id"])

    adapter = FirstSinglePut(lose_answer=False, before=cancel_the_run)
    use_adapter(monkeypatch, adapter)
    path = tmp_path / "late.bin"
    path.write_bytes(os.urandom(4096))

    args = ["upload", str(path), "--type", "app_bundle", "--label", "to-cancel"]
    code = main(args, retry=RetryPolicy(base_delay=0))

    err = capsys.readouterr().err
    assert code == 4, err
    assert adapter.puts == [412]
    assert "is cancelled" in err
