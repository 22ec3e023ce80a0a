"""Reading an archive's entries (path, kind, size, sha256) as a stream, with flat memory, and
refusing hostile archives before they cost memory, time or disk (docs/processing.md).

Formats go by the file's name: `.tar`, `.tar.gz` / `.tgz`, `.zip`. A tar (gzipped or not) is read
front to back from one GET of the object (`tarfile` in stream mode, the gzip layer unpacked
here); a zip needs its central directory, at the end, so it is read through a seekable file
object over ranged GETs with a small block cache. Entries are hashed as they are read, a chunk at
a time; nothing is written to disk and no entry is held whole in memory.

Every refusal is an `ArchiveRefused` with a `code` and a message naming the entry: names that
leave the archive (`path_traversal`, `absolute_path`) or that no database row can hold
(`unsafe_name`), links (`link_entry`), devices and pipes (`special_entry`), encrypted entries
(`encrypted_entry`), compression other than stored and deflate in a zip
(`unsupported_compression`), zip entries whose data overlap (`overlapping_entries`, the
overlapping-file zip bomb), more entries or unpacked bytes than allowed (`too_many_entries`,
`too_large`), more unpacked bytes per byte read than allowed (`compression_ratio`, checked while
reading, so a bomb stops early), and anything unreadable (`corrupt_archive`). A failure of the
source itself (the bucket) is a `SourceError`: not the archive's fault, tried again later.
"""

from __future__ import annotations

import errno
import hashlib
import io
import itertools
import queue
import re
import stat
import struct
import tarfile
import threading
import zipfile
import zlib
from collections import OrderedDict
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass
from typing import Literal, Protocol, Self

MiB = 1024 * 1024
Format = Literal["tar", "tar.gz", "zip"]
Kind = Literal["file", "dir"]

# Entries are read and hashed this much at a time.
READ_SIZE = MiB
# The compression ratio is judged once this much is unpacked: small archives of very
# compressible files (a few configuration files) are never refused for their ratio.
RATIO_FLOOR = 4 * MiB
# What a tar may read between two entries' data (headers, long names, pax records, padding), and
# after its end marker: a header declaring gigabytes is refused before tarfile buffers it.
MAX_HEADER_BYTES = 4 * MiB
# The largest zip central directory read (zipfile holds it in memory).
MAX_CENTRAL_DIRECTORY = 64 * MiB
# Zip reads: blocks of this size, the last few kept (so memory stays flat, and small reads of
# headers do not each cost a GET).
BLOCK_SIZE = 2 * MiB
CACHED_BLOCKS = 4
# The bucket's chunks are read this many ahead of the unpacking and hashing, in a thread of
# their own: the network and the hashing overlap (both release the GIL).
PREFETCH_CHUNKS = 4

_SUFFIXES: tuple[tuple[str, Format], ...] = (
    (".tar.gz", "tar.gz"),
    (".tgz", "tar.gz"),
    (".tar", "tar"),
    (".zip", "zip"),
)
_DRIVE = re.compile(r"^[A-Za-z]:")
_SEPARATORS = re.compile(r"[/\\]")


def archive_format(name: str) -> Format | None:
    """The archive format a file name says (case-insensitive), or None: not an archive."""
    lowered = name.lower()
    for suffix, found in _SUFFIXES:
        if lowered.endswith(suffix):
            return found
    return None


class ArchiveRefused(Exception):
    """An archive Inlet will not list: permanent, whatever number of times it is read."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class SourceError(Exception):
    """Reading the archive's bytes failed (the bucket, the network): `__cause__` says how."""


@dataclass(frozen=True)
class Limits:
    max_entries: int
    max_bytes: int
    max_ratio: int
    ratio_floor: int = RATIO_FLOOR


@dataclass(frozen=True)
class Entry:
    path: str  # `/`-separated, without `./` or a trailing slash
    kind: Kind
    size: int
    sha256: str | None  # of the entry's bytes; None for a directory


class Source(Protocol):
    """An archive's bytes: the whole of it as a stream, or an inclusive byte range."""

    @property
    def size(self) -> int: ...

    def stream(self) -> Iterator[bytes]: ...

    def read(self, start: int, end: int) -> Iterator[bytes]: ...


