"""The core of bucket-event processing, `BucketEvents.process`, on SQLite and Postgres with a real
(versioned) bucket: verification, idempotency, run settlement, adoption of dropped files, and
errors. Integrity incidents and forged events: tests/integration/test_integrity.py."""

from __future__ import annotations

import json
import os
from collections.abc import Generator
from urllib.parse import quote_plus

import pytest
from sqlalchemy import select

from chalicelib import events
from chalicelib.config import Settings
from chalicelib.db import Database
from chalicelib.events import BucketEvents, Outcome, run_type_for
from chalicelib.models import File, Run
from chalicelib.sqs import ObjectEvent, handle_batch, object_events
from chalicelib.storage import Storage, make_s3_client
from chalicelib.uploads import Uploads
from tests.support.api import closed_url, snapshot
from tests.support.events import (
    create,
    detail,
    incidents,
    put,
    row_counts,
    sha256,
    sqs_message,
)


def test_verified_file_stores_its_run(db: Database, storage: Storage, settings: Settings) -> None:
    data = os.urandom(3000)
    created = create(db, storage, settings, data)
    key = created.files[0].key

    assert BucketEvents(db, storage, settings).process(put(storage, key, data)) == Outcome.STORED

    run = detail(db, created.run.id)
    assert (run.status, run.error) == ("stored", None)
    assert run.stored_at is not None
    (file,) = run.files
    assert (file.status, file.sha256, file.error) == ("stored", sha256(data), None)
    assert file.etag is not None
    assert not file.etag.startswith('"')
    assert file.stored_at is not None
    assert file.checked_at == file.stored_at
    # The version that was hashed is recorded, and it holds the bytes.
    assert file.version_id is not None
    got = storage.client.get_object(Bucket=storage.bucket, Key=key, VersionId=file.version_id)
    assert got["Body"].read() == data
    with db.session() as session:
        row = session.scalars(select(File).where(File.object_key == key)).one()
        assert row.stored_size == len(data)


def test_an_undeclared_checksum_is_computed(
    db: Database, storage: Storage, settings: Settings
) -> None:
    data = b"no sha256 declared"
    created = create(db, storage, settings, data, declare_sha256=False)

    assert BucketEvents(db, storage, settings).process(
        put(storage, created.files[0].key, data)
    ) == (Outcome.STORED)
    assert detail(db, created.run.id).files[0].sha256 == sha256(data)


def test_duplicate_delivery_changes_nothing(
    db: Database, storage: Storage, settings: Settings
) -> None:
    data = b"delivered twice"
    created = create(db, storage, settings, data)
    event = put(storage, created.files[0].key, data)
    assert BucketEvents(db, storage, settings).process(event) == Outcome.STORED
    before = snapshot(db)

    assert BucketEvents(db, storage, settings).process(event) == Outcome.DUPLICATE
    assert snapshot(db) == before


def test_run_waits_for_every_file(db: Database, storage: Storage, settings: Settings) -> None:
    first, second = b"first file", b"second file"
    created = create(db, storage, settings, first, second)

    BucketEvents(db, storage, settings).process(put(storage, created.files[0].key, first))
    assert detail(db, created.run.id).status == "pending"
    BucketEvents(db, storage, settings).process(put(storage, created.files[1].key, second))
    run = detail(db, created.run.id)
    assert run.status == "stored"
    assert [f.status for f in run.files] == ["stored", "stored"]


def test_size_mismatch_fails_file_and_run(
    db: Database, storage: Storage, settings: Settings
) -> None:
    data = b"shorter than declared"
    created = create(db, storage, settings, data, sizes=[len(data) + 10])

    outcome = BucketEvents(db, storage, settings).process(put(storage, created.files[0].key, data))

    assert outcome == Outcome.FAILED
    run = detail(db, created.run.id)
    assert run.status == "failed"
    assert run.error is not None
    assert run.error.code == "files_failed"
    (file,) = run.files
    assert file.status == "failed"
    assert file.error is not None
    assert file.error.code == "size_mismatch"
    assert str(len(data)) in file.error.message
    # A failed file has the time of its verdict (the page's timeline places it), no stored time.
    assert file.stored_at is None
    assert file.checked_at is not None
    assert run.created_at <= file.checked_at <= run.updated_at
    with db.session() as session:
        assert session.scalars(select(File.stored_size)).one() == len(data)


