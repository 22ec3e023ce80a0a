"""Archives for the tests, real and hostile, built here in memory (small ones) or streamed into
the bucket (a multi-GiB tar, never held whole): what `chalicelib.archives` must list or refuse."""

from __future__ import annotations

import hashlib
import io
import itertools
import os
import struct
import tarfile
import time
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from chalicelib.archives import Entry
from chalicelib.config import MiB
from chalicelib.storage import Storage

# (path, content): content None is a directory.
Member = tuple[str, bytes | None]

NESTED: list[Member] = [
    ("etc/", None),
    ("etc/nginx/", None),
    ("etc/nginx/nginx.conf", b"worker_processes 4;\n"),
    ("etc/nginx/conf.d/", None),
    ("etc/nginx/conf.d/site é 🎉.conf", b"server { listen 80; }\n"),
    ("etc/empty/", None),
    ("README", b""),
    ("data/blob.bin", bytes(range(256)) * 1000),
]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def manifest_of(members: Sequence[Member]) -> list[Entry]:
    """The manifest a correct reader lists for `members`, in order."""
    return [
        Entry(path.rstrip("/"), "dir", 0, None)
        if data is None
        else Entry(path, "file", len(data), sha256(data))
        for path, data in members
    ]


def _tar_info(path: str, data: bytes | None) -> tarfile.TarInfo:
    info = tarfile.TarInfo(path)
    info.mtime = int(time.time())
    if data is None:
        info.type, info.mode = tarfile.DIRTYPE, 0o755
    else:
        info.size, info.mode = len(data), 0o644
    return info


def tar_bytes(
    members: Sequence[Member], *, gzip: bool = False, fmt: int = tarfile.PAX_FORMAT
) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz" if gzip else "w", format=fmt) as tar:
        for path, data in members:
            tar.addfile(_tar_info(path, data), None if data is None else io.BytesIO(data))
    return out.getvalue()


def tar_with(*infos: tarfile.TarInfo, gzip: bool = False) -> bytes:
    """A tar of raw headers (links, devices, odd names), each without data."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz" if gzip else "w", format=tarfile.GNU_FORMAT) as tar:
        for info in infos:
            tar.addfile(info)
    return out.getvalue()


def link(path: str, target: str, kind: bytes = tarfile.SYMTYPE) -> tarfile.TarInfo:
    info = tarfile.TarInfo(path)
    info.type, info.linkname = kind, target
    return info


def special(path: str, kind: bytes) -> tarfile.TarInfo:
    info = tarfile.TarInfo(path)
    info.type = kind
    return info


def zip_bytes(members: Sequence[Member], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for path, data in members:
            if data is None:
                archive.writestr(zipfile.ZipInfo(path if path.endswith("/") else path + "/"), b"")
            else:
                archive.writestr(path, data)
    return out.getvalue()


def zip_symlink(path: str, target: str) -> bytes:
    """A zip whose entry is a symbolic link (the Unix mode in the external attributes)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        info = zipfile.ZipInfo(path)
        info.create_system = 3
        info.external_attr = (0o120777 << 16) | 0
        archive.writestr(info, target)
    return out.getvalue()


def zip_encrypted() -> bytes:
    """A zip whose one entry says it is encrypted (general purpose flag bit 0)."""
    data = bytearray(zip_bytes([("secret.txt", b"hidden")], compression=zipfile.ZIP_STORED))
    for signature, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.find(signature)
        data[at + flag_at] |= 0x1
    return bytes(data)