def entries(source: Source, archive: Format, limits: Limits) -> Iterator[Entry]:
    """The entries of `source`, in archive order; raises ArchiveRefused on the first reason to
    refuse it (entries yielded before then are not a manifest: callers discard them)."""
    meter = _Meter(limits)
    if archive == "zip":
        yield from _zip_entries(_RangedReader(source, meter), meter)
    else:
        raw = _ChunkReader(prefetched(source.stream()), meter)
        yield from _tar_entries(_Gunzip(raw, meter) if archive == "tar.gz" else raw, meter)


# --- names ------------------------------------------------------------------------------------


def _unsafe(ch: str) -> bool:
    """A control character (C0, DEL, C1: NUL included, which Postgres text cannot hold) or a lone
    surrogate (a name that was not UTF-8; no UTF-8 encodes one)."""
    return ch < " " or "\x7f" <= ch <= "\x9f" or "\ud800" <= ch <= "\udfff"


def clean_path(name: str) -> str:
    """The entry's path as listed: `./` parts and repeated or trailing slashes dropped, the rest
    kept as it is (spaces, accents, emoji). Refused: unsafe characters, absolute paths (`/x`,
    `\\x`, `C:x`) and `..` parts (with `\\` taken as a separator too, as Windows tools would)."""
    if any(_unsafe(ch) for ch in name):
        raise ArchiveRefused("unsafe_name", f"entry {name!r} has a control character in its name")
    if name.startswith(("/", "\\")) or _DRIVE.match(name):
        raise ArchiveRefused("absolute_path", f"entry {name!r} has an absolute path")
    if ".." in _SEPARATORS.split(name):
        raise ArchiveRefused("path_traversal", f"entry {name!r} leaves the archive (`..`)")
    return "/".join(part for part in name.split("/") if part not in ("", "."))


# --- limits -----------------------------------------------------------------------------------