def test_checksum_mismatch_records_the_real_digest(
    db: Database, storage: Storage, settings: Settings
) -> None:
    declared, uploaded = b"the bytes promised", b"other bytes, same!"
    assert len(declared) == len(uploaded)
    created = create(db, storage, settings, declared)

    outcome = BucketEvents(db, storage, settings).process(
        put(storage, created.files[0].key, uploaded)
    )

    assert outcome == Outcome.FAILED
    (file,) = detail(db, created.run.id).files
    assert file.error is not None
    assert (file.status, file.error.code) == ("failed", "checksum_mismatch")
    assert (file.sha256, file.declared_sha256) == (sha256(uploaded), sha256(declared))


def test_one_failed_file_fails_the_run_once_all_are_final(
    db: Database, storage: Storage, settings: Settings
) -> None:
    good, bad = b"good file", b"bad file"
    created = create(db, storage, settings, good, bad)

    BucketEvents(db, storage, settings).process(put(storage, created.files[1].key, b"BAD FILE"))
    assert detail(db, created.run.id).status == "pending"
    BucketEvents(db, storage, settings).process(put(storage, created.files[0].key, good))

    run = detail(db, created.run.id)
    assert run.status == "failed"
    assert [f.status for f in run.files] == ["stored", "failed"]


def test_object_deleted_before_processing(
    db: Database, storage: Storage, settings: Settings
) -> None:
    """The rule changed (issue 12): this used to fail the file with `object_missing`. An event
    is no evidence, and a forged one could block a run that way, so an event for a key with no
    object (here a delete marker) changes nothing: the file stays pending for its upload."""
    data = b"here a moment ago"
    created = create(db, storage, settings, data)
    key = created.files[0].key
    event = put(storage, key, data)
    storage.client.delete_object(Bucket=storage.bucket, Key=key)
    before = snapshot(db)

    assert BucketEvents(db, storage, settings).process(event) == Outcome.IGNORED
    assert snapshot(db) == before
    (file,) = detail(db, created.run.id).files
    assert (file.status, file.error, file.etag, file.version_id) == ("pending", None, None, None)

    # Uploaded again later: its new event verifies it after all.
    assert BucketEvents(db, storage, settings).process(put(storage, key, data)) == Outcome.STORED
    assert detail(db, created.run.id).status == "stored"


def test_a_replaced_object_leaves_the_record_and_is_an_incident(
    db: Database, storage: Storage, settings: Settings
) -> None:
    """The rule changed (issue 12): a replaced object used to be verified again, so a second
    write turned a stored run failed. A final record is never rewritten now: the recorded
    version stays readable in the versioned bucket, and the write is an integrity incident."""
    data = b"version one"
    created = create(db, storage, settings, data)
    key = created.files[0].key
    first = put(storage, key, data)
    assert BucketEvents(db, storage, settings).process(first) == Outcome.STORED

    second = put(storage, key, b"version two")
    assert BucketEvents(db, storage, settings).process(second) == Outcome.INCIDENT

    run = detail(db, created.run.id)
    assert (run.status, run.error) == ("stored", None)
    (file,) = run.files
    assert (file.status, file.sha256, file.version_id) == ("stored", sha256(data), first.version_id)
    assert incidents(db, created.run.id) == [("overwritten", first.version_id, second.version_id)]


def test_a_stale_event_changes_nothing(db: Database, storage: Storage, settings: Settings) -> None:
    """The rule changed (issue 12): events used to be ordered by their sequencers, and a forged
    `FFFF...` sequencer made every later genuine event a duplicate. Sequencers are not read any
    more (nor sizes or ETags): an event only says where to look, so a stale one is harmless."""
    data = b"final version"
    created = create(db, storage, settings, data)
    key = created.files[0].key
    assert BucketEvents(db, storage, settings).process(put(storage, key, data)) == Outcome.STORED
    before = snapshot(db)

    stale = ObjectEvent(storage.bucket, key, 5, "0123456789abcdef", name="ObjectCreated:Put")
    assert BucketEvents(db, storage, settings).process(stale) == Outcome.DUPLICATE
    assert snapshot(db) == before


