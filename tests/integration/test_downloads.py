"""Downloads (issue 15): `GET /v1/runs/{run_id}/files/{file_id}/download` hands out a presigned
GET of a stored file's recorded version. Files go in as clients send them (presigned PUTs and
parts over HTTP to a moto server), are verified by the bucket event handler, and the URLs are
fetched over HTTP like any client would; both databases. What only a signature-checking bucket
refuses (tampered and expired URLs) is in test_localstack.py."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest
import requests
from chalice.test import Client

from chalicelib import tokens
from chalicelib.config import MiB, Settings
from chalicelib.db import Database
from chalicelib.events import BucketEvents, Outcome
from chalicelib.sqs import ObjectEvent
from chalicelib.storage import Storage, attachment_disposition, make_s3_client
from tests.support.api import (
    JSON_HEADERS,
    TWO_PARTS,
    assert_error,
    create_run,
    sha256,
    spec,
    use_settings,
)
from tests.support.stored import stored_run, upload, verify

UNKNOWN = "00000000-0000-4000-8000-000000000000"
# RFC 5987's attr-char, and `%` for its escapes: all `filename*` may hold.
EXT_VALUE = re.compile(r"[A-Za-z0-9!#$&+\-.^_`|~%]*")


def download_path(run_id: str, file_id: str) -> str:
    return f"/v1/runs/{run_id}/files/{file_id}/download"


def link(api: Client, run_id: str, file_id: str, **headers: str) -> dict[str, Any]:
    response = api.http.get(download_path(run_id, file_id), headers=JSON_HEADERS | headers)
    assert response.status_code == 200, response.body
    body: dict[str, Any] = response.json_body
    return body


def fetch(url: str) -> requests.Response:
    response = requests.get(url, timeout=60)
    assert response.status_code == 200, response.text[:300]
    return response


def disposition(header: str) -> tuple[str, dict[str, str]]:
    """A Content-Disposition header as RFC 6266 reads it: the type, and the parameters by their
    lower-case names (quoted strings unquoted)."""
    kind, _, rest = header.partition(";")
    params: dict[str, str] = {}
    for match in re.finditer(r'\s*([^=;\s]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*?)\s*(?:;|$)', rest):
        value = match[2]
        if value.startswith('"'):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        params[match[1].lower()] = value
    return kind.strip().lower(), params


def saved_name(header: str) -> tuple[str, str]:
    """The name a client that reads `filename*` saves under, and the ASCII stand-in."""
    kind, params = disposition(header)
    assert kind == "attachment", header
    charset, language, encoded = params["filename*"].split("'", 2)
    assert (charset.upper(), language) == ("UTF-8", "")
    assert EXT_VALUE.fullmatch(encoded), encoded
    return unquote(encoded, encoding="utf-8", errors="strict"), params["filename"]


def test_a_single_put_file_downloads_as_recorded(
    api: Client, db: Database, storage: Storage, settings: Settings
) -> None:
    data = uuid.uuid4().bytes * 20_000
    run = stored_run(api, db, storage, settings, {"etc/app.conf.tgz": data})
    [file] = run["files"]

    got = link(api, run["id"], file["id"])

    assert set(got) == {"url", "expires_at", "name", "version_id", "sha256", "size_bytes"}
    assert (got["name"], got["sha256"], got["size_bytes"]) == (
        "etc/app.conf.tgz",
        sha256(data),
        len(data),
    )
    assert got["version_id"] == file["version_id"] is not None  # the bucket is versioned
    assert dict(parse_qsl(urlsplit(got["url"]).query))["versionId"] == file["version_id"]
    response = fetch(got["url"])
    assert sha256(response.content) == got["sha256"]
    # The folder stays in `name`; the saved file is named by the last segment alone.
    assert saved_name(response.headers["Content-Disposition"]) == (
        "app.conf.tgz",
        "app.conf.tgz",
    )


def test_a_multipart_file_downloads_as_recorded(
    api: Client, db: Database, storage: Storage, settings: Settings
) -> None:
    data = uuid.uuid4().bytes * (TWO_PARTS // 16) + b"!" * (TWO_PARTS % 16)
    assert len(data) == TWO_PARTS > 5 * MiB
    run = stored_run(api, db, storage, settings, {"disk.img": data})

    got = link(api, run["id"], run["files"][0]["id"])

    response = fetch(got["url"])
    assert len(response.content) == got["size_bytes"] == TWO_PARTS
    assert sha256(response.content) == got["sha256"] == sha256(data)


def test_the_recorded_version_is_read_after_the_key_was_overwritten(
    api: Client, db: Database, storage: Storage, settings: Settings
) -> None:
    data = b"the verified bytes " * 100
    run = stored_run(api, db, storage, settings, {"report.csv": data})
    [file] = run["files"]
    before = link(api, run["id"], file["id"])

    # Someone with write access to the bucket puts other bytes at the key.
    other = storage.client.put_object(Bucket=storage.bucket, Key=file["key"], Body=b"forged")
    assert other["VersionId"] != file["version_id"]
    current = storage.client.get_object(Bucket=storage.bucket, Key=file["key"])
    assert current["Body"].read() == b"forged"

    after = link(api, run["id"], file["id"])
    for got in (before, after):
        assert fetch(got["url"]).content == data
    assert after["version_id"] == file["version_id"]


NAMES = {
    "accents": "Grüße aus Köln.txt",
    "decomposed accent": "cafe\u0301 menu.txt",
    "emoji": "party 🎉 time 👩‍👩‍👧.conf",
    "quotes": 'say "hello" now.txt',
    "apostrophe and semicolon": "it's; a, list.csv",
    "percent": "100%25 done %.txt",
    "cjk in a folder": "configs/日本語 ファイル.conf",
    "backslash folder": "win\\dows name.ini",
    "plain": "plain-name_1.tar.gz",
}


def test_names_come_back_intact_in_content_disposition(
    api: Client, db: Database, storage: Storage, settings: Settings
) -> None:
    files = {name: f"content of {label}".encode() for label, name in NAMES.items()}
    run = stored_run(api, db, storage, settings, files)

    fallbacks = {}
    for file in run["files"]:
        got = link(api, run["id"], file["id"])
        response = fetch(got["url"])
        name, fallback = saved_name(response.headers["Content-Disposition"])
        base = re.split(r"[/\\]", file["name"])[-1]
        assert (got["name"], name) == (file["name"], base)
        assert response.content == files[file["name"]]
        # The stand-in is printable ASCII, and safe in a quoted string and from %-decoding.
        assert fallback.isascii(), fallback
        assert fallback.isprintable(), fallback
        assert not set(fallback) & set('"\\%'), fallback
        fallbacks[file["name"]] = fallback
    assert fallbacks[NAMES["accents"]] == "Gru_e aus Koln.txt"  # ß has no ASCII decomposition
    assert fallbacks[NAMES["decomposed accent"]] == "cafe menu.txt"
    assert fallbacks[NAMES["quotes"]] == "say _hello_ now.txt"
    assert fallbacks[NAMES["plain"]] == "plain-name_1.tar.gz"


def test_disposition_header_stays_ascii_and_parseable() -> None:
    for name in [*NAMES.values(), "a\tb\x7f.txt", "x" * 255]:
        header = attachment_disposition(name)
        assert header.isascii()
        assert header.isprintable()
        assert saved_name(header)[0] == re.split(r"[/\\]", name)[-1]


def test_the_url_lives_as_long_as_the_setting_says(
    api: Client,
    db: Database,
    storage: Storage,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    changed = use_settings(monkeypatch, settings, inlet_download_ttl=123)
    run = stored_run(api, db, storage, changed, {"a.bin": b"abc"})

    before = datetime.now(UTC).replace(microsecond=0)
    got = link(api, run["id"], run["files"][0]["id"])
    after = datetime.now(UTC)

    assert dict(parse_qsl(urlsplit(got["url"]).query))["X-Amz-Expires"] == "123"
    expires_at = datetime.fromisoformat(got["expires_at"].replace("Z", "+00:00"))
    assert before + timedelta(seconds=123) <= expires_at <= after + timedelta(seconds=123)


def test_urls_are_signed_for_the_public_endpoint_when_one_is_set(
    storage: Storage, settings: Settings
) -> None:
    public = Settings.model_validate(
        settings.model_dump() | {"s3_public_endpoint_url": "http://files.example:9000"}
    )
    signing = Storage(
        storage.client,
        storage.bucket,
        storage.presign_ttl,
        presigner=make_s3_client(public, public=True),
    )
    url = signing.presign_get("runs/x/y/z.bin", "v1", "z.bin", 60).url
    assert url.startswith(f"http://files.example:9000/{storage.bucket}/runs/x/y/z.bin?")
    # On a store without versions there is no version to name.
    assert "versionId" not in signing.presign_get("runs/x/y/z.bin", None, "z.bin", 60).url


# --- what cannot be downloaded -----------------------------------------------------------------


def test_a_pending_file_is_409_file_pending(api: Client) -> None:
    created = create_run(api, spec("later.bin", 5))
    run_id, file_id = created["run"]["id"], created["files"][0]["id"]
    assert_error(api.http.get(download_path(run_id, file_id)), 409, "file_pending")


def test_a_failed_file_is_409_file_failed(
    api: Client, db: Database, storage: Storage, settings: Settings
) -> None:
    data = b"declared bytes"
    created = create_run(api, spec("bad.bin", len(data), sha256=sha256(data)))
    run_id, file = created["run"]["id"], created["files"][0]
    # Other bytes of the same size, put by someone with write access to the bucket (its URL
    # signs the checksum: a bucket that checks signatures refuses them there).
    storage.client.put_object(Bucket=storage.bucket, Key=file["key"], Body=b"DECLARED BYTES")
    assert verify(db, storage, settings, file["key"]) == Outcome.FAILED

    error = assert_error(api.http.get(download_path(run_id, file["id"])), 409, "file_failed")
    assert "checksum_mismatch" in error["message"]


def test_a_lost_file_is_409_file_lost(
    api: Client, db: Database, storage: Storage, settings: Settings
) -> None:
    run = stored_run(api, db, storage, settings, {"gone.bin": b"soon gone", "kept.bin": b"kept"})
    gone, kept = run["files"]
    # An operator deletes the recorded version for good; S3 tells of it.
    storage.client.delete_object(
        Bucket=storage.bucket, Key=gone["key"], VersionId=gone["version_id"]
    )
    event = ObjectEvent(
        storage.bucket, gone["key"], 0, "", gone["version_id"], "ObjectRemoved:Delete"
    )
    BucketEvents(db, storage, settings).process(event)

    assert_error(api.http.get(download_path(run["id"], gone["id"])), 409, "file_lost")
    assert fetch(link(api, run["id"], kept["id"])["url"]).content == b"kept"


def test_unknown_ids_and_files_of_other_runs_are_404(
    api: Client, db: Database, storage: Storage, settings: Settings
) -> None:
    run = stored_run(api, db, storage, settings, {"a.bin": b"a"})
    other = create_run(api, spec("b.bin", 1))
    run_id, file_id = run["id"], run["files"][0]["id"]
    for path in (
        download_path(run_id, other["files"][0]["id"]),  # a file of another run
        download_path(other["run"]["id"], file_id),  # the other way round
        download_path(UNKNOWN, file_id),
        download_path(run_id, UNKNOWN),
        download_path("not-a-uuid", file_id),
        download_path(run_id, "not-a-uuid"),
    ):
        assert_error(api.http.get(path), 404, "not_found")


def test_another_owners_file_is_404(
    api: Client,
    db: Database,
    storage: Storage,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    required = use_settings(monkeypatch, settings, inlet_auth="required")
    alice = {"Authorization": f"Bearer {tokens.create_token(db, 'alice', 'alice')[1]}"}
    bob = {"Authorization": f"Bearer {tokens.create_token(db, 'bob', 'bob')[1]}"}
    created = api.http.post(
        "/v1/uploads",
        headers=JSON_HEADERS | alice,
        body=b'{"type": "app_bundle", "files": [{"name": "a.bin", "size": 3}]}',
    ).json_body
    run_id, file = created["run"]["id"], created["files"][0]
    upload(file, b"abc")
    assert verify(db, storage, required, file["key"]) == Outcome.STORED

    hidden = assert_error(
        api.http.get(download_path(run_id, file["id"]), headers=bob), 404, "not_found"
    )
    missing = assert_error(
        api.http.get(download_path(UNKNOWN, file["id"]), headers=bob), 404, "not_found"
    )
    assert hidden["message"] == missing["message"].replace(UNKNOWN, run_id)
    assert fetch(link(api, run_id, file["id"], **alice)["url"]).content == b"abc"
