"""Why the LocalStack leg exists: the bucket, not the API, enforces what a presigned URL allows.
moto accepts tampered and expired URLs, wrong checksums and any preflight; LocalStack refuses
them as S3 does. The refusals (marked `localstack`) run only in the LocalStack leg (`make
test-localstack`), and are deselected elsewhere; the checks that the signed checksum travels and
is accepted run everywhere, as do the tests of the runner."""

from __future__ import annotations

import base64
import hashlib
import os
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
import requests
from chalice.test import Client

from chalicelib.config import Settings
from chalicelib.db import Database
from chalicelib.events import BucketEvents, Outcome
from chalicelib.sqs import ObjectEvent
from chalicelib.storage import CHECKSUM_HEADER, Storage
from local import localstack as runner
from tests.support.api import THREE_PARTS, create_run, sha256, spec
from tests.support.config import CORS_ORIGIN


def b64(hex_digest: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_digest)).decode()


def single_put(api: Client, data: bytes, **extra: object) -> dict[str, Any]:
    file: dict[str, Any] = create_run(api, spec("etc.tgz", len(data), **extra))["files"][0]
    assert file["upload"]["method"] == "PUT"
    return file


def refused(response: requests.Response, status: int, code: str) -> None:
    assert (response.status_code, f"<Code>{code}</Code>" in response.text) == (status, True), (
        response.text[:300]
    )


def with_query(url: str, *dropped: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v for k, v in parse_qsl(parts.query) if k not in dropped} | changes
    return urlunsplit(parts._replace(query=urlencode(query)))


# --- everywhere: the declared checksum is signed and travels with the upload -------------------


def test_declared_sha256_is_a_signed_header_the_bucket_accepts(
    api: Client, storage: Storage
) -> None:
    data = os.urandom(4096)
    file = single_put(api, data, content_type="text/plain", sha256=sha256(data))
    upload = file["upload"]
    assert upload["headers"] == {
        "Content-Disposition": "attachment",
        "Content-Type": "text/plain",
        "If-None-Match": "*",
        CHECKSUM_HEADER: b64(sha256(data)),
    }
    signed = dict(parse_qsl(urlsplit(upload["url"]).query))["X-Amz-SignedHeaders"].split(";")
    assert {"content-type", "host", CHECKSUM_HEADER} <= set(signed)

    response = requests.put(upload["url"], data=data, headers=upload["headers"], timeout=30)

    assert response.status_code == 200, response.text
    assert storage.client.get_object(Bucket=storage.bucket, Key=file["key"])["Body"].read() == data


def test_no_checksum_header_without_a_declared_sha256(api: Client) -> None:
    file = single_put(api, b"x" * 10)
    assert file["upload"]["headers"] == {
        "Content-Disposition": "attachment",
        "Content-Type": "application/octet-stream",
        "If-None-Match": "*",
    }
    signed = dict(parse_qsl(urlsplit(file["upload"]["url"]).query))["X-Amz-SignedHeaders"]
    assert CHECKSUM_HEADER not in signed


# --- LocalStack: what the bucket refuses ------------------------------------------------------


@pytest.mark.localstack
@pytest.mark.usefixtures("localstack")
def test_tampered_presigned_url_is_refused(api: Client, storage: Storage) -> None:
    data = b"the bytes this URL was signed for"
    upload = single_put(api, data)["upload"]
    url, headers = upload["url"], upload["headers"]
    signature = dict(parse_qsl(urlsplit(url).query))["X-Amz-Signature"]
    flipped = signature[:-1] + ("0" if signature[-1] != "0" else "1")
    other_key = url.replace("/etc.tgz?", "/other.tgz?")
    assert other_key != url

    for tampered in (
        other_key,  # another object
        with_query(url, **{"X-Amz-Signature": flipped}),
        with_query(url, **{"X-Amz-Expires": "604800"}),  # a longer life
    ):
        response = requests.put(tampered, data=data, headers=headers, timeout=30)
        refused(response, 403, "SignatureDoesNotMatch")
    # The signed Content-Type is part of the deal too.
    changed = headers | {"Content-Type": "text/html"}
    refused(requests.put(url, data=data, headers=changed, timeout=30), 403, "SignatureDoesNotMatch")
    assert storage.head(other_key.split("?")[0].split(f"/{storage.bucket}/", 1)[1]) is None

    assert requests.put(url, data=data, headers=headers, timeout=30).status_code == 200


