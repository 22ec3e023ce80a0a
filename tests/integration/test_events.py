"""The core of bucket-event processing, `process_object`, on SQLite and Postgres with a real
bucket: verification, idempotency, run settlement, adoption of dropped files, and errors."""

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
from chalicelib.events import BucketEvents, Outcome, is_older, run_type_for
from chalicelib.models import File, Run
from chalicelib.sqs import ObjectEvent, handle_batch, object_events
from chalicelib.storage import Storage, make_s3_client
from chalicelib.uploads import Uploads
from tests.support.api import closed_url, snapshot
from tests.support.events import create, detail, put, row_counts, sha256


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
    data = b"here a moment ago"
    created = create(db, storage, settings, data)
    key = created.files[0].key
    event = put(storage, key, data)
    storage.client.delete_object(Bucket=storage.bucket, Key=key)

    assert BucketEvents(db, storage, settings).process(event) == Outcome.FAILED
    (file,) = detail(db, created.run.id).files
    assert file.error is not None
    assert (file.status, file.error.code, file.etag) == ("failed", "object_missing", None)

    # Uploaded again later: its new event verifies it after all.
    assert BucketEvents(db, storage, settings).process(put(storage, key, data)) == Outcome.STORED
    assert detail(db, created.run.id).status == "stored"


def test_a_replaced_object_is_verified_again(
    db: Database, storage: Storage, settings: Settings
) -> None:
    data = b"version one"
    created = create(db, storage, settings, data)
    key = created.files[0].key
    assert BucketEvents(db, storage, settings).process(put(storage, key, data)) == Outcome.STORED

    assert BucketEvents(db, storage, settings).process(put(storage, key, b"version two")) == (
        Outcome.FAILED
    )
    run = detail(db, created.run.id)
    assert run.status == "failed"
    assert run.files[0].error is not None
    assert run.files[0].error.code == "checksum_mismatch"


def test_an_older_event_never_overwrites_a_newer_one(
    db: Database, storage: Storage, settings: Settings
) -> None:
    data = b"final version"
    created = create(db, storage, settings, data)
    key = created.files[0].key
    newer = put(storage, key, data, sequencer="0062E99A88DC407460")
    assert BucketEvents(db, storage, settings).process(newer) == Outcome.STORED
    before = snapshot(db)

    older = ObjectEvent(storage.bucket, key, 5, "0123456789abcdef", "0062E99A88DC407400")
    assert BucketEvents(db, storage, settings).process(older) == Outcome.DUPLICATE
    assert snapshot(db) == before


def test_sequencers_compare_after_left_padding() -> None:
    assert is_older("0062E99A88DC407400", "0062E99A88DC407460")
    assert is_older("FF", "0100")  # shorter means smaller once padded
    assert not is_older("0100", "FF")
    assert not is_older("00a1", "00A1")


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


def test_dropped_file_gone_before_adoption(
    db: Database, storage: Storage, settings: Settings
) -> None:
    event = put(storage, "inbox/gone.bin", b"gone")
    storage.client.delete_object(Bucket=storage.bucket, Key=event.key)

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
    obj = {"key": quote_plus(key), "size": 5, "eTag": "abc", "sequencer": "0A"}
    record = {"eventName": event_name, "s3": {"bucket": {"name": bucket}, "object": obj}}
    return json.dumps({"Records": [record]})


def test_messages_are_parsed_into_object_events() -> None:
    assert object_events(notification("inbox/a b/c+d=é.tgz")) == [
        ObjectEvent("b", "inbox/a b/c+d=é.tgz", 5, "abc", "0A")
    ]
    assert object_events(json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent"})) == []
    assert object_events(notification("runs/x", event_name="ObjectRemoved:Delete")) == []
    for garbage in ("not json", "{}", '{"Records": [{"eventName": "ObjectCreated:Put"}]}'):
        with pytest.raises((ValueError, KeyError)):
            object_events(garbage)


def sqs_record(message_id: str, body: str) -> dict[str, object]:
    return {
        "messageId": message_id,
        "receiptHandle": f"receipt-{message_id}",
        "body": body,
        "attributes": {},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:inlet-events",
        "awsRegion": "us-east-1",
    }


def test_only_failed_messages_are_reported() -> None:
    seen: list[str] = []

    def process(event: ObjectEvent) -> None:
        if event.key == "runs/explodes":
            raise RuntimeError("database down")
        seen.append(event.key)

    batch = {
        "Records": [
            sqs_record("1", notification("runs/fine")),
            sqs_record("2", notification("runs/explodes")),
            sqs_record("3", "garbage"),
            sqs_record("4", notification("inbox/also fine")),
        ]
    }
    assert handle_batch(batch, process) == {
        "batchItemFailures": [{"itemIdentifier": "2"}, {"itemIdentifier": "3"}]
    }
    assert seen == ["runs/fine", "inbox/also fine"]


def test_a_batch_of_failures_is_still_a_partial_response() -> None:
    def process(event: ObjectEvent) -> None:
        raise RuntimeError("always")

    batch = {"Records": [sqs_record("1", notification("runs/a"))]}
    assert handle_batch(batch, process) == {"batchItemFailures": [{"itemIdentifier": "1"}]}


def test_plain_etag() -> None:
    assert events.plain_etag('"abc-2"') == "abc-2"
    assert events.plain_etag("abc") == "abc"


class VanishingStorage(Storage):
    """The object is deleted between the HEAD and the first read."""

    def read_range(
        self, key: str, start: int, end: int | None, if_match: str | None = None
    ) -> Generator[bytes, None, None]:
        self.client.delete_object(Bucket=self.bucket, Key=key)
        yield from super().read_range(key, start, end, if_match)


class ShortReadStorage(Storage):
    """A server that ends the body early (the connection dropped mid-object)."""

    def read_range(
        self, key: str, start: int, end: int | None, if_match: str | None = None
    ) -> Generator[bytes, None, None]:
        yield next(super().read_range(key, start, end, if_match))[:-1]


def test_object_deleted_while_being_read(
    db: Database, storage: Storage, settings: Settings
) -> None:
    data = b"deleted mid-read"
    created = create(db, storage, settings, data)
    event = put(storage, created.files[0].key, data)
    vanishing = VanishingStorage(storage.client, storage.bucket, storage.presign_ttl)

    assert BucketEvents(db, vanishing, settings).process(event) == Outcome.FAILED
    (file,) = detail(db, created.run.id).files
    assert file.error is not None
    assert file.error.code == "object_missing"


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
