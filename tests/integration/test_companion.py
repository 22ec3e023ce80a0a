"""Companion's S3 routes (`/v1/companion/s3/...`, what `@uppy/aws-s3` calls): their JSON shapes,
tokens and owners, and uploads carried out for real (a presigned POST as a browser form, parts
PUT to their URLs) over HTTP to the moto server, ending `stored` once the bucket's event is
processed; on SQLite and Postgres."""

from __future__ import annotations

import base64
import json
import os
from typing import Any
from urllib.parse import quote, urlencode

import pytest
import requests
from chalice.test import Client, HTTPResponse

import app as app_module
from chalicelib import tokens
from chalicelib.config import MiB, Settings
from chalicelib.db import Database
from chalicelib.events import Outcome
from chalicelib.sqs import ObjectEvent
from chalicelib.storage import Storage
from tests.support.api import TWO_PARTS, open_uploads, sha256, use_settings
from tests.support.config import CORS_ORIGIN

S3 = "/v1/companion/s3"
SMALL = os.urandom(1000)
BIG = os.urandom(TWO_PARTS)  # two of Uppy's 5 MiB parts: 5 MiB and 1 byte


def call(
    api: Client, method: str, path: str, body: object = None, token: str | None = None
) -> HTTPResponse:
    """A request as Uppy's client sends it: JSON, and the app's headers (a token)."""
    headers = {"Accept": "application/json", "Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    raw = b"" if body is None else json.dumps(body).encode()
    return api.http.request(method, path, headers=headers, body=raw)


def params_path(name: str, size: int, **metadata: str) -> str:
    query = {"filename": name, "type": "text/plain", "metadata[name]": name}
    query |= {f"metadata[{key}]": value for key, value in {"size": str(size), **metadata}.items()}
    return f"{S3}/params?{urlencode(query)}"


def upload_path(upload: dict[str, Any], action: str = "", prefix: str = S3) -> str:
    """A multipart upload's route, under the token's routes or a run's endpoint (`prefix`)."""
    suffix = f"/{action}" if action else ""
    upload_id = quote(upload["uploadId"], safe="")
    return f"{prefix}/multipart/{upload_id}{suffix}?key={quote(upload['key'])}"


def create_multipart(
    api: Client, size: int = len(BIG), token: str | None = None, **metadata: str
) -> dict[str, Any]:
    body = {"filename": "disk image.img", "type": "", "metadata": {"size": str(size), **metadata}}
    response = call(api, "POST", f"{S3}/multipart", body, token)
    assert response.status_code == 200, response.body
    created: dict[str, Any] = response.json_body
    return created


def assert_companion_error(response: HTTPResponse, status: int) -> str:
    """Companion's error: `{"error": "..."}`, with the `message` Uppy shows (and Inlet's code)."""
    assert response.status_code == status, response.body
    body = response.json_body
    assert set(body) == {"error", "message", "code"}
    assert isinstance(body["error"], str)
    assert body["error"]
    assert body["message"] == body["error"]
    message: str = body["error"]
    return message


def post_form(params: dict[str, Any], data: bytes) -> requests.Response:
    """The form a browser sends: the fields, then the file, as multipart/form-data."""
    return requests.post(
        params["url"], data=params["fields"], files={"file": ("blob", data)}, timeout=60
    )


def put_parts(
    api: Client, upload: dict[str, Any], data: bytes, prefix: str = S3
) -> list[dict[str, Any]]:
    """Sign each part one by one (as Uppy does) and PUT it; the parts a complete sends."""
    parts = []
    for number, start in enumerate(range(0, len(data), 5 * MiB), start=1):
        signed = call(api, "GET", upload_path(upload, str(number), prefix))
        assert signed.status_code == 200, signed.body
        sent = requests.put(signed.json_body["url"], data=data[start : start + 5 * MiB], timeout=60)
        assert sent.status_code == 200, sent.text
        parts.append({"PartNumber": number, "ETag": sent.headers["ETag"]})
    return parts


def run_of(api: Client, key: str, token: str | None = None) -> dict[str, Any]:
    """The run an Inlet key belongs to (`runs/{run}/{file}/{name}`), as `/v1/runs` shows it."""
    response = call(api, "GET", f"/v1/runs/{key.split('/')[1]}", token=token)
    assert response.status_code == 200, response.body
    run: dict[str, Any] = response.json_body
    return run


def handle_event(storage: Storage, key: str) -> Outcome:
    return app_module.inlet().events.process(ObjectEvent(storage.bucket, key))


# --- a presigned POST (s3/params) ------------------------------------------------------------


def test_params_returns_a_presigned_post_pinning_the_upload(api: Client, storage: Storage) -> None:
    response = call(api, "GET", params_path("notes/read me.txt", len(SMALL)))

    assert response.status_code == 200, response.body
    params = response.json_body
    assert set(params) == {"method", "url", "fields", "expires"}
    assert (params["method"], params["expires"]) == ("POST", storage.presign_ttl)
    fields = params["fields"]
    key = fields["key"]
    run = run_of(api, key)
    (file,) = run["files"]
    assert key == file["key"] == f"runs/{run['id']}/{file['id']}/readme.txt"  # Inlet's key
    assert (run["status"], run["source"], run["type"]) == ("pending", "api", "app_bundle")
    assert (file["name"], file["size_bytes"], file["content_type"]) == (
        "notes/read me.txt",
        len(SMALL),
        "text/plain",
    )
    assert fields["Content-Type"] == "text/plain"
    assert fields["Content-Disposition"] == "attachment"
    assert fields["success_action_status"] == "201"
    policy = json.loads(base64.b64decode(fields["policy"]))
    assert ["content-length-range", len(SMALL), len(SMALL)] in policy["conditions"]
    assert {"key": key} in policy["conditions"]
    assert {"Content-Type": "text/plain"} in policy["conditions"]


def test_a_declared_sha256_is_a_condition_of_the_post(api: Client) -> None:
    digest = sha256(SMALL)
    response = call(api, "GET", params_path("a.txt", len(SMALL), sha256=digest))

    assert response.status_code == 200, response.body
    fields = response.json_body["fields"]
    checksum = base64.b64encode(bytes.fromhex(digest)).decode()
    assert fields["x-amz-checksum-sha256"] == checksum
    policy = json.loads(base64.b64decode(fields["policy"]))
    assert {"x-amz-checksum-sha256": checksum} in policy["conditions"]
    assert run_of(api, fields["key"])["files"][0]["declared_sha256"] == digest


def test_a_presigned_post_stores_the_file(api: Client, storage: Storage) -> None:
    params = call(api, "GET", params_path("a.txt", len(SMALL))).json_body

    posted = post_form(params, SMALL)

    assert posted.status_code == 201, posted.text
    key = params["fields"]["key"]
    assert handle_event(storage, key) == Outcome.STORED
    run = run_of(api, key)
    assert run["status"] == "stored"
    assert run["files"][0]["sha256"] == sha256(SMALL)


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ({"filename": "a.txt", "type": "text/plain"}, 400),  # no size
        ({"filename": "a.txt", "metadata[size]": "-1"}, 400),
        ({"filename": "a.txt", "metadata[size]": "1e3"}, 400),
        ({"filename": "", "metadata[size]": "10"}, 422),
        ({"filename": "../x", "metadata[size]": "10"}, 422),
        ({"filename": "a", "metadata[size]": "10", "metadata[sha256]": "xyz"}, 422),
        ({"filename": "a", "metadata[size]": "10", "metadata[runType]": "nope"}, 422),
        ({"filename": "a", "metadata[size]": str(6 * 1024 * MiB)}, 413),
        ({"filename": "a", "metadata[size]": "9" * 5000}, 413),
    ],
    ids=[
        *("no-size", "negative", "not-digits", "no-name", "dot-path", "bad-sha", "type", "huge"),
        "5000-digits",
    ],
)
def test_params_refuses_bad_input_and_creates_nothing(
    api: Client, query: dict[str, str], status: int
) -> None:
    response = call(api, "GET", f"{S3}/params?{urlencode(query)}")
    assert_companion_error(response, status)
    assert call(api, "GET", "/v1/runs").json_body["items"] == []


