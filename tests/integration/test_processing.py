"""Processing of stored runs (chalicelib/processing.py) on SQLite and Postgres with a real
(versioned) moto bucket: run events from the processing queue, manifests through the API,
hostile archives, repeated and forged deliveries, and failures that are retried."""

from __future__ import annotations

import json
import uuid
from collections.abc import Generator
from typing import Any, Literal

import pytest
from chalice.test import Client
from sqlalchemy import insert, select, update

from chalicelib.config import Settings
from chalicelib.db import Database
from chalicelib.errors import NotFound
from chalicelib.events import BucketEvents, Outcome
from chalicelib.models import File, ManifestEntry, ProcessingResult, Run, RunEventType, utcnow
from chalicelib.outbox import event_payload
from chalicelib.processing import Outcome as Processed
from chalicelib.processing import Processing
from chalicelib.schemas import (
    CreateUploadRequest,
    FileSpec,
)
from chalicelib.storage import Storage, make_s3_client
from chalicelib.uploads import Uploads
from tests.support.api import assert_error, closed_url
from tests.support.archives import NESTED, Member, manifest_of, tar_bytes, zip_bytes
from tests.support.events import detail, put, sha256, sqs_message

MANY: list[Member] = [(f"conf/{i:03d}.conf", f"n={i}\n".encode()) for i in range(450)]


def stored_run(
    db: Database,
    storage: Storage,
    settings: Settings,
    files: dict[str, bytes],
    owner: str | None = None,
) -> dict[str, uuid.UUID]:
    """A run created and stored as the API and the bucket events do it: file name -> file id."""
    request = CreateUploadRequest(
        type="app_bundle",
        files=[
            FileSpec(name=name, size=len(data), sha256=sha256(data)) for name, data in files.items()
        ],
    )
    created = Uploads(db, storage, settings).create(request, owner=owner)
    events = BucketEvents(db, storage, settings)
    for spec, data in zip(created.files, files.values(), strict=True):
        assert events.process(put(storage, spec.key, data)) == Outcome.STORED
    assert detail(db, created.run.id).status == "stored"
    return {spec.name: spec.id for spec in created.files} | {"run": created.run.id}


def event_body(
    db: Database,
    run_id: uuid.UUID,
    event_type: Literal["run.stored", "run.failed"] = "run.stored",
) -> str:
    """The run event the outbox sends to the processing queue (schemas.RunEvent as JSON), made
    by the outbox's own builder from the rows."""
    with db.session() as session:
        run = session.get(Run, run_id)
        assert run is not None
        payload = event_payload(uuid.uuid4(), RunEventType(event_type), utcnow(), run, run.files)
    return json.dumps(payload)


def deliver(processing: Processing, *bodies: str) -> list[str]:
    """The SQS event Lambda hands `process_stored_runs`; the ids of the messages to retry."""
    event = {"Records": [sqs_message(f"m{i}", body) for i, body in enumerate(bodies)]}
    return [str(f["itemIdentifier"]) for f in processing.from_queue(event)["batchItemFailures"]]


def manifest(api: Client, run_id: uuid.UUID, file_id: uuid.UUID, query: str = "") -> Any:
    response = api.http.get(f"/v1/runs/{run_id}/files/{file_id}/manifest{query}")
    assert response.status_code == 200, response.body
    return response.json_body


def entry_dicts(members: list[Member]) -> list[dict[str, Any]]:
    return [
        {"path": e.path, "kind": e.kind, "size_bytes": e.size, "sha256": e.sha256}
        for e in manifest_of(members)
    ]


def processing_rows(db: Database) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    with db.session() as session:
        results = session.execute(select(ProcessingResult.__table__)).all()
        entries = session.execute(
            select(ManifestEntry.__table__).order_by(ManifestEntry.file_id, ManifestEntry.seq)
        ).all()
    return sorted((tuple(r) for r in results), key=str), [tuple(e) for e in entries]


@pytest.fixture
def processing(db: Database, storage: Storage, settings: Settings) -> Processing:
    return Processing(db, storage, settings)