def test_files_of_a_cancelled_run_are_not_recorded(
    db: Database, storage: Storage, settings: Settings
) -> None:
    data = b"too late"
    created = create(db, storage, settings, data)
    Uploads(db, storage, settings).cancel(str(created.run.id), owner=None)
    event = put(storage, created.files[0].key, data)
    before = snapshot(db)

    assert BucketEvents(db, storage, settings).process(event) == Outcome.IGNORED
    assert snapshot(db) == before


@pytest.mark.parametrize(
    "key", ["runs/not-a-run/file.bin", "elsewhere/file.bin", "inbox/app_bundle/"]
)
def test_keys_with_nothing_to_do_are_acknowledged(
    db: Database, storage: Storage, settings: Settings, key: str
) -> None:
    event = put(storage, key, b"stray")
    assert BucketEvents(db, storage, settings).process(event) == Outcome.IGNORED
    assert row_counts(db) == (0, 0)


def test_events_of_another_bucket_are_acknowledged(
    db: Database, storage: Storage, settings: Settings
) -> None:
    event = ObjectEvent("someone-elses-bucket", "inbox/x.tgz", 1, "abc")
    assert BucketEvents(db, storage, settings).process(event) == Outcome.IGNORED
    assert row_counts(db) == (0, 0)


@pytest.mark.parametrize(
    ("key", "run_type"),
    [
        ("inbox/app_bundle/x.tgz", "app_bundle"),
        ("inbox/ds_etc/deep/er/etc.tar", "ds_etc"),
        ("inbox/not_a_type/y.bin", "app_bundle"),
        ("inbox/single_conf", "app_bundle"),  # a file, not a folder named after a type
    ],
)
def test_run_type_of_dropped_files(settings: Settings, key: str, run_type: str) -> None:
    assert run_type_for(key, settings) == run_type


def test_dropped_file_is_adopted_once(db: Database, storage: Storage, settings: Settings) -> None:
    data = os.urandom(2048)
    event = put(storage, "inbox/ds_etc/host 1/etc.tgz", data)

    assert BucketEvents(db, storage, settings).process(event) == Outcome.STORED
    assert BucketEvents(db, storage, settings).process(event) == Outcome.DUPLICATE

    assert row_counts(db) == (1, 1)
    with db.session() as session:
        run_id = session.scalars(select(Run.id)).one()
    run = detail(db, run_id)
    assert (run.type, run.source, run.status, run.label) == (
        "ds_etc",
        "bucket",
        "stored",
        "ds_etc/host 1/etc.tgz",
    )
    (file,) = run.files
    assert (file.name, file.key, file.size_bytes) == ("etc.tgz", event.key, len(data))
    assert (file.sha256, file.declared_sha256) == (sha256(data), None)
    assert file.version_id == event.version_id


def test_dropped_file_gone_before_adoption(
    db: Database, storage: Storage, settings: Settings
) -> None:
    """Permanently deleted (its version deleted) before its event was processed: nothing to
    adopt. (Deleted with a delete marker, the version is still in the bucket and is adopted:
    tests/integration/test_integrity.py.)"""
    event = put(storage, "inbox/gone.bin", b"gone")
    assert event.version_id is not None  # the test bucket is versioned
    storage.client.delete_object(Bucket=storage.bucket, Key=event.key, VersionId=event.version_id)

    assert BucketEvents(db, storage, settings).process(event) == Outcome.IGNORED
    assert row_counts(db) == (0, 0)


def test_database_down_raises(db: Database, storage: Storage, settings: Settings) -> None:
    data = b"cannot record"
    created = create(db, storage, settings, data)
    event = put(storage, created.files[0].key, data)
    down = Database.from_url(closed_url("postgresql://postgres@"))

    with pytest.raises(Exception, match="connect"):
        BucketEvents(down, storage, settings).process(event)
    down.engine.dispose()
    assert detail(db, created.run.id).status == "pending"


def test_bucket_down_raises(db: Database, storage: Storage, settings: Settings) -> None:
    data = b"cannot read"
    created = create(db, storage, settings, data)
    event = put(storage, created.files[0].key, data)
    dead = settings.model_copy(update={"s3_endpoint_url": closed_url("http://")})
    unreachable = Storage(make_s3_client(dead), storage.bucket, storage.presign_ttl)

    with pytest.raises(Exception, match="connect"):
        BucketEvents(db, unreachable, settings).process(event)
    assert detail(db, created.run.id).status == "pending"


# --- The SQS wrapper ----------------------------------------------------------------------