# --- multipart ------------------------------------------------------------------------------


def test_multipart_create_returns_inlet_key_and_upload(api: Client, storage: Storage) -> None:
    created = create_multipart(api, label="Vacances été 🌞")

    assert set(created) == {"key", "uploadId", "bucket"}
    assert created["bucket"] == storage.bucket
    assert (created["key"], created["uploadId"]) in open_uploads(storage)
    run = run_of(api, created["key"])
    assert run["label"] == "Vacances été 🌞"
    (file,) = run["files"]
    assert created["key"] == f"runs/{run['id']}/{file['id']}/diskimage.img"
    assert (file["size_bytes"], file["content_type"]) == (len(BIG), "application/octet-stream")


def test_batch_signs_the_parts_asked_for(api: Client) -> None:
    created = create_multipart(api)

    response = call(api, "GET", upload_path(created, "batch") + "&partNumbers=2,1")

    assert response.status_code == 200, response.body
    urls = response.json_body["presignedUrls"]
    assert set(urls) == {"1", "2"}
    assert all(f"partNumber={n}" in urls[n] for n in urls)
    one = call(api, "GET", upload_path(created, "1")).json_body
    assert set(one) == {"url", "expires"}


@pytest.mark.parametrize(
    ("suffix", "status"),
    [
        ("batch&partNumbers=3", 422),
        ("batch&partNumbers=a", 400),
        ("batch&partNumbers=1,1", 422),
        ("batch", 400),
        ("0", 422),
        ("1,2", 400),
    ],
    ids=["beyond-the-file", "not-a-number", "repeated", "none", "zero", "two-in-one"],
)
def test_bad_part_numbers_are_refused(api: Client, suffix: str, status: int) -> None:
    created = create_multipart(api)
    action, _, extra = suffix.partition("&")
    path = upload_path(created, action) + (f"&{extra}" if extra else "")
    assert_companion_error(call(api, "GET", path), status)


