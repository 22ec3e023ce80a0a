"""Malformed and hostile requests: each gets the contract's 4xx JSON error and changes nothing,
neither a database row (on SQLite and Postgres) nor a multipart upload in the bucket."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field

import pytest
from chalice.test import Client

from chalicelib.config import GiB, MiB, Settings
from chalicelib.db import Database
from chalicelib.storage import Storage
from tests.support.api import (
    TWO_PARTS,
    assert_error,
    create_run,
    file_path,
    open_uploads,
    send,
    set_run_status,
    snapshot,
    spec,
    upload_part,
    use_settings,
)


@dataclass(frozen=True)
class World:
    """A pending run with a single-PUT and a two-part file, and a second run with its own file."""

    run: str
    single: str
    multi: str
    multi_key: str
    upload_id: str
    other_run: str
    other_file: str


Prepare = Callable[[Client, Database, Storage, World], None]


@dataclass(frozen=True)
class Case:
    method: str
    path: str  # formatted with the World's fields
    body: object = None
    expect: tuple[int, str] = (422, "validation_error")  # status and error code
    prepare: Prepare | None = None
    settings: dict[str, object] = field(default_factory=dict)
    content_type: str | None = "application/json"  # None: no Content-Type header


@pytest.fixture
def world(api: Client, storage: Storage) -> Iterator[World]:
    first = create_run(api, spec("small.txt", 10), spec("big.bin", TWO_PARTS))
    second = create_run(api, spec("other.bin", TWO_PARTS))
    single, multi = first["files"]
    yield World(
        run=first["run"]["id"],
        single=single["id"],
        multi=multi["id"],
        multi_key=multi["key"],
        upload_id=multi["upload"]["upload_id"],
        other_run=second["run"]["id"],
        other_file=second["files"][0]["id"],
    )
    for run in (first, second):  # keep the shared bucket small
        for key, upload_id in open_uploads(storage, run["run"]["id"]):
            storage.abort_multipart(key, upload_id)


# --- states the bad requests meet ---------------------------------------------------------


def upload_parts(_: Client, __: Database, storage: Storage, world: World) -> None:
    upload_part(storage, world.multi_key, world.upload_id, 1, b"a" * 5 * MiB)
    upload_part(storage, world.multi_key, world.upload_id, 2, b"b")


def complete_once(api: Client, db: Database, storage: Storage, world: World) -> None:
    upload_parts(api, db, storage, world)
    response = send(api, "GET", file_path(world.run, world.multi, "parts"))
    parts = [
        {"part_number": p["part_number"], "etag": p["etag"]} for p in response.json_body["parts"]
    ]
    completed = send(api, "POST", file_path(world.run, world.multi, "complete"), {"parts": parts})
    assert completed.status_code == 200, completed.body


def cancel(api: Client, _: Database, __: Storage, world: World) -> None:
    assert send(api, "DELETE", f"/v1/uploads/{world.run}").status_code == 200


def status(value: str) -> Prepare:
    def prepare(_: Client, db: Database, __: Storage, world: World) -> None:
        set_run_status(db, world.run, value)

    return prepare


# --- the requests -------------------------------------------------------------------------


def upload(*files: dict[str, object], **fields: object) -> dict[str, object]:
    return {"type": "app_bundle", "files": list(files) or [spec()], **fields}


def cursor(payload: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


UPLOADS = "/v1/uploads"
SIGN = "/v1/uploads/{run}/files/{multi}/parts"
COMPLETE = "/v1/uploads/{run}/files/{multi}/complete"
UNKNOWN = str(uuid.UUID(int=7))
NOW = "2026-01-01T00:00:00+00:00"
TWO = [{"part_number": 1, "etag": '"a"'}, {"part_number": 2, "etag": '"b"'}]
NESTED = b'{"a":' * 100_000 + b"1" + b"}" * 100_000
BAD_REQUEST = (400, "bad_request")
TOO_LARGE = (413, "too_large")
NOT_FOUND = (404, "not_found")
NOT_PENDING = (409, "run_not_pending")
NOT_MULTIPART = (409, "not_multipart")
COMPLETED = (409, "upload_completed")
NOT_JSON = (415, "unsupported_media_type")

CASES = {
    # POST /v1/uploads: not a JSON object
    "not-json": Case("POST", UPLOADS, b"{not json", expect=BAD_REQUEST),
    "empty-body": Case("POST", UPLOADS, b"", expect=BAD_REQUEST),
    "json-array": Case("POST", UPLOADS, [upload()], expect=BAD_REQUEST),
    "json-string": Case("POST", UPLOADS, b'"upload"', expect=BAD_REQUEST),
    "json-null": Case("POST", UPLOADS, b"null", expect=BAD_REQUEST),
    "invalid-utf8": Case("POST", UPLOADS, b'{"type": "\xff\xfe"}', expect=BAD_REQUEST),
    "deeply-nested": Case("POST", UPLOADS, NESTED, expect=BAD_REQUEST),
    "body-over-limit": Case("POST", UPLOADS, upload(notes="x" * MiB), expect=TOO_LARGE),
    # not declared JSON: refused before the body is read (browsers send these without a preflight)
    "upload-text-plain": Case(
        "POST", UPLOADS, upload(), content_type="text/plain", expect=NOT_JSON
    ),
    "upload-form": Case(
        "POST",
        UPLOADS,
        b"type=app_bundle",
        content_type="application/x-www-form-urlencoded",
        expect=NOT_JSON,
    ),
    "upload-no-content-type": Case("POST", UPLOADS, upload(), content_type=None, expect=NOT_JSON),
    "sign-multipart-form": Case(
        "POST",
        SIGN,
        {"part_numbers": [1]},
        content_type="multipart/form-data; boundary=b",
        expect=NOT_JSON,
    ),
    "complete-text-plain": Case(
        "POST", COMPLETE, {"parts": TWO}, content_type="text/plain;charset=UTF-8", expect=NOT_JSON
    ),
    # wrong types and missing fields
    "size-string": Case("POST", UPLOADS, upload(spec(size="12"))),
    "size-float": Case("POST", UPLOADS, upload(spec(size=1.5))),
    "size-bool": Case("POST", UPLOADS, upload(spec(size=True))),
    "size-null": Case("POST", UPLOADS, upload(spec(size=None))),
    "size-nan": Case(
        "POST", UPLOADS, b'{"type": "app_bundle", "files": [{"name": "a", "size": NaN}]}'
    ),
    "size-5000-digits": Case(
        "POST",
        UPLOADS,
        b'{"type": "app_bundle", "files": [{"name": "a", "size": 1%s}]}' % (b"0" * 5000),
        expect=BAD_REQUEST,
    ),
    "size-missing": Case("POST", UPLOADS, upload({"name": "a.bin"})),
    "type-number": Case("POST", UPLOADS, {"type": 5, "files": [spec()]}),
    "type-missing": Case("POST", UPLOADS, {"files": [spec()]}),
    "type-unknown": Case("POST", UPLOADS, {"type": "bogus", "files": [spec()]}),
    "files-empty": Case("POST", UPLOADS, {"type": "app_bundle", "files": []}),
    "files-object": Case("POST", UPLOADS, {"type": "app_bundle", "files": spec()}),
    "unknown-field": Case("POST", UPLOADS, upload({**spec(), "sizes": 3})),
    "label-too-long": Case("POST", UPLOADS, upload(label="x" * 201)),
    "label-nul": Case("POST", UPLOADS, upload(spec(size=TWO_PARTS), label="a\x00b")),
    "notes-nul": Case("POST", UPLOADS, upload(notes="a\x00b")),
    "label-lone-surrogate": Case(
        "POST",
        UPLOADS,
        b'{"type": "app_bundle", "label": "\\ud800", "files": [{"name": "a", "size": 1}]}',
    ),
    # sizes
    "size-negative": Case("POST", UPLOADS, upload(spec(size=-1))),
    "size-over-limit": Case("POST", UPLOADS, upload(spec(size=50 * GiB + 1)), expect=TOO_LARGE),
    "size-astronomic": Case("POST", UPLOADS, upload(spec(size=10**30)), expect=TOO_LARGE),
    "second-file-over-limit": Case(
        "POST", UPLOADS, upload(spec(size=TWO_PARTS), spec(size=51 * GiB)), expect=TOO_LARGE
    ),
    "too-many-files": Case(
        "POST",
        UPLOADS,
        upload(*[spec(f"{n}.bin", TWO_PARTS) for n in range(3)]),
        settings={"inlet_max_files_per_run": 2},
        expect=TOO_LARGE,
    ),
    # hostile names, digests and media types
    "name-dotdot": Case("POST", UPLOADS, upload(spec("../../etc/passwd"))),
    "name-dotdot-windows": Case("POST", UPLOADS, upload(spec("..\\..\\boot.ini"))),
    "name-absolute": Case("POST", UPLOADS, upload(spec("/etc/passwd"))),
    "name-nul": Case("POST", UPLOADS, upload(spec("etc\x00.tgz"))),
    "name-newline": Case("POST", UPLOADS, upload(spec("a\nb.txt"))),
    "name-bidi-override": Case("POST", UPLOADS, upload(spec("gpj.\u202eexe"))),
    "name-bidi-isolate": Case("POST", UPLOADS, upload(spec("a\u2067b.txt"))),
    "name-escape-sequence": Case("POST", UPLOADS, upload(spec("a\x1b[2Jb.txt"))),
    "name-c1-control": Case("POST", UPLOADS, upload(spec("a\x9bb.txt"))),
    "name-trailing-newline": Case("POST", UPLOADS, upload(spec("a.txt\n"))),
    "label-bidi-override": Case("POST", UPLOADS, upload(label="run \u202egpj.exe")),
    "label-bell": Case("POST", UPLOADS, upload(label="ding\x07")),
    "notes-bidi-override": Case("POST", UPLOADS, upload(notes="fine\nthen \u202eevil")),
    "name-10kb": Case("POST", UPLOADS, upload(spec("a" * 10_000))),
    "name-blank": Case("POST", UPLOADS, upload(spec("   "))),
    "name-empty-segment": Case("POST", UPLOADS, upload(spec("a//b"))),
    "sha256-not-hex": Case("POST", UPLOADS, upload(spec(sha256="z" * 64))),
    "sha256-short": Case("POST", UPLOADS, upload(spec(sha256="a" * 63))),
    "content-type-bare": Case("POST", UPLOADS, upload(spec(content_type="gzip"))),
    "content-type-header-injection": Case(
        "POST", UPLOADS, upload(spec(content_type="text/plain\r\nX-Evil: 1"))
    ),
    # signing parts
    "part-zero": Case("POST", SIGN, {"part_numbers": [0]}),
    "part-10001": Case("POST", SIGN, {"part_numbers": [10_001]}),
    "part-beyond-count": Case("POST", SIGN, {"part_numbers": [2, 3]}),
    "part-duplicates": Case("POST", SIGN, {"part_numbers": [1, 1]}),
    "part-none": Case("POST", SIGN, {"part_numbers": []}),
    "part-string": Case("POST", SIGN, {"part_numbers": ["1"]}),
    "part-too-many": Case("POST", SIGN, {"part_numbers": list(range(1, 1002))}),
    "sign-not-json": Case("POST", SIGN, b"part_numbers=1", expect=BAD_REQUEST),
    "sign-single-put": Case(
        "POST",
        "/v1/uploads/{run}/files/{single}/parts",
        {"part_numbers": [1]},
        expect=NOT_MULTIPART,
    ),
    "list-parts-single-put": Case(
        "GET", "/v1/uploads/{run}/files/{single}/parts", expect=NOT_MULTIPART
    ),
    "sign-unknown-run": Case(
        "POST",
        f"/v1/uploads/{UNKNOWN}/files/{{multi}}/parts",
        {"part_numbers": [1]},
        expect=NOT_FOUND,
    ),
    "sign-run-not-uuid": Case(
        "POST",
        "/v1/uploads/not-a-uuid/files/{multi}/parts",
        {"part_numbers": [1]},
        expect=NOT_FOUND,
    ),
    "sign-unknown-file": Case(
        "POST",
        f"/v1/uploads/{{run}}/files/{UNKNOWN}/parts",
        {"part_numbers": [1]},
        expect=NOT_FOUND,
    ),
    "sign-file-not-uuid": Case(
        "POST", "/v1/uploads/{run}/files/..%2F..%2Fx/parts", {"part_numbers": [1]}, expect=NOT_FOUND
    ),
    "sign-file-of-another-run": Case(
        "POST",
        "/v1/uploads/{run}/files/{other_file}/parts",
        {"part_numbers": [1]},
        expect=NOT_FOUND,
    ),
    "list-parts-file-of-another-run": Case(
        "GET", "/v1/uploads/{run}/files/{other_file}/parts", expect=NOT_FOUND
    ),
    "sign-cancelled-run": Case(
        "POST", SIGN, {"part_numbers": [1]}, prepare=cancel, expect=NOT_PENDING
    ),
    "list-parts-cancelled-run": Case("GET", SIGN, prepare=cancel, expect=NOT_PENDING),
    # completing
    "complete-missing-part": Case("POST", COMPLETE, {"parts": TWO[:1]}),
    "complete-extra-part": Case("POST", COMPLETE, {"parts": [*TWO, {**TWO[0], "part_number": 3}]}),
    "complete-out-of-order": Case("POST", COMPLETE, {"parts": TWO[::-1]}),
    "complete-duplicates": Case("POST", COMPLETE, {"parts": [TWO[0], *TWO]}),
    "complete-empty-etag": Case("POST", COMPLETE, {"parts": [TWO[0], {**TWO[1], "etag": ""}]}),
    "complete-no-parts": Case("POST", COMPLETE, {"parts": []}),
    "complete-sha256-not-hex": Case("POST", COMPLETE, {"parts": TWO, "sha256": "zz" * 32}),
    # the declared sha256 is committed only once the request is known to be valid
    "complete-missing-part-with-sha256": Case(
        "POST", COMPLETE, {"parts": TWO[:1], "sha256": "ab" * 32}
    ),
    "complete-etag-nul": Case(
        "POST", COMPLETE, {"parts": [TWO[0], {**TWO[1], "etag": '"\x00"'}]}, prepare=upload_parts
    ),
    "complete-wrong-etags": Case("POST", COMPLETE, {"parts": TWO}, prepare=upload_parts),
    "complete-twice": Case(
        "POST", COMPLETE, {"parts": TWO}, prepare=complete_once, expect=COMPLETED
    ),
    "complete-cancelled-run": Case(
        "POST", COMPLETE, {"parts": TWO}, prepare=cancel, expect=NOT_PENDING
    ),
    "complete-stored-run": Case(
        "POST", COMPLETE, {"parts": TWO}, prepare=status("stored"), expect=NOT_PENDING
    ),
    "complete-file-of-another-run": Case(
        "POST", "/v1/uploads/{other_run}/files/{multi}/complete", {"parts": TWO}, expect=NOT_FOUND
    ),
    # cancelling
    "cancel-stored-run": Case(
        "DELETE", "/v1/uploads/{run}", prepare=status("stored"), expect=NOT_PENDING
    ),
    "cancel-failed-run": Case(
        "DELETE", "/v1/uploads/{run}", prepare=status("failed"), expect=NOT_PENDING
    ),
    "cancel-expired-run": Case(
        "DELETE", "/v1/uploads/{run}", prepare=status("expired"), expect=NOT_PENDING
    ),
    "cancel-unknown-run": Case("DELETE", f"/v1/uploads/{UNKNOWN}", expect=NOT_FOUND),
    "cancel-run-not-uuid": Case("DELETE", "/v1/uploads/1%20OR%201=1", expect=NOT_FOUND),
    # reading runs
    "run-unknown": Case("GET", f"/v1/runs/{UNKNOWN}", expect=NOT_FOUND),
    "run-not-uuid": Case("GET", "/v1/runs/latest", expect=NOT_FOUND),
    "list-status-bogus": Case("GET", "/v1/runs?status=bogus"),
    "list-limit-zero": Case("GET", "/v1/runs?limit=0"),
    "list-limit-negative": Case("GET", "/v1/runs?limit=-1"),
    "list-limit-too-big": Case("GET", "/v1/runs?limit=201"),
    "list-limit-word": Case("GET", "/v1/runs?limit=abc"),
    "list-limit-superscript": Case("GET", "/v1/runs?limit=%C2%B2"),
    "list-limit-4301-digits": Case("GET", "/v1/runs?limit=" + "1" * 4301),
    "list-limit-50000-digits": Case("GET", "/v1/runs?limit=" + "9" * 50_000),
    "list-type-too-long": Case("GET", "/v1/runs?type=" + "x" * 65),
    "list-type-nul": Case("GET", "/v1/runs?type=a%00b"),
    "list-unknown-parameter": Case("GET", "/v1/runs?sort=oldest"),
    "cursor-garbage": Case("GET", "/v1/runs?cursor=!!not-base64!!"),
    "cursor-not-object": Case("GET", f"/v1/runs?cursor={cursor([1, 2])}"),
    "cursor-missing-id": Case("GET", f"/v1/runs?cursor={cursor({'t': NOW})}"),
    "cursor-bad-time": Case("GET", f"/v1/runs?cursor={cursor({'t': 5, 'id': UNKNOWN})}"),
    "cursor-id-number": Case("GET", f"/v1/runs?cursor={cursor({'t': NOW, 'id': 7})}"),
    "cursor-time-out-of-range": Case(
        "GET", f"/v1/runs?cursor={cursor({'t': '0001-01-01T00:00:00+01:00', 'id': UNKNOWN})}"
    ),
    "cursor-deeply-nested": Case(
        "GET", f"/v1/runs?cursor={base64.urlsafe_b64encode(b'[' * 5000).decode()}"
    ),
    "cursor-naive-time": Case(
        "GET", f"/v1/runs?cursor={cursor({'t': '2026-01-01T00:00:00', 'id': UNKNOWN})}"
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_bad_request_changes_nothing(
    api: Client,
    db: Database,
    storage: Storage,
    settings: Settings,
    world: World,
    monkeypatch: pytest.MonkeyPatch,
    case: Case,
) -> None:
    if case.prepare:
        case.prepare(api, db, storage, world)
    if case.settings:
        use_settings(monkeypatch, settings, **case.settings)
    rows, uploads = snapshot(db), open_uploads(storage)

    path = case.path.format(**asdict(world))
    if case.content_type == "application/json":
        response = send(api, case.method, path, case.body)
    else:
        raw = case.body if isinstance(case.body, bytes) else json.dumps(case.body).encode()
        headers = {} if case.content_type is None else {"Content-Type": case.content_type}
        response = api.http.request(case.method, path, headers=headers, body=raw)

    assert_error(response, *case.expect)
    assert snapshot(db) == rows
    assert open_uploads(storage) == uploads


def test_there_are_enough_distinct_cases() -> None:
    assert len(CASES) >= 25
    distinct = {(c.method, c.path, repr(c.body), c.prepare, c.content_type) for c in CASES.values()}
    assert len(distinct) == len(CASES)
