"""Streaming SHA-256 of stored objects: right digests at every range boundary, errors surface,
and memory stays flat on a 1 GiB object (measured against a moto server in its own process)."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Generator, Iterator

import pytest
from botocore.exceptions import ClientError

from chalicelib.config import GiB, MiB, Settings
from chalicelib.hashing import Digest, ranges, sha256_object
from chalicelib.storage import Storage, error_code, make_s3_client
from local.processes import moto_server
from local.resources import ensure_bucket
from tests.support.config import BUCKET
from tests.support.memory import MEMORY_LIMIT, peak_growth
from tests.support.objects import upload_repeated


def put(storage: Storage, data: bytes) -> tuple[str, str]:
    """Store `data` under a fresh key; the key and its (quoted) ETag."""
    key = f"hashing/{uuid.uuid4()}"
    etag = storage.client.put_object(Bucket=storage.bucket, Key=key, Body=data)["ETag"]
    return key, etag


@pytest.fixture
def storage(s3_endpoint: str, bucket_ready: None) -> Storage:
    """The test bucket, without the database the shared fixture brings along."""
    return Storage(make_s3_client(Settings(s3_endpoint_url=s3_endpoint)), BUCKET, 900)


def test_ranges_cover_the_object_exactly() -> None:
    assert ranges(10, 0) == [(0, None)]
    assert ranges(10, 10) == [(0, None)]
    assert ranges(0, 4) == [(0, None)]
    assert ranges(10, 4) == [(0, 3), (4, 7), (8, 9)]
    assert ranges(8, 4) == [(0, 3), (4, 7)]


@pytest.mark.parametrize("size", [0, 1, MiB - 1, MiB, MiB + 1, 3 * MiB + 5])
@pytest.mark.parametrize(("range_size", "concurrency"), [(0, 1), (MiB, 1), (MiB, 3)])
def test_digest_matches_hashlib(
    storage: Storage, size: int, range_size: int, concurrency: int
) -> None:
    data = os.urandom(size)
    key, etag = put(storage, data)
    digest = sha256_object(
        storage, key, size, etag=etag, range_size=range_size, concurrency=concurrency
    )
    assert digest == Digest(sha256=hashlib.sha256(data).hexdigest(), size=size)


def test_replaced_object_is_refused_not_mixed(storage: Storage) -> None:
    key, etag = put(storage, b"first version")
    storage.client.put_object(Bucket=storage.bucket, Key=key, Body=b"second version")
    with pytest.raises(ClientError) as raised:
        sha256_object(storage, key, 13, etag=etag)
    assert error_code(raised.value) == "PreconditionFailed"


def test_missing_object_raises(storage: Storage) -> None:
    with pytest.raises(ClientError) as raised:
        sha256_object(storage, f"hashing/{uuid.uuid4()}", 10)
    assert error_code(raised.value) == "NoSuchKey"


class FailingLaterRanges(Storage):
    """Serves the first range, fails every later one: readers must stop, not hang."""

    def read_range(
        self, key: str, start: int, end: int | None, if_match: str | None = None
    ) -> Generator[bytes, None, None]:
        if start > 0:
            raise ConnectionResetError("peer went away")
        yield from super().read_range(key, start, end, if_match)


def test_a_failing_range_stops_every_reader(storage: Storage) -> None:
    data = os.urandom(6 * MiB)
    key, _ = put(storage, data)
    failing = FailingLaterRanges(storage.client, storage.bucket, storage.presign_ttl)
    with pytest.raises(ConnectionResetError):
        sha256_object(failing, key, len(data), range_size=MiB, concurrency=4)


# --- Memory: the object lives in a moto server of its own, outside this process -----------------


@pytest.fixture(scope="module")
def remote_storage() -> Iterator[Storage]:
    """A bucket on a moto server in a child process, so that this process's memory is the
    hashing's alone (the in-process server would hold the object's bytes here)."""
    with moto_server() as endpoint:
        settings = Settings(s3_endpoint_url=endpoint, inlet_bucket="memory")
        client = make_s3_client(settings)
        ensure_bucket(client, settings.inlet_bucket)
        yield Storage(client, settings.inlet_bucket, settings.inlet_presign_ttl)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("size", "range_size"),
    [
        (1 * GiB, 0),  # one stream: how the dev stack reads from moto
        (128 * MiB, 8 * MiB),  # the default for S3: 16 ranges, 4 in flight
    ],
)
def test_memory_stays_flat(remote_storage: Storage, size: int, range_size: int) -> None:
    key, etag, expected = upload_repeated(remote_storage, size, os.urandom(8 * MiB))

    digest, growth = peak_growth(
        lambda: sha256_object(
            remote_storage, key, size, etag=etag, range_size=range_size, concurrency=4
        )
    )

    assert digest == Digest(sha256=expected, size=size)
    assert growth < MEMORY_LIMIT, f"peak memory grew by {growth / MiB:.1f} MiB"
    remote_storage.client.delete_object(Bucket=remote_storage.bucket, Key=key)


def test_range_size_is_zero_or_at_least_one_mib() -> None:
    assert Settings(inlet_hash_range_size=0).inlet_hash_range_size == 0
    with pytest.raises(ValueError, match="INLET_HASH_RANGE_SIZE"):
        Settings(inlet_hash_range_size=MiB - 1)
