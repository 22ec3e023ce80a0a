"""SHA-256 of a stored object with flat memory, overlapping network reads with hashing.

The object is split into ranges. A small pool of reader threads streams the next few ranges
ahead, each into its own bounded buffer, while this thread feeds them to the hash in order.
Memory is bounded by `concurrency` buffers whatever the object's size; reading a buffer's worth
ahead hides the hashing time behind the network (hashlib and socket reads both release the GIL).
An object of one read's size is hashed in the calling thread: there is nothing to overlap, and
most bucket events are about small objects.
"""

from __future__ import annotations

import hashlib
import queue
import threading
from collections import deque
from collections.abc import Generator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from chalicelib.config import MiB
from chalicelib.storage import READ_CHUNK, Storage

# A range's reader may run this far ahead of the hash before it waits.
MAX_BUFFERED = 8 * MiB
_END = object()  # a reader's "range complete" marker
Buffer = queue.Queue[object]  # chunks (bytes), then _END or the reader's exception


@dataclass(frozen=True)
class Digest:
    sha256: str
    size: int


def ranges(size: int, range_size: int) -> list[tuple[int, int | None]]:
    """Inclusive byte ranges covering `size` bytes; one open range when `range_size` is 0."""
    if range_size == 0 or size <= range_size:
        return [(0, None)]
    return [(start, min(start + range_size, size) - 1) for start in range(0, size, range_size)]


def _put(buffer: Buffer, item: object, stop: threading.Event) -> bool:
    """Hand an item to the hasher, waiting while its buffer is full; False once told to stop."""
    while not stop.is_set():
        try:
            buffer.put(item, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False


def _read(
    storage: Storage,
    key: str,
    span: tuple[int, int | None],
    pin: tuple[str | None, str | None],
    buffer: Buffer,
    stop: threading.Event,
) -> None:
    try:
        chunks = _chunks(storage, key, span, pin)
        try:
            for chunk in chunks:
                if not _put(buffer, chunk, stop):
                    return
        finally:
            chunks.close()
        _put(buffer, _END, stop)
    except Exception as exc:  # handed to the hashing thread, which raises it
        _put(buffer, exc, stop)


def _chunks(
    storage: Storage, key: str, span: tuple[int, int | None], pin: tuple[str | None, str | None]
) -> Generator[bytes, None, None]:
    """The bytes of `span`, read from the version (or ETag) `pin` names."""
    etag, version_id = pin
    if version_id is not None:
        return storage.read_version(key, version_id, span[0], span[1])
    return storage.read_range(key, span[0], span[1], if_match=etag)


def _drain(buffer: Buffer) -> Iterator[bytes]:
    while (item := buffer.get()) is not _END:
        if isinstance(item, BaseException):
            raise item
        assert isinstance(item, bytes)
        yield item


def sha256_object(
    storage: Storage,
    key: str,
    size: int,
    *,
    etag: str | None = None,
    version_id: str | None = None,
    range_size: int = 8 * MiB,
    concurrency: int = 4,
) -> Digest:
    """Hash an object of (about) `size` bytes. With `version_id`, every read is of that version
    (GET with VersionId: whatever is written over the key meanwhile, those bytes never change).
    Without one (a store that keeps no versions), `etag` pins the reads instead: a replaced
    object fails with 412 rather than mixing two versions' bytes."""
    if size <= READ_CHUNK:
        digest, total = hashlib.sha256(), 0
        for chunk in _chunks(storage, key, (0, None), (etag, version_id)):
            digest.update(chunk)
            total += len(chunk)
        return Digest(sha256=digest.hexdigest(), size=total)
    spans = iter(ranges(size, range_size))
    capacity = max(1, min(range_size or MAX_BUFFERED, MAX_BUFFERED) // READ_CHUNK) + 1
    stop = threading.Event()
    digest, total = hashlib.sha256(), 0
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="inlet-hash") as pool:
        buffers: deque[Buffer] = deque()

        def read_ahead() -> None:
            span = next(spans, None)
            if span is not None:
                buffer: Buffer = queue.Queue(maxsize=capacity)
                pool.submit(_read, storage, key, span, (etag, version_id), buffer, stop)
                buffers.append(buffer)

        try:
            for _ in range(concurrency):
                read_ahead()
            while buffers:
                for chunk in _drain(buffers.popleft()):
                    digest.update(chunk)
                    total += len(chunk)
                read_ahead()
        finally:
            stop.set()  # readers still waiting on a full buffer give up
    return Digest(sha256=digest.hexdigest(), size=total)