@pytest.mark.localstack
@pytest.mark.usefixtures("localstack")
def test_expired_presigned_url_is_refused(api: Client, storage: Storage) -> None:
    key = single_put(api, b"late")["key"]
    short_lived = Storage(storage.client, storage.bucket, presign_ttl=1)
    presigned = short_lived.presign_put(key, "application/octet-stream", len(b"late"))
    time.sleep(2.5)

    response = requests.put(presigned.url, data=b"late", headers=presigned.headers, timeout=30)

    refused(response, 403, "AccessDenied")
    assert "expired" in response.text.lower()
    assert storage.head(key) is None


@pytest.mark.localstack
@pytest.mark.usefixtures("localstack")
def test_wrong_checksum_is_refused(api: Client, storage: Storage) -> None:
    data, other = os.urandom(2048), os.urandom(2048)
    file = single_put(api, data, sha256=sha256(data))
    url, headers = file["upload"]["url"], file["upload"]["headers"]

    # Other bytes under the signed checksum: the bucket hashes them and refuses.
    refused(requests.put(url, data=other, headers=headers, timeout=30), 400, "BadDigest")
    # The checksum of the other bytes instead: not what was signed.
    forged = headers | {CHECKSUM_HEADER: b64(hashlib.sha256(other).hexdigest())}
    refused(requests.put(url, data=other, headers=forged, timeout=30), 403, "SignatureDoesNotMatch")
    # No checksum at all: a signed header is missing.
    bare = {k: v for k, v in headers.items() if k != CHECKSUM_HEADER}
    refused(requests.put(url, data=other, headers=bare, timeout=30), 403, "SignatureDoesNotMatch")
    assert storage.head(file["key"]) is None

    assert requests.put(url, data=data, headers=headers, timeout=30).status_code == 200
    info = storage.head(file["key"])
    assert info is not None
    assert info.size == len(data)


@pytest.mark.localstack
@pytest.mark.usefixtures("localstack")
def test_preflight_from_an_unknown_origin_is_refused(api: Client) -> None:
    part_url = create_run(api, spec(size=THREE_PARTS))["files"][0]["upload"]["parts"][0]["url"]

    def preflight(origin: str, method: str = "PUT") -> requests.Response:
        headers = {
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "content-type",
        }
        return requests.options(part_url, headers=headers, timeout=10)

    allowed = preflight(CORS_ORIGIN)
    assert allowed.status_code == 200, allowed.text
    assert allowed.headers["Access-Control-Allow-Origin"] == CORS_ORIGIN
    assert "ETag" in allowed.headers["Access-Control-Expose-Headers"]

    for response in (preflight("http://evil.example"), preflight(CORS_ORIGIN, "DELETE")):
        assert response.status_code == 403, response.text
        assert "Access-Control-Allow-Origin" not in response.headers