def test_a_stored_run_s_archives_get_their_manifests(
    api: Client, db: Database, storage: Storage, processing: Processing
) -> None:
    ids = stored_run(
        db,
        storage,
        processing.settings,
        {
            "bundle é 🎉.zip": zip_bytes(NESTED),
            "etc.tar.gz": tar_bytes(NESTED, gzip=True),
            "plain.tar": tar_bytes(NESTED),
            "notes.txt": b"not an archive",
        },
    )
    run_id = ids["run"]
    assert manifest(api, run_id, ids["etc.tar.gz"])["status"] == "pending"

    assert deliver(processing, event_body(db, run_id)) == []

    for name in ("bundle é 🎉.zip", "etc.tar.gz", "plain.tar"):
        body = manifest(api, run_id, ids[name])
        assert body["status"] == "done"
        assert body["error"] is None
        assert body["entries"] == entry_dicts(NESTED)
        files = [m for m in NESTED if m[1] is not None]
        assert (body["entry_count"], body["file_count"], body["dir_count"]) == (
            len(NESTED),
            len(files),
            len(NESTED) - len(files),
        )
        assert body["total_bytes"] == sum(len(data or b"") for _, data in NESTED)
        assert body["processed_at"] is not None
        assert body["next_cursor"] is None
    assert body["format"] == "tar"
    assert_error(
        api.http.get(f"/v1/runs/{run_id}/files/{ids['notes.txt']}/manifest"), 404, "no_manifest"
    )
    # The files and the run are as they were.
    run = detail(db, run_id)
    assert run.status == "stored"
    assert {f.status for f in run.files} == {"stored"}


def test_pages_of_a_manifest(
    api: Client, db: Database, storage: Storage, processing: Processing
) -> None:
    ids = stored_run(db, storage, processing.settings, {"many.zip": zip_bytes(MANY)})
    run_id, file_id = ids["run"], ids["many.zip"]
    processing.process_run(run_id)

    first = manifest(api, run_id, file_id)
    assert len(first["entries"]) == 200  # the default limit
    seen, cursor = [], ""
    while True:
        page = manifest(api, run_id, file_id, f"?limit=100{cursor}")
        seen += page["entries"]
        if page["next_cursor"] is None:
            break
        cursor = f"&cursor={page['next_cursor']}"
    assert seen == entry_dicts(MANY)
    assert first["entries"] == seen[:200]
    assert len(manifest(api, run_id, file_id, "?limit=1000")["entries"]) == len(MANY)

    base = f"/v1/runs/{run_id}/files/{file_id}/manifest"
    for query in ("?limit=0", "?limit=1001", "?limit=abc", "?limit=-1", "?cursor=nope", "?x=1"):
        assert_error(api.http.get(base + query), 422, "validation_error")
    assert_error(api.http.get(base + "?cursor=eyJzZXEiOiAtMX0"), 422, "validation_error")


def test_another_owner_and_other_runs_files_are_not_found(
    db: Database, storage: Storage, processing: Processing
) -> None:
    mine = stored_run(db, storage, processing.settings, {"a.zip": zip_bytes(NESTED)}, "alice")
    other = stored_run(db, storage, processing.settings, {"b.zip": zip_bytes(NESTED)}, "bob")
    processing.process_run(mine["run"])
    run_id, file_id = str(mine["run"]), str(mine["a.zip"])

    assert processing.manifest(run_id, file_id, {}, "alice").status == "done"
    assert processing.manifest(run_id, file_id, {}, None).status == "done"  # auth off
    for args in (
        (run_id, file_id, "bob"),  # another owner: as unknown as a missing run
        (run_id, str(other["b.zip"]), "alice"),  # a file of another run
        (str(other["run"]), file_id, "bob"),
        (run_id, str(uuid.uuid4()), "alice"),
        (run_id, "not-a-uuid", "alice"),
        ("not-a-uuid", file_id, "alice"),
    ):
        with pytest.raises(NotFound) as raised:
            processing.manifest(args[0], args[1], {}, args[2])
        assert raised.value.code == "not_found"