def notification(key: str, event_name: str = "ObjectCreated:Put", bucket: str = "b") -> str:
    """An SQS message body as S3 writes it (the key URL-encoded, as S3 and moto do)."""
    obj = {"key": quote_plus(key), "size": 5, "eTag": "abc", "versionId": "v1", "sequencer": "0A"}
    record = {"eventName": event_name, "s3": {"bucket": {"name": bucket}, "object": obj}}
    return json.dumps({"Records": [record]})


def test_messages_are_parsed_into_object_events() -> None:
    assert object_events(notification("inbox/a b/c+d=é.tgz")) == [
        ObjectEvent("b", "inbox/a b/c+d=é.tgz", 5, "abc", "v1", "ObjectCreated:Put")
    ]
    assert object_events(json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent"})) == []
    # Removals are hints too (an overwrite or delete over a stored file is an incident).
    assert object_events(notification("runs/x", event_name="ObjectRemoved:Delete")) == [
        ObjectEvent("b", "runs/x", 5, "abc", "v1", "ObjectRemoved:Delete")
    ]
    assert object_events(notification("runs/x", event_name="ObjectTagging:Put")) == []
    for garbage in ("not json", "{}", '{"Records": [{"eventName": "ObjectCreated:Put"}]}'):
        with pytest.raises((ValueError, KeyError)):
            object_events(garbage)


def test_only_failed_messages_are_reported() -> None:
    seen: list[str] = []

    def process(event: ObjectEvent) -> None:
        if event.key == "runs/explodes":
            raise RuntimeError("database down")
        seen.append(event.key)

    batch = {
        "Records": [
            sqs_message("1", notification("runs/fine")),
            sqs_message("2", notification("runs/explodes")),
            sqs_message("3", "garbage"),
            sqs_message("4", notification("inbox/also fine")),
        ]
    }
    assert handle_batch(batch, process) == {
        "batchItemFailures": [{"itemIdentifier": "2"}, {"itemIdentifier": "3"}]
    }
    assert seen == ["runs/fine", "inbox/also fine"]


def test_a_batch_of_failures_is_still_a_partial_response() -> None:
    def process(event: ObjectEvent) -> None:
        raise RuntimeError("always")

    batch = {"Records": [sqs_message("1", notification("runs/a"))]}
    assert handle_batch(batch, process) == {"batchItemFailures": [{"itemIdentifier": "1"}]}


def test_plain_etag() -> None:
    assert events.plain_etag('"abc-2"') == "abc-2"
    assert events.plain_etag("abc") == "abc"


class VanishingStorage(Storage):
    """The version is permanently deleted between the HEAD and the first read."""

    def read_version(
        self, key: str, version_id: str, start: int, end: int | None
    ) -> Generator[bytes, None, None]:
        self.client.delete_object(Bucket=self.bucket, Key=key, VersionId=version_id)
        yield from super().read_version(key, version_id, start, end)


class ShortReadStorage(Storage):
    """A server that ends the body early (the connection dropped mid-object)."""

    def read_version(
        self, key: str, version_id: str, start: int, end: int | None
    ) -> Generator[bytes, None, None]:
        yield next(super().read_version(key, version_id, start, end))[:-1]


def test_object_deleted_while_being_read(
    db: Database, storage: Storage, settings: Settings
) -> None:
    """The rule changed (issue 12): this used to fail the file with `object_missing`. Bytes
    that vanish are no evidence against the upload: the file stays pending (for an upload, or
    expiry)."""
    data = b"deleted mid-read"
    created = create(db, storage, settings, data)
    event = put(storage, created.files[0].key, data)
    vanishing = VanishingStorage(storage.client, storage.bucket, storage.presign_ttl)

    assert BucketEvents(db, vanishing, settings).process(event) == Outcome.IGNORED
    (file,) = detail(db, created.run.id).files
    assert (file.status, file.error) == ("pending", None)


def test_a_short_read_is_retried_not_recorded(
    db: Database, storage: Storage, settings: Settings
) -> None:
    data = b"the connection dropped"
    created = create(db, storage, settings, data)
    event = put(storage, created.files[0].key, data)
    short = ShortReadStorage(storage.client, storage.bucket, storage.presign_ttl)

    with pytest.raises(RuntimeError, match="read 21 bytes"):
        BucketEvents(db, short, settings).process(event)
    assert detail(db, created.run.id).files[0].status == "pending"