class _Meter:
    """What has been read so far, against the limits: entries, unpacked bytes, and source bytes
    (compressed) read for them."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.entries = 0
        self.unpacked = 0
        self.read = 0  # bytes of the archive itself read from the source
        self.current = "the archive's first header"  # what is being read, for messages

    def entry(self, name: str, declared_size: int) -> None:
        """A new entry is about to be read: its count and its declared size are checked first,
        so a refusal costs no unpacking."""
        self.entries += 1
        self.current = f"entry {name!r}"
        if self.entries > self.limits.max_entries:
            raise ArchiveRefused(
                "too_many_entries",
                f"more than {self.limits.max_entries} entries (at {self.current})",
            )
        if self.unpacked + declared_size > self.limits.max_bytes:
            raise ArchiveRefused(
                "too_large",
                f"{self.current} ({declared_size} bytes) takes the archive over"
                f" {self.limits.max_bytes} unpacked bytes",
            )

    def between_entries(self, name: str) -> None:
        self.current = f"the header after entry {name!r}"

    def unpacked_bytes(self, count: int) -> None:
        """`count` more bytes of an entry were unpacked: the real bytes, whatever was declared."""
        self.unpacked += count
        if self.unpacked > self.limits.max_bytes:
            raise ArchiveRefused(
                "too_large",
                f"{self.current} takes the archive over {self.limits.max_bytes} unpacked bytes",
            )
        self.ratio(self.unpacked)

    def ratio(self, unpacked: int) -> None:
        """Refuse once `unpacked` bytes came out of too few bytes of the archive."""
        if unpacked > self.limits.ratio_floor and unpacked > self.limits.max_ratio * self.read:
            raise ArchiveRefused(
                "compression_ratio",
                f"{self.current}: {unpacked} bytes unpacked from {self.read} bytes of the"
                f" archive, over the ratio {self.limits.max_ratio}",
            )


# --- readers ----------------------------------------------------------------------------------


class _Reader(io.RawIOBase):
    """A read-only, forward-only stream. `limit`, when set, is the position past which reading
    is refused (a tar's headers may not run on)."""

    def __init__(self) -> None:
        super().__init__()
        self.position = 0
        self.limit: int | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        count = self._fill(memoryview(buffer).cast("B"))
        self.position += count
        if self.limit is not None and self.position > self.limit:
            raise ArchiveRefused(
                "too_large", f"more than {MAX_HEADER_BYTES} bytes of headers or padding"
            )
        return count

    def _fill(self, buffer: memoryview) -> int:
        raise NotImplementedError


class _ChunkReader(_Reader):
    """The source's stream of chunks as a file object; counts the archive's bytes read."""

    def __init__(self, chunks: Iterator[bytes], meter: _Meter) -> None:
        super().__init__()
        self._chunks = chunks
        self._meter = meter
        self._chunk = memoryview(b"")

    def _fill(self, buffer: memoryview) -> int:
        while not self._chunk:
            try:
                chunk = next(self._chunks, None)
            except Exception as exc:
                raise SourceError(f"reading the archive failed: {exc}") from exc
            if chunk is None:
                return 0
            self._chunk = memoryview(chunk)
            self._meter.read += len(chunk)
        count = min(len(buffer), len(self._chunk))
        buffer[:count] = self._chunk[:count]
        self._chunk = self._chunk[count:]
        return count

    def close(self) -> None:
        close = getattr(self._chunks, "close", None)
        if close is not None:
            close()  # a generator over a GET: its connection is released
        super().close()


class _Gunzip(_Reader):
    """gzip unpacked here, not by tarfile, so that no read unpacks more than it was asked for
    (a bomb never lands in memory), the ratio is checked as bytes come out, and a truncated or
    damaged stream is told apart from a short archive. Members follow each other; zero padding
    after the last one is allowed, as gzip allows it."""

    def __init__(self, raw: _Reader, meter: _Meter) -> None:
        super().__init__()
        self._raw = raw
        self._meter = meter
        self._unzip = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self._pending = b""
        self._done = False

    def _input(self) -> bytes:
        if self._unzip.unconsumed_tail:
            return self._unzip.unconsumed_tail
        data, self._pending = self._pending or self._raw.read(READ_SIZE), b""
        return data

    def _next_member(self) -> None:
        rest = self._unzip.unused_data
        while not (rest := rest.lstrip(b"\0")):
            rest = self._raw.read(READ_SIZE)
            if not rest:
                self._done = True
                return
        self._unzip = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self._pending = rest

    def _fill(self, buffer: memoryview) -> int:
        while not self._done:
            if self._unzip.eof:
                self._next_member()
                continue
            data = self._input()
            if not data:
                raise ArchiveRefused(
                    "corrupt_archive", f"the gzip stream ends early, in {self._meter.current}"
                )
            try:
                out = self._unzip.decompress(data, len(buffer))
            except zlib.error as exc:
                raise ArchiveRefused(
                    "corrupt_archive", f"the gzip stream is damaged in {self._meter.current}: {exc}"
                ) from None
            if out:
                buffer[: len(out)] = out
                self._meter.ratio(self.position + len(out))
                return len(out)
        return 0

    def close(self) -> None:
        self._raw.close()
        super().close()


def prefetched(chunks: Iterator[bytes], depth: int = PREFETCH_CHUNKS) -> Generator[bytes]:
    """`chunks`, read at most `depth` ahead by a thread of their own. Their errors come out
    here; closing this generator stops the thread, which closes `chunks` (a GET's connection)."""
    buffer: queue.Queue[object] = queue.Queue(depth)
    stop = threading.Event()
    end = object()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                buffer.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        try:
            for chunk in chunks:
                if not put(chunk):
                    return
            put(end)
        except Exception as exc:
            put(exc)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()

    reader = threading.Thread(target=read, name="inlet-prefetch", daemon=True)
    reader.start()
    try:
        while (item := buffer.get()) is not end:
            if isinstance(item, Exception):
                raise item
            assert isinstance(item, bytes)
            yield item
    finally:
        stop.set()
        reader.join()


class _Stream:
    """Exact amounts from a stream of chunks of any size."""

    def __init__(self, chunks: Generator[bytes]) -> None:
        self._chunks = chunks
        self._left = b""

    def take(self, count: int) -> bytes:
        parts, got = [self._left[:count]], min(count, len(self._left))
        self._left = self._left[count:]
        while got < count:
            chunk = next(self._chunks, None)
            if chunk is None:
                raise EOFError(f"the object ended {count - got} bytes early")
            parts.append(chunk[: count - got])
            self._left = chunk[count - got :]
            got += len(parts[-1])
        return b"".join(parts)

    def close(self) -> None:
        self._chunks.close()


class _RangedReader(io.RawIOBase):
    """A seekable file object over ranged reads of the source, `BLOCK_SIZE` blocks at a time,
    the last `CACHED_BLOCKS` kept: what zipfile needs, with flat memory. A block read right after
    the one before it continues the same GET (open to the object's end, read ahead), so a zip read
    in order costs a GET for its central directory and one for its entries, not one per block.
    Counts the bytes it hands out (re-reading the same bytes counts again: overlapping entries
    pay for their reads)."""

    def __init__(self, source: Source, meter: _Meter) -> None:
        super().__init__()
        self._source = source
        self._meter = meter
        self._size = source.size
        self._position = 0
        self._blocks: OrderedDict[int, bytes] = OrderedDict()
        self._stream: _Stream | None = None
        self._next_streamed = -1  # the block the open GET hands out next

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        if base + offset < 0:
            # As a file does: zipfile probes before the start of small files, expecting this.
            raise OSError(errno.EINVAL, "negative seek position")
        self._position = base + offset
        return self._position

    def _block(self, index: int) -> bytes:
        block = self._blocks.get(index)
        if block is None:
            start = index * BLOCK_SIZE
            end = min(start + BLOCK_SIZE, self._size) - 1
            try:
                if index != self._next_streamed or self._stream is None:
                    self._close_stream()
                    self._stream = _Stream(prefetched(self._source.read(start, self._size - 1)))
                block = self._stream.take(end - start + 1)
                self._next_streamed = index + 1
            except Exception as exc:
                self._close_stream()
                raise SourceError(f"reading bytes {start}-{end} failed: {exc}") from exc
            self._blocks[index] = block
            while len(self._blocks) > CACHED_BLOCKS:
                self._blocks.popitem(last=False)
        else:
            self._blocks.move_to_end(index)
        return block

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        done = 0
        while done < len(view) and self._position < self._size:
            index, offset = divmod(self._position, BLOCK_SIZE)
            block = self._block(index)
            count = min(len(view) - done, len(block) - offset)
            if count <= 0:
                break
            view[done : done + count] = block[offset : offset + count]
            done += count
            self._position += count
        self._meter.read += done
        return done

    def _close_stream(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream, self._next_streamed = None, -1

    def close(self) -> None:
        self._close_stream()
        super().close()


# --- tar --------------------------------------------------------------------------------------


class _StrictTarInfo(tarfile.TarInfo):
    """tarfile takes a damaged or truncated header after the first as the end of the archive;
    here it is `corrupt_archive`. Only a block of zeros (the end marker) ends an archive."""

    @classmethod
    def fromtarfile(cls, tar: tarfile.TarFile) -> Self:
        try:
            return super().fromtarfile(tar)
        except tarfile.EOFHeaderError:  # type: ignore[attr-defined]  # (not in typeshed)
            raise
        except tarfile.HeaderError as exc:
            raise ArchiveRefused(
                "corrupt_archive", f"a damaged or truncated header after byte {tar.offset}: {exc}"
            ) from None


def _tar_kind(member: tarfile.TarInfo, name: str) -> Kind:
    if member.isdir():
        return "dir"
    if member.issym() or member.islnk():
        raise ArchiveRefused(
            "link_entry", f"entry {name!r} is a link (to {member.linkname!r}); links are refused"
        )
    if member.isreg():
        return "file"
    raise ArchiveRefused(
        "special_entry", f"entry {name!r} is a device, a pipe or of an unknown type"
    )


def _hashed(read: Callable[[int], bytes], meter: _Meter) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    while chunk := read(READ_SIZE):
        meter.unpacked_bytes(len(chunk))
        digest.update(chunk)
        size += len(chunk)
    return size, digest.hexdigest()


def _tar_entries(reader: _Reader, meter: _Meter) -> Iterator[Entry]:
    try:
        reader.limit = reader.position + MAX_HEADER_BYTES
        with tarfile.open(
            fileobj=reader,
            mode="r|",
            tarinfo=_StrictTarInfo,
            encoding="utf-8",
            errors="surrogateescape",
        ) as tar:
            while True:
                reader.limit = reader.position + MAX_HEADER_BYTES
                member = tar.next()
                if member is None:
                    break
                reader.limit = None
                tar.members.clear()  # type: ignore[attr-defined]  # stream mode keeps every header read: memory would grow
                name = member.name
                path = clean_path(name)
                kind = _tar_kind(member, name)
                if kind == "file" and not path:
                    raise ArchiveRefused("unsafe_name", f"entry {name!r} has no name")
                meter.entry(name, member.size if kind == "file" else 0)
                if kind == "file":
                    data = tar.extractfile(member)
                    assert data is not None  # a regular file always has data
                    size, sha256 = _hashed(data.read, meter)
                    yield Entry(path, "file", size, sha256)
                elif path:  # not the archive's own root (`./`)
                    yield Entry(path, "dir", 0, None)
                meter.between_entries(name)
            if isinstance(reader, _Gunzip):
                # The gzip trailer (its CRC) follows the end marker: read it, so damage is seen.
                reader.limit = reader.position + MAX_HEADER_BYTES
                while reader.read(READ_SIZE):
                    pass
    except (tarfile.TarError, EOFError) as exc:
        raise ArchiveRefused("corrupt_archive", f"{meter.current} is unreadable: {exc}") from None
    finally:
        reader.close()


# --- zip --------------------------------------------------------------------------------------

_EOCD = struct.Struct("<4s4H2LH")
_ZIP64_LOCATOR = struct.Struct("<4sLQL")
_ZIP64_EOCD = struct.Struct("<4sQ2H2L4Q")
_CENTRAL_HEADER = struct.Struct("<4s4B4HL2L5H2L")
_MAX_COMMENT = 0xFFFF


def _central_directory(reader: _RangedReader, size: int) -> tuple[int, int]:
    """Where the central directory starts and how long it is, from the end record (zip64's
    when the plain one overflows)."""
    tail = min(size, _EOCD.size + _MAX_COMMENT)
    reader.seek(size - tail)
    data = reader.read(tail)
    at = data.rfind(b"PK\x05\x06")
    if at < 0 or len(data) - at < _EOCD.size:
        raise ArchiveRefused("corrupt_archive", "no zip end record: not a zip, or truncated")
    end_record = size - tail + at
    _, _, _, _, _, cd_size, cd_offset, _ = _EOCD.unpack_from(data, at)
    records_end = end_record
    if cd_size == 0xFFFFFFFF or cd_offset == 0xFFFFFFFF:
        reader.seek(end_record - _ZIP64_LOCATOR.size)
        locator = reader.read(_ZIP64_LOCATOR.size)
        if len(locator) < _ZIP64_LOCATOR.size or not locator.startswith(b"PK\x06\x07"):
            raise ArchiveRefused("corrupt_archive", "a zip64 archive without its locator")
        records_end = end_record - _ZIP64_LOCATOR.size - _ZIP64_EOCD.size
        reader.seek(max(records_end, 0))
        record = reader.read(_ZIP64_EOCD.size)
        if len(record) < _ZIP64_EOCD.size or not record.startswith(b"PK\x06\x06"):
            raise ArchiveRefused("corrupt_archive", "a zip64 archive without its end record")
        cd_size = _ZIP64_EOCD.unpack(record)[8]
    return records_end - cd_size, cd_size


def _count_central_directory(reader: _RangedReader, size: int, meter: _Meter) -> None:
    """Walk the central directory's records before zipfile reads them all into memory: more
    entries than allowed, or a directory too large to hold, are refused first."""
    start, length = _central_directory(reader, size)
    if length > MAX_CENTRAL_DIRECTORY:
        raise ArchiveRefused(
            "too_large", f"a central directory of {length} bytes (at most {MAX_CENTRAL_DIRECTORY})"
        )
    if start < 0:
        raise ArchiveRefused("corrupt_archive", "the central directory starts before the file")
    position, count = start, 0
    while position < start + length:
        reader.seek(position)
        header = reader.read(_CENTRAL_HEADER.size)
        if len(header) < _CENTRAL_HEADER.size or not header.startswith(b"PK\x01\x02"):
            raise ArchiveRefused("corrupt_archive", f"a damaged central directory at {position}")
        fields = _CENTRAL_HEADER.unpack(header)
        name_length, extra_length, comment_length = fields[12:15]
        position += _CENTRAL_HEADER.size + name_length + extra_length + comment_length
        count += 1
        if count > meter.limits.max_entries:
            raise ArchiveRefused(
                "too_many_entries", f"more than {meter.limits.max_entries} entries"
            )


def _check_layout(infos: Iterable[zipfile.ZipInfo], data_end: int) -> None:
    """Each entry's data must end before the next entry's header begins. Entries that share or
    overlap their data (Fifield's zip bomb: one compressed kernel read by many entries) are
    refused before anything is unpacked. The end counted here is a lower bound (30 bytes of
    local header and the data, without the local name and extra), so nothing valid is refused."""
    ordered = sorted(infos, key=lambda info: info.header_offset)
    for info, following in itertools.pairwise(ordered):
        if info.header_offset + 30 + info.compress_size > following.header_offset:
            raise ArchiveRefused(
                "overlapping_entries",
                f"entry {following.orig_filename!r} overlaps the data of entry"
                f" {info.orig_filename!r} (a zip bomb)",
            )
    if ordered and ordered[-1].header_offset + 30 + ordered[-1].compress_size > data_end:
        info = ordered[-1]
        raise ArchiveRefused(
            "overlapping_entries", f"entry {info.orig_filename!r} overlaps the central directory"
        )


def _zip_kind(info: zipfile.ZipInfo) -> Kind:
    name = info.orig_filename
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise ArchiveRefused("link_entry", f"entry {name!r} is a symbolic link; links are refused")
    if stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
        raise ArchiveRefused("special_entry", f"entry {name!r} is a device or a pipe")
    if info.flag_bits & 0x1:
        raise ArchiveRefused("encrypted_entry", f"entry {name!r} is encrypted")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise ArchiveRefused(
            "unsupported_compression",
            f"entry {name!r} uses compression method {info.compress_type}; only stored and"
            " deflate are read",
        )
    return "dir" if info.is_dir() else "file"


def _zip_entries(reader: _RangedReader, meter: _Meter) -> Iterator[Entry]:
    size = reader.seek(0, io.SEEK_END)
    try:
        _count_central_directory(reader, size, meter)
        with zipfile.ZipFile(reader) as archive:
            infos = archive.infolist()
            _check_layout(infos, archive.start_dir)
            for info in infos:
                # zipfile cuts a name at a NUL: the original is the one judged.
                name = info.orig_filename
                path = clean_path(name)
                kind = _zip_kind(info)
                meter.entry(name, info.file_size if kind == "file" else 0)
                if kind == "dir":
                    if path:
                        yield Entry(path, "dir", 0, None)
                    continue
                if not path:
                    raise ArchiveRefused("unsafe_name", f"entry {name!r} has no name")
                with archive.open(info) as data:
                    entry_size, sha256 = _hashed(data.read, meter)
                yield Entry(path, "file", entry_size, sha256)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, zlib.error, struct.error) as exc:
        raise ArchiveRefused("corrupt_archive", f"{meter.current} is unreadable: {exc}") from None
    except (ValueError, NotImplementedError, UnicodeDecodeError) as exc:
        raise ArchiveRefused("corrupt_archive", f"{meter.current} is unreadable: {exc}") from None
    finally:
        reader.close()