def test_multipart_upload_lists_parts_completes_and_is_stored(
    api: Client, storage: Storage
) -> None:
    created = create_multipart(api)
    parts = put_parts(api, created, BIG)

    listed = call(api, "GET", upload_path(created))
    assert listed.status_code == 200, listed.body
    assert listed.json_body == [
        {"PartNumber": 1, "ETag": parts[0]["ETag"], "Size": 5 * MiB},
        {"PartNumber": 2, "ETag": parts[1]["ETag"], "Size": 1},
    ]

    done = call(api, "POST", upload_path(created, "complete"), {"parts": parts[::-1]})

    assert done.status_code == 200, done.body
    key = created["key"]
    assert done.json_body == {
        "location": storage.object_url(key),
        "key": key,
        "bucket": storage.bucket,
    }
    assert handle_event(storage, key) == Outcome.STORED
    run = run_of(api, key)
    assert run["status"] == "stored"
    assert run["files"][0]["sha256"] == sha256(BIG)


def test_abort_cancels_the_run(api: Client, storage: Storage) -> None:
    created = create_multipart(api)

    response = call(api, "DELETE", upload_path(created))

    assert response.status_code == 200, response.body
    assert response.json_body == {}
    assert run_of(api, created["key"])["status"] == "cancelled"
    assert (created["key"], created["uploadId"]) not in open_uploads(storage)


def test_an_upload_id_that_is_not_the_keys_is_not_found(api: Client) -> None:
    created = create_multipart(api)
    other = create_multipart(api)
    mixed = {"key": created["key"], "uploadId": other["uploadId"]}

    for method, action in [("GET", ""), ("GET", "1"), ("DELETE", "")]:
        assert_companion_error(call(api, method, upload_path(mixed, action)), 404)
    bad_key = {"key": "elsewhere/file.bin", "uploadId": created["uploadId"]}
    assert_companion_error(call(api, "GET", upload_path(bad_key)), 404)
    no_key = f"{S3}/multipart/{quote(created['uploadId'], safe='')}"
    assert_companion_error(call(api, "GET", no_key), 400)


