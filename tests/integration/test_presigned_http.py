"""The presigned URLs for real: plain HTTP uploads to a moto server, read back with boto3."""

from __future__ import annotations

import random

import pytest
import requests
from chalice.test import Client

from chalicelib.config import MiB, Settings
from chalicelib.storage import Storage
from tests.support.api import (
    THREE_PARTS,
    assert_error,
    create_run,
    file_path,
    open_uploads,
    send,
    sha256,
    spec,
    use_settings,
)
from tests.support.config import CORS_ORIGIN


def payload(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


def stored_bytes(storage: Storage, key: str) -> bytes:
    return storage.client.get_object(Bucket=storage.bucket, Key=key)["Body"].read()


def put(url: str, data: bytes, headers: dict[str, str] | None = None) -> str:
    """PUT bytes to a presigned URL; the ETag the bucket answered."""
    response = requests.put(url, data=data, headers=headers or {}, timeout=60)
    assert response.status_code == 200, response.text
    return response.headers["ETag"]


def test_single_put_upload(api: Client, storage: Storage) -> None:
    data = payload(300_000, seed=1)
    file = create_run(
        api, spec("notes/readme.txt", len(data), content_type="text/plain", sha256=sha256(data))
    )["files"][0]
    upload = file["upload"]

    etag = put(upload["url"], data, upload["headers"])

    assert sha256(stored_bytes(storage, file["key"])) == sha256(data)
    info = storage.head(file["key"])
    assert info is not None
    assert (info.size, info.etag, info.content_type) == (len(data), etag, "text/plain")
    assert b"".join(storage.read_range(file["key"], 10, 19)) == data[10:20]
    assert storage.head(file["key"] + ".missing") is None


def test_multipart_upload_resumed_and_completed(
    api: Client, storage: Storage, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_settings(monkeypatch, settings, inlet_parts_batch=1)
    data = payload(THREE_PARTS, seed=2)
    body = create_run(api, spec("images/disk.img", len(data)))
    run_id, file = body["run"]["id"], body["files"][0]
    upload = file["upload"]
    assert (upload["part_size"], upload["part_count"]) == (5 * MiB, 3)
    assert [p["part_number"] for p in upload["parts"]] == [1]  # the rest is signed on demand
    chunks = [data[i : i + 5 * MiB] for i in range(0, len(data), 5 * MiB)]
    parts_path = file_path(run_id, file["id"], "parts")

    first = put(upload["parts"][0]["url"], chunks[0])
    # A client that lost its state asks the server what the bucket already holds.
    listed = send(api, "GET", parts_path).json_body["parts"]
    assert listed == [{"part_number": 1, "etag": first, "size": 5 * MiB}]

    signed = send(api, "POST", parts_path, {"part_numbers": [2, 3]})
    assert signed.status_code == 200, signed.body
    etags = [first] + [
        put(p["url"], chunks[p["part_number"] - 1]) for p in signed.json_body["parts"]
    ]
    sizes = [p["size"] for p in send(api, "GET", parts_path).json_body["parts"]]
    assert sizes == [5 * MiB, 5 * MiB, 2 * MiB]

    parts = [{"part_number": n, "etag": etag} for n, etag in enumerate(etags, start=1)]
    completed = send(api, "POST", file_path(run_id, file["id"], "complete"), {"parts": parts})

    assert completed.status_code == 200, completed.body
    assert sha256(stored_bytes(storage, file["key"])) == sha256(data)
    assert not open_uploads(storage, run_id)
    assert_error(send(api, "GET", parts_path), 409, "upload_completed")  # nothing to resume


def test_bucket_lets_the_allowed_origin_read_etags(api: Client) -> None:
    upload = create_run(api, spec(size=THREE_PARTS))["files"][0]["upload"]
    response = requests.options(
        upload["parts"][0]["url"],
        headers={"Origin": CORS_ORIGIN, "Access-Control-Request-Method": "PUT"},
        timeout=10,
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == CORS_ORIGIN
    assert "ETag" in response.headers["Access-Control-Expose-Headers"]
