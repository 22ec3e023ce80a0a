"""Getting a stored file back: a short-lived presigned GET of exactly the version verified."""

from __future__ import annotations

from chalicelib.config import Settings
from chalicelib.db import Database
from chalicelib.errors import Conflict, FileFailed, FileLost, FilePending
from chalicelib.models import File, FileStatus
from chalicelib.runs import visible_file
from chalicelib.schemas import Download
from chalicelib.storage import Storage


def not_stored(file: File, file_id: str) -> Conflict:
    """Why a file that is not `stored` has nothing to hand out (409, a code per status)."""
    if file.status == FileStatus.FAILED:
        return FileFailed(f"file {file_id} failed verification ({file.error_code})")
    if file.status == FileStatus.LOST:
        return FileLost(
            f"the recorded version of file {file_id} is no longer in the bucket ({file.error_code})"
        )
    return FilePending(f"file {file_id} is not stored yet; wait for its run (?wait=)")


class Downloads:
    """Download links for the files of a run. The database says which version to read; the
    bucket serves the bytes (Inlet never streams them)."""

    def __init__(self, db: Database, storage: Storage, settings: Settings) -> None:
        self.db = db
        self.storage = storage
        self.settings = settings

    def link(self, run_id: str, file_id: str, owner: str | None) -> Download:
        """A GET of the file's recorded version (`files.version_id`: what the bucket event
        handler hashed), valid INLET_DOWNLOAD_TTL seconds. Another owner's run, and a file of
        another run, are 404 like missing ones; only a `stored` file has bytes to hand out."""
        with self.db.session() as session:
            file = visible_file(session, run_id, file_id, owner)
        if file.status != FileStatus.STORED or file.sha256 is None:
            raise not_stored(file, file_id)
        ttl = self.settings.inlet_download_ttl
        presigned = self.storage.presign_get(file.object_key, file.version_id, file.name, ttl)
        return Download(
            url=presigned.url,
            expires_at=presigned.expires_at,
            name=file.name,
            version_id=file.version_id,
            sha256=file.sha256,
            size_bytes=file.size_bytes,  # verified: the object's size when it was stored
        )
