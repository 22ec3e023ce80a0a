"""Companion's uploads where the bucket enforces what Inlet signed: LocalStack with signature
checks (`make test-localstack`). moto takes any POST form and any part length, so there
test_companion.py can only show Inlet's own verification failing the run; here the bucket
refuses the bytes itself, nothing lands at the key, and the run stays pending.

LocalStack does not check a POST policy's signature (a TODO in its `validate_post_policy`), so a
form whose policy was rewritten is not tested here; it does check the policy's expiry and every
condition: the key, the fields and `content-length-range`."""

from __future__ import annotations

import hashlib
import os
import time
from typing import Any

import pytest
import requests
from chalice.test import Client

from chalicelib.events import Outcome
from chalicelib.storage import CHECKSUM_HEADER, Storage
from tests.integration.test_companion import (
    call,
    claim_parts,
    claim_post,
    create_multipart,
    declare,
    handle_event,
    params_path,
    post_form,
    run_of,
    upload_path,
)
from tests.integration.test_localstack import b64, refused
from tests.support.api import sha256

pytestmark = [pytest.mark.localstack, pytest.mark.usefixtures("localstack")]

DATA = os.urandom(1000)


def presigned_post(api: Client, **metadata: str) -> dict[str, Any]:
    """`GET s3/params` for DATA, as Uppy asks for it (its size in the meta)."""
    response = call(api, "GET", params_path("notes.txt", len(DATA), **metadata))
    assert response.status_code == 200, response.body
    params: dict[str, Any] = response.json_body
    return params


def with_fields(params: dict[str, Any], **changes: str) -> dict[str, Any]:
    return params | {"fields": params["fields"] | changes}


def assert_untouched(api: Client, storage: Storage, key: str) -> None:
    """Nothing at the key, and the run still waiting for its file."""
    assert storage.head(key) is None
    assert run_of(api, key)["status"] == "pending"


def test_a_post_of_exactly_the_declared_size_is_stored(api: Client, storage: Storage) -> None:
    params = presigned_post(api)
    key = params["fields"]["key"]

    posted = post_form(params, DATA)

    assert posted.status_code == 201, posted.text
    head = storage.client.head_object(Bucket=storage.bucket, Key=key)
    assert (head["ContentLength"], head["ContentType"], head["ContentDisposition"]) == (
        len(DATA),
        "text/plain",
        "attachment",
    )
    assert handle_event(storage, key) == Outcome.STORED
    run = run_of(api, key)
    assert run["status"] == "stored"
    assert run["files"][0]["sha256"] == sha256(DATA)


@pytest.mark.parametrize(
    ("body", "code"),
    [(DATA + b"!", "EntityTooLarge"), (DATA[:-1], "EntityTooSmall")],
    ids=["one-byte-more", "one-byte-fewer"],
)
def test_a_post_of_another_size_is_refused_by_the_bucket(
    api: Client, storage: Storage, body: bytes, code: str
) -> None:
    params = presigned_post(api)
    key = params["fields"]["key"]

    refused(post_form(params, body), 400, code)

    assert_untouched(api, storage, key)
    # The refusal was the size's: the same policy still takes the declared bytes.
    assert post_form(params, DATA).status_code == 201


def test_a_post_changing_a_pinned_field_is_refused(api: Client, storage: Storage) -> None:
    params = presigned_post(api)
    key = params["fields"]["key"]
    other_key = presigned_post(api)["fields"]["key"]  # another pending file's key

    for tampered in (
        with_fields(params, key=other_key),
        with_fields(params, **{"Content-Type": "text/html"}),
        with_fields(params, **{"Content-Disposition": "inline"}),  # rendered, not saved
    ):
        response = post_form(tampered, DATA)
        refused(response, 403, "AccessDenied")
        assert "Policy Condition failed" in response.text

    assert_untouched(api, storage, key)
    assert_untouched(api, storage, other_key)
    assert post_form(params, DATA).status_code == 201


def test_an_expired_post_policy_is_refused(api: Client, storage: Storage) -> None:
    key = presigned_post(api)["fields"]["key"]
    # The route signs for INLET_PRESIGN_TTL (a minute at least): the same policy, one second long.
    short = storage.presign_post(key, len(DATA), "text/plain", None, ttl=1)
    time.sleep(2.5)

    response = post_form({"url": short.url, "fields": short.fields}, DATA)

    refused(response, 403, "AccessDenied")
    assert "Policy expired" in response.text
    assert_untouched(api, storage, key)


def test_a_declared_sha256_pins_the_posted_bytes(api: Client, storage: Storage) -> None:
    params = presigned_post(api, sha256=sha256(DATA))
    key = params["fields"]["key"]
    other = os.urandom(len(DATA))

    # The checksum of the other bytes instead of the declared one: a pinned field changed.
    forged = with_fields(params, **{CHECKSUM_HEADER: b64(hashlib.sha256(other).hexdigest())})
    refused(post_form(forged, other), 403, "AccessDenied")
    assert_untouched(api, storage, key)

    # Other bytes under the declared checksum: the bucket checks them against it (LocalStack
    # only because the policy carries `x-amz-checksum-algorithm` too) and stores nothing.
    refused(post_form(params, other), 400, "InvalidRequest")
    assert_untouched(api, storage, key)
    assert post_form(params, DATA).status_code == 201


@pytest.mark.parametrize("length", [len(DATA) + 1, len(DATA) - 1], ids=["longer", "shorter"])
def test_a_part_url_refuses_a_part_of_another_length(
    api: Client, storage: Storage, length: int
) -> None:
    created = create_multipart(api, size=len(DATA))  # one part: the whole file
    signed = call(api, "GET", upload_path(created, "1"))
    assert signed.status_code == 200, signed.body
    url = signed.json_body["url"]

    response = requests.put(url, data=os.urandom(length), timeout=30)

    refused(response, 403, "SignatureDoesNotMatch")
    assert storage.list_parts(created["key"], created["uploadId"]) == []
    assert requests.put(url, data=DATA, timeout=30).status_code == 200


def test_a_declared_files_uploads_are_pinned_to_its_declaration(
    api: Client, storage: Storage
) -> None:
    """Through a run's own endpoint (no token, no size line): the bucket holds Uppy's POST and
    parts to the sizes the app declared."""
    declared = declare(api, {"notes.txt": DATA, "disk.img": DATA})
    prefix = f"{declared['companion_endpoint']}/s3"
    params = claim_post(api, prefix, "notes.txt").json_body
    created = claim_parts(api, prefix, "disk.img").json_body
    part_url = call(api, "GET", upload_path(created, "1", prefix)).json_body["url"]

    refused(post_form(params, DATA + b"!"), 400, "EntityTooLarge")
    refused(requests.put(part_url, data=DATA + b"!", timeout=30), 403, "SignatureDoesNotMatch")

    assert_untouched(api, storage, params["fields"]["key"])
    assert storage.list_parts(created["key"], created["uploadId"]) == []
    assert post_form(params, DATA).status_code == 201
    assert handle_event(storage, params["fields"]["key"]) == Outcome.STORED
    assert run_of(api, params["fields"]["key"])["status"] == "pending"  # disk.img to go
