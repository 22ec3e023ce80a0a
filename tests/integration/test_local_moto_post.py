"""The local stack's moto (`local.moto_s3`) answers a browser's presigned POST as S3 does: with
the stored object's ETag, its Location, and the bucket's CORS headers for an allowed origin, so
that a page (Uppy) can read them. The S3 cases run against the tests' S3 endpoint (LocalStack in
its leg, which answers so too); the other answers are compared with moto as shipped."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from chalicelib.config import Settings
from chalicelib.storage import PresignedPost, Storage, make_s3_client
from local.processes import HOST, free_port, moto_server, process_group, wait_until_ok
from local.resources import ensure_upload_bucket
from tests.support.config import BUCKET, CORS_ORIGIN

DATA = os.urandom(1000)
OTHER_ORIGIN = "http://elsewhere.example"
# Headers that differ between any two answers (time, random ids).
VOLATILE = {"date", "last-modified", "x-amzn-requestid", "x-amz-version-id"}

Answer = tuple[int, dict[str, str], bytes]


def new_key() -> str:
    return f"runs/{uuid.uuid4()}/{uuid.uuid4()}/notes.txt"


def upload_bucket(endpoint: str) -> Storage:
    """The upload bucket as the stacks make it (versioned, CORS for CORS_ORIGIN)."""
    s3 = make_s3_client(Settings(s3_endpoint_url=endpoint))
    ensure_upload_bucket(s3, BUCKET, [CORS_ORIGIN])
    return Storage(s3, BUCKET, 900)


def inlets_post(storage: Storage, key: str) -> PresignedPost:
    """Inlet's own POST (`success_action_status` 201), as the Companion routes hand it to Uppy."""
    return storage.presign_post(key, len(DATA), "text/plain", None)


def plain_post(storage: Storage, key: str) -> PresignedPost:
    """boto3's POST with no fields of its own: S3 answers it 204."""
    post = storage.presigner.generate_presigned_post(storage.bucket, key)
    return PresignedPost(url=post["url"], fields=post["fields"])


def send_form(post: PresignedPost, origin: str, fields: dict[str, str] | None = None) -> Answer:
    """The form a browser sends from `origin`: the fields, then the file, as multipart/form-data."""
    response = requests.post(
        post.url,
        data=post.fields if fields is None else fields,
        files={"file": ("blob", DATA)},
        headers={"Origin": origin},
        timeout=60,
    )
    return answer(response)


def answer(response: requests.Response) -> Answer:
    """Status, headers (lower-case names, volatile ones left out) and body."""
    headers = {k.lower(): v for k, v in response.headers.items() if k.lower() not in VOLATILE}
    return response.status_code, headers, response.content


@pytest.fixture
def bucket(s3_endpoint: str) -> Storage:
    """The upload bucket on the tests' S3 endpoint."""
    return upload_bucket(s3_endpoint)


@pytest.mark.parametrize(("form", "status"), [(inlets_post, 201), (plain_post, 204)])
def test_a_post_is_answered_with_the_objects_etag_location_and_cors(
    bucket: Storage, form: Callable[[Storage, str], PresignedPost], status: int
) -> None:
    key = new_key()

    code, headers, _ = send_form(form(bucket, key), CORS_ORIGIN)

    assert code == status, headers
    assert headers["etag"] == bucket.client.head_object(Bucket=BUCKET, Key=key)["ETag"]
    assert headers["location"].endswith(f"/{key}")
    assert headers["access-control-allow-origin"] == CORS_ORIGIN
    exposed = {name.strip().lower() for name in headers["access-control-expose-headers"].split(",")}
    assert {"etag", "location"} <= exposed


def test_an_origin_outside_the_rule_gets_no_cors_headers(bucket: Storage) -> None:
    key = new_key()

    code, headers, _ = send_form(inlets_post(bucket, key), OTHER_ORIGIN)

    assert code == 201, headers
    assert headers["etag"] == bucket.client.head_object(Bucket=BUCKET, Key=key)["ETag"]
    assert not {name for name in headers if name.startswith("access-control-")}


# --- Every other answer is moto's: the local stack's moto next to moto as shipped ---------------


@pytest.fixture(scope="module")
def stock_moto() -> Iterator[Storage]:
    """`python -m moto.server`, as moto ships it."""
    port = free_port()
    command = [sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(port)]
    with process_group(command, Path(os.devnull)) as process:
        url = f"http://{HOST}:{port}"
        wait_until_ok(f"{url}/moto-api/", 30, process)
        yield upload_bucket(url)


@pytest.fixture(scope="module")
def local_moto() -> Iterator[Storage]:
    """The local stack's moto (whatever the tests' S3 endpoint is)."""
    with moto_server() as url:
        yield upload_bucket(url)


def test_moto_as_shipped_answers_a_post_with_none_of_it(
    stock_moto: Storage, local_moto: Storage
) -> None:
    key = new_key()

    shipped = send_form(inlets_post(stock_moto, key), CORS_ORIGIN)
    code, headers, body = send_form(inlets_post(local_moto, key), CORS_ORIGIN)

    assert code == 201
    assert {"etag", "location", "access-control-allow-origin"} <= set(headers)
    added = {"etag", "location"} | {name for name in headers if name.startswith("access-control-")}
    assert shipped == (code, {k: v for k, v in headers.items() if k not in added}, body)


def test_a_refused_post_keeps_motos_answer(stock_moto: Storage, local_moto: Storage) -> None:
    def without_key(storage: Storage) -> Answer:
        post = inlets_post(storage, new_key())
        fields = {name: value for name, value in post.fields.items() if name != "key"}
        return send_form(post, CORS_ORIGIN, fields)

    shipped = without_key(stock_moto)

    assert shipped[0] >= 400
    assert without_key(local_moto) == shipped


def test_a_put_keeps_motos_answer(stock_moto: Storage, local_moto: Storage) -> None:
    def put(storage: Storage) -> Answer:
        signed = storage.presign_put(new_key(), "text/plain", len(DATA))
        headers = {"Origin": CORS_ORIGIN, **signed.headers}
        return answer(requests.put(signed.url, data=DATA, headers=headers, timeout=60))

    shipped = put(stock_moto)

    assert shipped[0] == 200
    assert "etag" in shipped[1]
    assert put(local_moto) == shipped


def test_delete_objects_shares_the_post_route_and_still_deletes(local_moto: Storage) -> None:
    key = new_key()
    local_moto.client.put_object(Bucket=BUCKET, Key=key, Body=DATA)

    deleted = local_moto.client.delete_objects(Bucket=BUCKET, Delete={"Objects": [{"Key": key}]})

    assert [d["Key"] for d in deleted["Deleted"]] == [key]
    assert "Contents" not in local_moto.client.list_objects_v2(Bucket=BUCKET, Prefix=key)
