"""Resume state: one small JSON file per unfinished upload, removed when the upload finishes.

Kept in `$INLET_STATE_DIR`, else `$XDG_CACHE_HOME/inlet`, else `~/.cache/inlet`. The file name
is a hash of the API URL, the run's type, label and notes, and every file's absolute path, size
and mtime: running the same command again finds it, and a changed file never matches. A file's
identity is never its sha256: a multipart file is hashed while it uploads, so a resumed one is
hashed again, and the sha256 declared at `complete` (verified by the server against the bytes in
the bucket) catches a change that kept the size and the mtime.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from inlet.files import LocalFile


def state_dir() -> Path:
    configured = os.environ.get("INLET_STATE_DIR")
    if configured:
        return Path(configured).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "inlet"


@dataclass
class FileState:
    """One file of the run: where it is on disk and how the API said to upload it."""

    path: str
    size: int
    mtime_ns: int
    sha256: str | None  # None for a multipart file until it is hashed, while it uploads
    file_id: str
    method: str  # "PUT" or "multipart"
    content_type: str
    put_url: str | None = None
    put_headers: dict[str, str] = field(default_factory=dict)
    part_size: int = 0
    part_count: int = 0
    completed: bool = False  # the bytes are in the bucket (PUT done, or multipart completed)

    @property
    def local(self) -> LocalFile:
        return LocalFile(path=Path(self.path), size=self.size, mtime_ns=self.mtime_ns)

    @property
    def name(self) -> str:
        return Path(self.path).name

    def part_range(self, number: int) -> tuple[int, int]:
        """Offset and length of part `number` (1-based)."""
        offset = (number - 1) * self.part_size
        return offset, min(self.part_size, self.size - offset)


@dataclass
class UploadState:
    key: str
    api_url: str
    run_id: str
    files: list[FileState]


def state_key(
    api_url: str, run_type: str, label: str | None, notes: str | None, files: list[LocalFile]
) -> str:
    identity = json.dumps([api_url, run_type, label, notes, [f.fingerprint() for f in files]])
    return hashlib.sha256(identity.encode()).hexdigest()[:32]


class StateStore:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, key: str) -> Path:
        return self.directory / f"{key}.json"

    def load(self, key: str) -> UploadState | None:
        try:
            raw = json.loads(self._path(key).read_text())
            files = [FileState(**item) for item in raw.pop("files")]
            return UploadState(**raw, files=files)
        except (OSError, ValueError, TypeError, KeyError):
            return None  # missing or unreadable: start afresh

    def find_run(self, run_id: str) -> UploadState | None:
        for path in sorted(self.directory.glob("*.json")):
            state = self.load(path.stem)
            if state is not None and state.run_id == run_id:
                return state
        return None

    def save(self, state: UploadState) -> None:
        """Atomically, readable by the owner only (it holds presigned URLs)."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
        with os.fdopen(fd, "w") as stream:
            json.dump(asdict(state), stream)
        os.replace(tmp, self._path(state.key))

    def delete(self, state: UploadState) -> None:
        self._path(state.key).unlink(missing_ok=True)