def test_complete_checks_its_body(api: Client) -> None:
    created = create_multipart(api)
    path = upload_path(created, "complete")

    assert_companion_error(call(api, "POST", path, {"parts": [{"PartNumber": 1}]}), 422)
    incomplete = {"parts": [{"PartNumber": 1, "ETag": '"abc"'}]}
    assert_companion_error(call(api, "POST", path, incomplete), 422)


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_bodies_must_be_json(api: Client, content_type: str) -> None:
    created = create_multipart(api)
    declared = declare(api, {"disk.img": BIG})
    endpoint = f"{declared['companion_endpoint']}/s3"
    claimed = claim_parts(api, endpoint, "disk.img").json_body
    for path in (
        f"{S3}/multipart",
        upload_path(created, "complete"),
        f"{endpoint}/multipart",
        upload_path(claimed, "complete", endpoint),
    ):
        response = api.http.request(
            "POST", path, headers={"Content-Type": content_type}, body=b"{}"
        )
        assert_companion_error(response, 415)
        assert response.json_body["code"] == "unsupported_media_type"


# --- tokens, owners, CORS --------------------------------------------------------------------


@pytest.fixture
def required(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> Settings:
    return use_settings(monkeypatch, settings, inlet_auth="required")


def test_without_a_token_every_route_is_401(api: Client, required: Settings) -> None:
    upload = {"key": "runs/x/y/z", "uploadId": "u"}
    for method, path in [
        ("GET", params_path("a.txt", 10)),
        ("POST", f"{S3}/multipart"),
        ("GET", upload_path(upload)),
        ("GET", upload_path(upload, "batch") + "&partNumbers=1"),
        ("GET", upload_path(upload, "1")),
        ("POST", upload_path(upload, "complete")),
        ("DELETE", upload_path(upload)),
    ]:
        response = call(api, method, path, {} if method == "POST" else None)
        assert response.status_code == 401, (method, path, response.body)


def test_another_owners_upload_is_not_found(api: Client, db: Database, required: Settings) -> None:
    alice = tokens.create_token(db, "alice-laptop", "alice")[1]
    bob = tokens.create_token(db, "bob")[1]
    created = create_multipart(api, token=alice)

    for method, action, body in [
        ("GET", "", None),
        ("GET", "1", None),
        ("POST", "complete", {"parts": [{"PartNumber": 1, "ETag": '"e"'}]}),
        ("DELETE", "", None),
    ]:
        response = call(api, method, upload_path(created, action), body, token=bob)
        assert_companion_error(response, 404)
    assert call(api, "GET", upload_path(created), token=alice).status_code == 200
    mine = call(api, "GET", f"/v1/runs/{created['key'].split('/')[1]}", token=alice)
    assert mine.json_body["status"] == "pending"


def test_preflight_allows_the_configured_origin(api: Client) -> None:
    for path in (f"{S3}/params", f"{S3}/multipart/u/complete", f"{S3}/multipart/u"):
        response = api.http.request(
            "OPTIONS",
            path,
            headers={
                "Origin": CORS_ORIGIN,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,content-type",
            },
        )
        assert response.status_code == 204, path
        assert response.headers["Access-Control-Allow-Origin"] == CORS_ORIGIN
        assert "Authorization" in response.headers["Access-Control-Allow-Headers"]
    methods = api.http.request(
        "OPTIONS", f"{S3}/multipart/u", headers={"Origin": CORS_ORIGIN}
    ).headers["Access-Control-Allow-Methods"]
    assert methods == "DELETE, GET, OPTIONS"


def test_a_post_of_more_bytes_than_declared_is_never_stored(api: Client, storage: Storage) -> None:
    """The policy's `content-length-range` makes S3 refuse it (moto may take it): either way the
    bytes Inlet verifies are not the size the file declared, so the run is never `stored`."""
    params = call(api, "GET", params_path("a.txt", len(SMALL))).json_body

    posted = post_form(params, SMALL + b"more")

    key = params["fields"]["key"]
    if posted.status_code == 201:
        assert handle_event(storage, key) != Outcome.STORED
    else:
        assert posted.status_code in (400, 403), posted.text
    assert run_of(api, key)["status"] != "stored"


# --- runs of several files: declared, then claimed by Uppy's files -----------------------------


def declare(api: Client, files: dict[str, bytes], token: str | None = None) -> dict[str, Any]:
    """`POST /v1/companion/runs`, as an app (or its backend) declares the files Uppy will send."""
    specs = [{"name": name, "size": len(data)} for name, data in files.items()]
    response = call(api, "POST", "/v1/companion/runs", {"files": specs}, token)
    assert response.status_code == 201, response.body
    declared: dict[str, Any] = response.json_body
    return declared


def claim_post(
    api: Client, prefix: str, name: str, token: str | None = None, **meta: str
) -> HTTPResponse:
    """`s3/params` for a declared file, as Uppy sends it: no size unless the app adds one."""
    query = {
        "filename": name,
        "type": "text/plain",
        **{f"metadata[{k}]": v for k, v in meta.items()},
    }
    return call(api, "GET", f"{prefix}/params?{urlencode(query)}", token=token)


def claim_parts(
    api: Client, prefix: str, name: str, token: str | None = None, **meta: str
) -> HTTPResponse:
    body = {"filename": name, "type": "application/octet-stream", "metadata": meta}
    return call(api, "POST", f"{prefix}/multipart", body, token)


def test_a_declared_run_has_its_own_companion_endpoint(
    api: Client, db: Database, required: Settings
) -> None:
    alice = tokens.create_token(db, "alice")[1]

    declared = declare(api, {"notes.txt": SMALL, "disk.img": BIG}, alice)

    assert set(declared) == {"run", "files", "companion_endpoint"}
    run = declared["run"]
    assert (run["status"], run["file_count"], run["total_bytes"]) == (
        "pending",
        2,
        len(SMALL) + len(BIG),
    )
    assert [(f["name"], f["size_bytes"]) for f in declared["files"]] == [
        ("notes.txt", len(SMALL)),
        ("disk.img", len(BIG)),
    ]
    assert all("upload" not in f for f in declared["files"])  # Uppy asks for its uploads itself
    endpoint = declared["companion_endpoint"]
    prefix, run_id, key = endpoint.rsplit("/", 2)
    assert (prefix, run_id) == ("/v1/companion/runs", run["id"])
    assert len(key) >= 43  # 256 random bits
    assert call(api, "POST", "/v1/companion/runs", {"files": []}, alice).status_code == 422
    assert (
        call(api, "POST", "/v1/companion/runs", {"files": [{"name": "a", "size": 1}]}).status_code
        == 401
    )


def test_a_batch_through_the_run_endpoint_is_one_stored_run(
    api: Client, db: Database, storage: Storage, required: Settings
) -> None:
    """Uppy 6 sends no token: its Companion URL is the run's endpoint, and no size line is
    needed, since declared files have theirs."""
    alice = tokens.create_token(db, "alice")[1]
    declared = declare(api, {"notes.txt": SMALL, "disk.img": BIG}, alice)
    prefix = f"{declared['companion_endpoint']}/s3"
    small_file, big_file = declared["files"]

    params = claim_post(api, prefix, "notes.txt")
    assert params.status_code == 200, params.body
    assert params.json_body["fields"]["key"] == small_file["key"]
    assert post_form(params.json_body, SMALL).status_code == 201
    created = claim_parts(api, prefix, "disk.img")
    assert created.status_code == 200, created.body
    upload = created.json_body
    assert upload["key"] == big_file["key"]
    assert claim_parts(api, prefix, "disk.img").json_body == upload  # Uppy's retry: the same upload
    parts = put_parts(api, upload, BIG, prefix)
    done = call(api, "POST", upload_path(upload, "complete", prefix), {"parts": parts})
    assert done.status_code == 200, done.body

    assert handle_event(storage, small_file["key"]) == Outcome.STORED
    assert run_of(api, small_file["key"], alice)["status"] == "pending"  # one file to go
    assert handle_event(storage, big_file["key"]) == Outcome.STORED
    run = run_of(api, big_file["key"], alice)
    assert run["status"] == "stored"
    assert {f["name"]: f["sha256"] for f in run["files"]} == {
        "notes.txt": sha256(SMALL),
        "disk.img": sha256(BIG),
    }
    listed = call(api, "GET", "/v1/runs", token=alice).json_body["items"]
    assert [r["id"] for r in listed] == [run["id"]]


def test_a_run_id_in_meta_joins_a_declared_run(
    api: Client, db: Database, storage: Storage, required: Settings
) -> None:
    """With a token (Uppy 5's headers), `metadata[runId]` makes a batch one run. Names match as
    people see them: a Mac sends `é` as `e` and a combining accent."""
    alice = tokens.create_token(db, "alice")[1]
    declared = declare(api, {"caf\u00e9 \U0001f600.txt": SMALL}, alice)
    run_id = declared["run"]["id"]

    params = claim_post(
        api, S3, "cafe\u0301 \U0001f600.txt", alice, runId=run_id, size=str(len(SMALL))
    )

    assert params.status_code == 200, params.body
    key = params.json_body["fields"]["key"]
    assert key == declared["files"][0]["key"]
    assert post_form(params.json_body, SMALL).status_code == 201
    assert handle_event(storage, key) == Outcome.STORED
    assert run_of(api, key, alice)["status"] == "stored"
    assert len(call(api, "GET", "/v1/runs", token=alice).json_body["items"]) == 1


def test_another_owners_run_id_is_not_found(
    api: Client, db: Database, storage: Storage, required: Settings
) -> None:
    alice = tokens.create_token(db, "alice")[1]
    bob = tokens.create_token(db, "bob")[1]
    declared = declare(api, {"disk.img": BIG}, alice)
    run_id = declared["run"]["id"]

    assert_companion_error(claim_post(api, S3, "disk.img", bob, runId=run_id), 404)
    assert_companion_error(claim_parts(api, S3, "disk.img", bob, runId=run_id), 404)

    key = declared["files"][0]["key"]
    assert key not in {k for k, _ in open_uploads(storage)}  # nothing opened for bob
    assert call(api, "GET", f"/v1/runs/{run_id}", token=bob).status_code == 404


def test_a_wrong_endpoint_key_opens_nothing(api: Client, db: Database, required: Settings) -> None:
    alice = tokens.create_token(db, "alice")[1]
    mine = declare(api, {"disk.img": BIG}, alice)
    other = declare(api, {"disk.img": BIG}, alice)
    upload = claim_parts(api, f"{mine['companion_endpoint']}/s3", "disk.img").json_body
    run_id, key = mine["companion_endpoint"].rsplit("/", 2)[1:]
    other_run, other_key = other["companion_endpoint"].rsplit("/", 2)[1:]

    for prefix in (
        f"/v1/companion/runs/{run_id}/{key[:-1]}x/s3",  # a wrong key
        f"/v1/companion/runs/{run_id}/{other_key}/s3",  # another run's key
        f"/v1/companion/runs/not-a-run/{key}/s3",
    ):
        assert_companion_error(claim_post(api, prefix, "disk.img"), 404)
        assert_companion_error(claim_parts(api, prefix, "disk.img"), 404)
        assert_companion_error(call(api, "GET", upload_path(upload, "1", prefix)), 404)
    # The other run's endpoint is no way into this run's uploads.
    other_prefix = f"{other['companion_endpoint']}/s3"
    assert_companion_error(call(api, "GET", upload_path(upload, "1", other_prefix)), 404)
    assert_companion_error(claim_post(api, other_prefix, "disk.img", runId=run_id), 404)
    assert call(api, "GET", f"/v1/runs/{other_run}", token=alice).json_body["status"] == "pending"


@pytest.mark.parametrize(
    ("meta", "status", "says"),
    [
        ({}, 400, "declares 2 files named 'a.txt': name the one"),
        ({"size": "999"}, 404, "declares no file named 'a.txt' of 999 bytes"),
        ({"fileId": "00000000-0000-0000-0000-000000000000"}, 404, "not found in run"),
    ],
)
def test_claims_name_one_declared_file(
    api: Client, meta: dict[str, str], status: int, says: str
) -> None:
    declared = declare(api, {"a.txt": SMALL, "b.txt": SMALL})
    twice = call(api, "POST", "/v1/companion/runs", {"files": [{"name": "a.txt", "size": 1}] * 2})
    prefix = f"{twice.json_body['companion_endpoint']}/s3"

    assert says in assert_companion_error(claim_post(api, prefix, "a.txt", **meta), status)
    unknown = claim_post(api, f"{declared['companion_endpoint']}/s3", "c.txt")
    assert "declares no file named 'c.txt'" in assert_companion_error(unknown, 404)
    first = twice.json_body["files"][0]
    chosen = claim_post(api, prefix, "a.txt", fileId=first["id"])
    assert chosen.json_body["fields"]["key"] == first["key"]


def test_a_claimed_file_takes_one_kind_of_upload(api: Client, storage: Storage) -> None:
    declared = declare(api, {"disk.img": BIG, "notes.txt": SMALL})
    prefix = f"{declared['companion_endpoint']}/s3"
    claim_parts(api, prefix, "disk.img")

    refused = claim_post(api, prefix, "disk.img")
    assert "uploading in parts" in assert_companion_error(refused, 409)
    assert refused.json_body["code"] == "upload_mismatch"
    assert_companion_error(claim_parts(api, prefix, "notes.txt", size="0"), 404)
    params = claim_post(api, prefix, "notes.txt").json_body
    post_form(params, SMALL)
    handle_event(storage, params["fields"]["key"])
    stored = claim_post(api, prefix, "notes.txt")
    assert "is stored already" in assert_companion_error(stored, 409)
    assert stored.json_body["code"] == "file_not_pending"


def test_a_run_declared_with_other_parts_is_refused_with_a_reason(
    api: Client, monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    """`POST /v1/uploads` plans its own parts (INLET_PART_SIZE), which Uppy does not cut."""
    use_settings(monkeypatch, settings, inlet_part_size=8 * MiB)
    spec = {"name": "disk.img", "size": 20 * MiB}
    created = call(api, "POST", "/v1/uploads", {"type": "app_bundle", "files": [spec]})
    assert created.status_code == 201, created.body

    refused = claim_parts(api, S3, "disk.img", runId=created.json_body["run"]["id"])

    says = assert_companion_error(refused, 409)
    assert refused.json_body["code"] == "upload_mismatch"
    assert "in parts of 8388608 bytes (Uppy sends 5242880)" in says
    assert "declare runs for Uppy with POST /v1/companion/runs" in says


def test_abort_in_a_batch_reopens_the_file(api: Client, storage: Storage) -> None:
    """Uppy aborts a file the user removes, and may add it back: the run waits for it."""
    declared = declare(api, {"disk.img": BIG, "notes.txt": SMALL})
    prefix = f"{declared['companion_endpoint']}/s3"
    upload = claim_parts(api, prefix, "disk.img").json_body

    aborted = call(api, "DELETE", upload_path(upload, prefix=prefix))

    assert aborted.status_code == 200, aborted.body
    assert (upload["key"], upload["uploadId"]) not in open_uploads(storage)
    assert run_of(api, upload["key"])["status"] == "pending"
    again = claim_parts(api, prefix, "disk.img").json_body
    assert again["key"] == upload["key"]
    assert again["uploadId"] != upload["uploadId"]
    assert_companion_error(call(api, "GET", upload_path(upload, "1", prefix)), 404)


def test_a_run_that_left_pending_takes_no_claims(api: Client) -> None:
    declared = declare(api, {"notes.txt": SMALL})
    prefix = f"{declared['companion_endpoint']}/s3"
    assert call(api, "DELETE", f"/v1/uploads/{declared['run']['id']}").status_code == 200

    assert "is cancelled" in assert_companion_error(claim_post(api, prefix, "notes.txt"), 409)


def test_the_run_endpoint_answers_preflights(api: Client) -> None:
    declared = declare(api, {"notes.txt": SMALL})
    response = api.http.request(
        "OPTIONS",
        f"{declared['companion_endpoint']}/s3/multipart",
        headers={"Origin": CORS_ORIGIN, "Access-Control-Request-Method": "POST"},
    )
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == CORS_ORIGIN


def test_declaring_a_run_counts_against_the_owners_quotas(
    api: Client, monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    use_settings(monkeypatch, settings, inlet_quota_pending_runs=1)
    declare(api, {"notes.txt": SMALL})

    response = call(api, "POST", "/v1/companion/runs", {"files": [{"name": "b.txt", "size": 1}]})

    assert response.status_code == 429, response.body
    assert response.json_body["error"]["code"] == "quota_exceeded"
    assert int(response.headers["Retry-After"]) >= 1