@pytest.mark.parametrize(
    ("members", "code"),
    [
        ([("ok.conf", b"x"), ("../../etc/passwd", b"root")], "path_traversal"),
        ([("/etc/passwd", b"root")], "absolute_path"),
    ],
)
def test_a_hostile_archive_fails_its_manifest_not_its_file(
    api: Client,
    db: Database,
    storage: Storage,
    processing: Processing,
    members: list[Member],
    code: str,
) -> None:
    ids = stored_run(db, storage, processing.settings, {"evil.zip": zip_bytes(members)})
    assert deliver(processing, event_body(db, ids["run"])) == []

    body = manifest(api, ids["run"], ids["evil.zip"])
    assert body["status"] == "failed"
    assert body["error"]["code"] == code
    assert repr(members[-1][0]) in body["error"]["message"]
    assert (body["entries"], body["entry_count"]) == ([], None)
    assert processing_rows(db)[1] == []  # no entry kept, not even those before the refusal
    run = detail(db, ids["run"])
    assert (run.status, run.files[0].status) == ("stored", "stored")


def test_a_truncated_archive_fails(
    api: Client, db: Database, storage: Storage, processing: Processing
) -> None:
    data = tar_bytes(NESTED, gzip=True)
    ids = stored_run(db, storage, processing.settings, {"cut.tgz": data[: len(data) // 2]})
    processing.process_run(ids["run"])
    body = manifest(api, ids["run"], ids["cut.tgz"])
    assert (body["status"], body["error"]["code"]) == ("failed", "corrupt_archive")


def test_a_repeated_delivery_changes_nothing(
    db: Database, storage: Storage, processing: Processing
) -> None:
    ids = stored_run(db, storage, processing.settings, {"a.tar": tar_bytes(NESTED)})
    body = event_body(db, ids["run"])
    assert processing.process_run(ids["run"]) == {f"{ids['a.tar']}/manifest": Processed.DONE}
    before = processing_rows(db)

    assert deliver(processing, body, body) == []
    assert processing.process_run(ids["run"]) == {f"{ids['a.tar']}/manifest": Processed.SKIPPED}
    assert processing_rows(db) == before


class FailingAfter(Storage):
    """Serves `chunks` chunks of a GET, then the connection breaks."""

    def __init__(self, storage: Storage, chunks: int) -> None:
        super().__init__(storage.client, storage.bucket, storage.presign_ttl)
        self.chunks = chunks

    def read_version(
        self, key: str, version_id: str, start: int, end: int | None
    ) -> Generator[bytes, None, None]:
        for index, chunk in enumerate(super().read_version(key, version_id, start, end)):
            if index == self.chunks:
                raise ConnectionResetError("peer went away")
            yield chunk


def test_a_crash_half_way_is_redone_cleanly(
    api: Client, db: Database, storage: Storage, processing: Processing
) -> None:
    # Over a few MiB, so it is read in several chunks; 3,000 entries, written 1,000 at a time.
    members: list[Member] = [(f"f{i}", bytes(2000)) for i in range(3000)]
    ids = stored_run(db, storage, processing.settings, {"big.tar": tar_bytes(members)})
    run_id, file_id = ids["run"], ids["big.tar"]
    body = event_body(db, run_id)

    broken = Processing(db, FailingAfter(storage, chunks=3), processing.settings)
    assert deliver(broken, body) == ["m0"]  # retried
    results, half = processing_rows(db)
    assert results == []
    assert 0 < len(half) < len(members)  # what the first attempt wrote before it broke

    assert deliver(processing, body) == []
    assert manifest(api, run_id, file_id, "?limit=1000")["entry_count"] == len(members)
    seen, cursor = [], ""
    while cursor is not None:
        page = manifest(api, run_id, file_id, f"?limit=1000{cursor}")
        seen += page["entries"]
        cursor = page["next_cursor"] and f"&cursor={page['next_cursor']}"
    assert seen == entry_dicts(members)


def test_leftover_entries_of_an_unfinished_attempt_are_discarded(
    api: Client, db: Database, storage: Storage, processing: Processing
) -> None:
    ids = stored_run(db, storage, processing.settings, {"a.zip": zip_bytes(NESTED)})
    stale = {"file_id": ids["a.zip"], "kind": "file", "size_bytes": 1, "sha256": "0" * 64}
    with db.session() as session:
        session.execute(
            insert(ManifestEntry), [stale | {"seq": seq, "path": "stale"} for seq in range(50)]
        )
    processing.process_run(ids["run"])
    body = manifest(api, ids["run"], ids["a.zip"])
    assert body["entries"] == entry_dicts(NESTED)


def test_forged_messages_change_nothing(
    db: Database, storage: Storage, processing: Processing
) -> None:
    target = stored_run(db, storage, processing.settings, {"t.zip": zip_bytes(NESTED)})
    plain = stored_run(db, storage, processing.settings, {"notes.txt": b"text"})
    # A message that names a stored run without archives, listing another run's archive.
    forged = json.loads(event_body(db, plain["run"]))
    forged["files"] = json.loads(event_body(db, target["run"]))["files"]
    # A run that is not stored (still pending), and one that does not exist.
    pending = Uploads(db, storage, processing.settings).create(
        CreateUploadRequest(type="app_bundle", files=[FileSpec(name="p.zip", size=10)]), None
    )
    pending_body = json.loads(event_body(db, target["run"]))
    pending_body["run"]["id"] = str(pending.run.id)
    missing = json.loads(event_body(db, target["run"]))
    missing["run"]["id"] = str(uuid.uuid4())
    # Another event type about an archive's run.
    failed = event_body(db, target["run"], "run.failed")

    bodies = [json.dumps(b) for b in (forged, pending_body, missing)] + [failed]
    assert deliver(processing, *bodies) == []
    assert processing_rows(db) == ([], [])


def test_a_run_that_is_no_longer_stored_is_not_processed(
    db: Database, storage: Storage, processing: Processing
) -> None:
    ids = stored_run(db, storage, processing.settings, {"a.zip": zip_bytes(NESTED)})
    with db.session() as session:
        session.execute(update(Run).where(Run.id == ids["run"]).values(status="failed"))
    assert deliver(processing, event_body(db, ids["run"])) == []
    assert processing_rows(db) == ([], [])


def test_a_body_that_is_no_run_event_is_retried(processing: Processing) -> None:
    assert deliver(processing, "not json", json.dumps({"Records": []}), "{}") == ["m0", "m1", "m2"]


def test_an_unreachable_bucket_is_retried(
    db: Database, storage: Storage, processing: Processing
) -> None:
    ids = stored_run(db, storage, processing.settings, {"a.zip": zip_bytes(NESTED)})
    unreachable = Settings.model_validate(
        processing.settings.model_dump() | {"s3_endpoint_url": closed_url("http://")}
    )
    down = Storage(make_s3_client(unreachable), storage.bucket, storage.presign_ttl)

    assert deliver(Processing(db, down, processing.settings), event_body(db, ids["run"])) == ["m0"]
    assert processing_rows(db) == ([], [])
    assert deliver(processing, event_body(db, ids["run"])) == []  # the retry, once it is back
    assert processing_rows(db)[0] != []


def test_a_lost_version_fails_the_manifest(
    api: Client, db: Database, storage: Storage, processing: Processing
) -> None:
    ids = stored_run(db, storage, processing.settings, {"a.zip": zip_bytes(NESTED)})
    with db.session() as session:
        file = session.get(File, ids["a.zip"])
        assert file is not None
        assert file.version_id is not None
        key, version = file.object_key, file.version_id
    storage.client.delete_object(Bucket=storage.bucket, Key=key, VersionId=version)

    assert deliver(processing, event_body(db, ids["run"])) == []
    body = manifest(api, ids["run"], ids["a.zip"])
    assert (body["status"], body["error"]["code"]) == ("failed", "version_lost")


def test_a_failed_file_is_never_read(
    api: Client, db: Database, storage: Storage, processing: Processing
) -> None:
    ids = stored_run(
        db, storage, processing.settings, {"a.zip": zip_bytes(NESTED), "b.zip": zip_bytes(MANY)}
    )
    with db.session() as session:
        session.execute(
            update(File)
            .where(File.id == ids["b.zip"])
            .values(status="failed", error_code="checksum_mismatch")
        )
    assert processing.process_run(ids["run"]) == {f"{ids['a.zip']}/manifest": Processed.DONE}
    body = manifest(api, ids["run"], ids["b.zip"])
    assert (body["status"], body["error"]["code"]) == ("failed", "file_failed")