def zip_bomb(unpacked: int) -> bytes:
    """One deflated entry of `unpacked` zeros (about 1,000 to 1): made without holding them."""
    out = io.BytesIO()
    block = bytes(MiB)
    with (
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("zeros.bin", "w", force_zip64=True) as entry,
    ):
        for _ in range(unpacked // MiB):
            entry.write(block)
    return out.getvalue()


def gzip_bomb_tar(unpacked: int) -> bytes:
    """A .tar.gz of one file of `unpacked` zeros (gzip compresses them about 1,000 to 1)."""
    info = tarfile.TarInfo("zeros.bin")
    info.size = unpacked
    header = info.tobuf(format=tarfile.GNU_FORMAT)
    compress = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    parts = [compress.compress(header)]
    block = bytes(MiB)
    for _ in range(unpacked // MiB):
        parts.append(compress.compress(block))
    parts.append(compress.compress(bytes(1024)))  # the end marker
    parts.append(compress.flush())
    return b"".join(parts)


def _local_header(name: bytes, crc: int, compressed: int, unpacked: int) -> bytes:
    fields = (b"PK\x03\x04", 20, 0, 8, 0, 0, crc, compressed, unpacked, len(name), 0)
    return struct.pack("<4s5H3L2H", *fields) + name


def _central_header(name: bytes, crc: int, compressed: int, unpacked: int, offset: int) -> bytes:
    fields = (b"PK\x01\x02", 20, 20, 0, 8, 0, 0, crc, compressed, unpacked, len(name))
    return struct.pack("<4s6H3L5H2L", *fields, 0, 0, 0, 0, 0, offset) + name


def _end_record(count: int, central: bytes, offset: int) -> bytes:
    return struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, len(central), offset, 0)


def overlapping_zip_bomb(copies: int = 1000, kernel_size: int = 10 * MiB) -> bytes:
    """Fifield's zip bomb, fully overlapping form: one deflated kernel and `copies` central
    directory entries that all point at its one local header."""
    kernel = bytes(kernel_size)
    compress = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    compressed = compress.compress(kernel) + compress.flush()
    crc, name = zlib.crc32(kernel), b"kernel"
    body = _local_header(name, crc, len(compressed), kernel_size) + compressed
    central = _central_header(name, crc, len(compressed), kernel_size, 0) * copies
    return body + central + _end_record(copies, central, len(body))


def quoted_overlap_zip_bomb(files: int = 50, kernel_size: int = 4 * MiB) -> bytes:
    """Fifield's quoted-overlap form: each entry's data starts with a stored deflate block that
    quotes the next entry's local header, then goes on into that entry's data, so every entry
    unpacks the rest of the file. Built from the last entry to the first."""
    unpacked = bytes(kernel_size)
    compress = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    data = compress.compress(unpacked) + compress.flush()
    headers: list[tuple[bytes, bytes, int, int, int]] = []
    for index in reversed(range(files)):
        name = f"{index:04d}.bin".encode()
        crc = zlib.crc32(unpacked)
        local = _local_header(name, crc, len(data), len(unpacked))
        headers.insert(0, (name, local, crc, len(data), len(unpacked)))
        if index:
            stored_block = struct.pack("<BHH", 0, len(local), len(local) ^ 0xFFFF)
            data, unpacked = stored_block + local + data, local + unpacked
    central, offset = b"", 0
    for name, local, crc, compressed, size in headers:
        central += _central_header(name, crc, compressed, size, offset)
        offset += len(local) + 5  # the next header follows this one's stored block header
    body = headers[0][1] + data
    return body + central + _end_record(files, central, len(body))


@dataclass
class BytesSource:
    """An archive held in memory, read as the bucket would serve it (chunks, ranges)."""

    data: bytes
    chunk: int = 64 * 1024

    @property
    def size(self) -> int:
        return len(self.data)

    def stream(self) -> Iterator[bytes]:
        for start in range(0, len(self.data), self.chunk):
            yield self.data[start : start + self.chunk]

    def read(self, start: int, end: int) -> Iterator[bytes]:
        yield self.data[start : end + 1]


# --- a multi-GiB tar, streamed into the bucket ------------------------------------------------


def _content(size: int, block: bytes, seed: int) -> Iterator[bytes]:
    """`size` bytes, cheap to make and unlike any other member's: a random block whose first
    bytes are a counter."""
    for index in itertools.count():
        done = index * len(block)
        if done >= size:
            return
        piece = struct.pack("<QQ", seed, index) + block[16:]
        yield piece[: size - done]


def _tar_stream(members: Sequence[tuple[str, int]], block: bytes) -> Iterator[bytes]:
    for seed, (path, size) in enumerate(members):
        info = tarfile.TarInfo(path)
        info.size, info.mode, info.mtime = size, 0o644, 0
        yield info.tobuf(format=tarfile.PAX_FORMAT)
        yield from _content(size, block, seed)
        if size % tarfile.BLOCKSIZE:
            yield bytes(tarfile.BLOCKSIZE - size % tarfile.BLOCKSIZE)
    yield bytes(tarfile.RECORDSIZE)  # the end marker, padded to a record


def large_tar_entries(members: Sequence[tuple[str, int]], block: bytes) -> list[Entry]:
    """The manifest of `upload_large_tar(members, block)` (hashed again, a chunk at a time)."""
    found = []
    for seed, (path, size) in enumerate(members):
        digest = hashlib.sha256()
        for piece in _content(size, block, seed):
            digest.update(piece)
        found.append(Entry(path, "file", size, digest.hexdigest()))
    return found


def upload_large_tar(
    storage: Storage, key: str, members: Sequence[tuple[str, int]], part_size: int = 64 * MiB
) -> tuple[bytes, int, str | None]:
    """A tar of `members` (path, size) streamed into a multipart upload, one part in memory at
    a time. The random block it is made of, its size, and the version stored."""
    block = os.urandom(MiB)
    upload_id = storage.create_multipart(key, "application/x-tar")
    parts: list[tuple[int, str]] = []
    pending, size = bytearray(), 0

    def send(data: bytes) -> None:
        number = len(parts) + 1
        etag = storage.client.upload_part(
            Bucket=storage.bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=data
        )["ETag"]
        parts.append((number, etag))

    for piece in _tar_stream(members, block):
        pending += piece
        size += len(piece)
        if len(pending) >= part_size:
            send(bytes(pending[:part_size]))
            del pending[:part_size]
    if pending:
        send(bytes(pending))
    storage.complete_multipart(key, upload_id, parts)
    head = storage.head_version(key)
    version = getattr(head, "version_id", None)
    return block, size, version
