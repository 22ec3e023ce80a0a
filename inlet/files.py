"""Local files: what is declared to the API, their sha256, and byte ranges streamed from disk."""

from __future__ import annotations

import hashlib
import mimetypes
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

CHUNK = 1024 * 1024  # one read from disk; memory per transfer stays at about this much


class Cancelled(Exception):
    """The transfer was stopped (Ctrl-C or another part failed); not an I/O error."""


def content_type(path: Path) -> str:
    guessed, encoding = mimetypes.guess_type(path.name)
    if encoding == "gzip":
        return "application/gzip"
    return guessed or "application/octet-stream"


@dataclass(frozen=True)
class LocalFile:
    path: Path  # absolute
    size: int
    mtime_ns: int

    @classmethod
    def stat(cls, raw: str) -> LocalFile:
        """A regular file's identity; raises FileNotFoundError or IsADirectoryError."""
        path = Path(raw).expanduser().resolve()
        info = path.stat()
        if path.is_dir():
            raise IsADirectoryError(f"{raw} is a directory")
        return cls(path=path, size=info.st_size, mtime_ns=info.st_mtime_ns)

    @property
    def name(self) -> str:
        return self.path.name

    def fingerprint(self) -> str:
        """Changes when the file does: the key under which resume state is kept."""
        return f"{self.path}\0{self.size}\0{self.mtime_ns}"


def sha256_file(path: Path, on_bytes: Callable[[int], None], stop: threading.Event) -> str:
    """One sequential pass with a fixed buffer: memory does not grow with the file."""
    digest = hashlib.sha256()
    buffer = bytearray(CHUNK)
    view = memoryview(buffer)
    with path.open("rb", buffering=0) as stream:
        while count := stream.readinto(buffer):
            if stop.is_set():
                raise Cancelled("hashing stopped")
            digest.update(view[:count])
            on_bytes(count)
    return digest.hexdigest()


class FileSlice:
    """`length` bytes of a file from `offset`, read on demand: a streaming request body.

    It has `read` and `__len__` (requests sends a Content-Length, as S3 requires) but no
    `fileno`, so nothing mistakes the whole file's size for the slice's.
    """

    def __init__(
        self,
        path: Path,
        offset: int,
        length: int,
        on_bytes: Callable[[int], None],
        stop: threading.Event,
    ) -> None:
        self._fd = os.open(path, os.O_RDONLY)
        self._offset = offset
        self._left = length
        self._length = length
        self._on_bytes = on_bytes
        self._stop = stop
        self.sent = 0

    def __len__(self) -> int:
        return self._length

    def read(self, size: int = -1) -> bytes:
        if self._stop.is_set():
            raise Cancelled("transfer stopped")
        want = self._left if size < 0 else min(size, self._left)
        data = os.pread(self._fd, want, self._offset) if want else b""
        if len(data) < want:
            raise OSError(f"file shrank while uploading ({self._left} bytes missing)")
        self._offset += len(data)
        self._left -= len(data)
        self.sent += len(data)
        self._on_bytes(len(data))
        return data

    def close(self) -> None:
        os.close(self._fd)

    def __enter__(self) -> FileSlice:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