@pytest.mark.localstack
@pytest.mark.usefixtures("localstack")
def test_download_url_reads_the_recorded_version_and_nothing_else(
    api: Client, db: Database, storage: Storage, settings: Settings
) -> None:
    data = os.urandom(4096)
    file = single_put(api, data, sha256=sha256(data))
    upload = file["upload"]
    assert requests.put(upload["url"], data=data, headers=upload["headers"], timeout=30).ok
    stored = BucketEvents(db, storage, settings).process(ObjectEvent(storage.bucket, file["key"]))
    assert stored == Outcome.STORED
    run_id = file["key"].split("/")[1]
    link = api.http.get(f"/v1/runs/{run_id}/files/{file['id']}/download").json_body
    url = link["url"]
    # Another version at the key, written over the recorded one.
    other = storage.client.put_object(Bucket=storage.bucket, Key=file["key"], Body=b"other")
    assert other["VersionId"] != link["version_id"]

    response = requests.get(url, timeout=30)
    assert response.status_code == 200, response.text
    assert sha256(response.content) == link["sha256"] == sha256(data)
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=\"etc.tgz\"; filename*=UTF-8''etc.tgz"
    )

    signature = dict(parse_qsl(urlsplit(url).query))["X-Amz-Signature"]
    flipped = signature[:-1] + ("0" if signature[-1] != "0" else "1")
    for tampered in (
        url.replace("/etc.tgz?", "/other.tgz?"),  # another object
        with_query(url, versionId=other["VersionId"]),  # another version of the key
        with_query(url, "versionId"),  # the current version, whatever it is
        with_query(url, **{"response-content-disposition": "inline"}),  # rendered, not saved
        with_query(url, **{"X-Amz-Expires": "604800"}),  # a longer life
        with_query(url, **{"X-Amz-Signature": flipped}),
    ):
        assert tampered != url
        refused(requests.get(tampered, timeout=30), 403, "SignatureDoesNotMatch")


@pytest.mark.localstack
@pytest.mark.usefixtures("localstack")
def test_expired_download_url_is_refused(storage: Storage) -> None:
    key = f"runs/expiring/{os.urandom(4).hex()}.bin"
    version = storage.client.put_object(Bucket=storage.bucket, Key=key, Body=b"x")["VersionId"]
    presigned = storage.presign_get(key, version, "x.bin", ttl=1)
    time.sleep(2.5)

    response = requests.get(presigned.url, timeout=30)

    refused(response, 403, "AccessDenied")
    assert "expired" in response.text.lower()


# --- the runner (local/localstack.py): finding a Python for LocalStack, or saying loudly why not --


def no_python_anywhere(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no python3.13 or python3.14
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "no-pyenv"))
    monkeypatch.delenv("INLET_LOCALSTACK_PYTHON", raising=False)


def test_runner_prefers_the_python_it_is_told_and_checks_its_version(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    no_python_anywhere(monkeypatch, tmp_path)
    monkeypatch.setenv("INLET_LOCALSTACK_PYTHON", sys.executable)  # this venv's 3.11
    version = runner.python_version(sys.executable)
    assert version == sys.version_info[:2]
    expected = sys.executable if sys.version_info[:2] >= runner.MIN_PYTHON else None
    assert runner.find_python() == expected
    assert runner.python_version(str(tmp_path / "missing")) is None


def test_runner_finds_pyenv_versions_newest_first(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    no_python_anywhere(monkeypatch, tmp_path)
    for version in ("3.9.18", "3.13.0", "3.12.1", "3.14.1"):
        binary = tmp_path / "no-pyenv" / "versions" / version / "bin" / "python3"
        binary.parent.mkdir(parents=True)
        binary.touch()
    found = [Path(p).parent.parent.name for p in runner.candidates()]
    assert found == ["3.14.1", "3.13.0", "3.12.1", "3.9.18"]


@pytest.mark.parametrize(("required", "ci", "code"), [("0", "", 0), ("1", "", 1), ("0", "true", 1)])
def test_runner_without_python_says_so_loudly(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    required: str,
    ci: str,
    code: int,
) -> None:
    """Required when asked, and under CI whatever else is said."""
    no_python_anywhere(monkeypatch, tmp_path)
    monkeypatch.setenv("INLET_REQUIRE_LOCALSTACK", required)
    monkeypatch.setenv("CI", ci)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")

    assert runner.run_tests([]) == code

    out = capsys.readouterr().out
    assert "!!  LocalStack leg " + ("FAILED" if code else "SKIPPED") in out
    assert "UNTESTED" in out
    assert ("::error " if code else "::warning ") in out
