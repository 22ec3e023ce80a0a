"""Downloads: a run's stored files fetched from the bucket in parallel, each verified against the
size and sha256 the server recorded before it takes its name on disk.

A file's presigned GET (`GET /v1/runs/{run_id}/files/{file_id}/download`: exactly the recorded
version) is asked for when its turn comes, so a queued file never holds a stale URL. The body
streams in 1 MiB chunks into a temporary file in the target directory and is hashed as it is
written; only when size and sha256 are the recorded ones is it renamed into place, so a file
under its final name is always a verified one. A URL the bucket refuses (403: it expired before
the GET) is asked for again, once; every other failure follows the client's one retry rule
(`inlet.retry`), and a retry reads the file again from its first byte.

Local names are the recorded names made safe for a POSIX file system (`safe_name`) and unique in
the run (`local_names`).
"""

from __future__ import annotations

import errno
import hashlib
import os
import threading
import unicodedata
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import requests
import urllib3

from inlet.api import ApiClient, ApiError, Download, FileOut, RunDetail
from inlet.files import CHUNK, Cancelled
from inlet.progress import Reporter
from inlet.retry import TRANSFER_RETRY, RetryPolicy, retry_answer, retry_error
from inlet.upload import describe_refusal, s3_session

# What a local name never holds: path separators (a name is one path segment, never `../x`), and
# what the API's name policy refuses (docs/security.md, "Names"), which older rows and names
# adopted from bucket keys may still carry: controls, bidirectional embeddings, overrides and
# isolates, line and paragraph separators, lone surrogates. Each becomes `_`.
SEPARATORS = frozenset("/\\")
BIDI_CONTROLS = frozenset(map(chr, [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]))
REFUSED_CATEGORIES = ("Cc", "Cs", "Zl", "Zp")
NAME_MAX = 255  # bytes of UTF-8 in one name (Linux, macOS)
# Extensions kept whole when a duplicate name is numbered: "a (2).tar.gz", not "a.tar (2).gz".
COMPOUND_EXTENSIONS = (".tar.gz", ".tar.bz2", ".tar.xz", ".tar.zst")
MAX_EXTENSION = 16  # characters; a longer "extension" is part of the name
TIMEOUT = (10, 300)  # connect, then between two reads of the body


class DownloadError(Exception):
    """A file could not be fetched from the bucket or written to disk, even after retries."""

    code = "transfer_failed"


class Mismatch(DownloadError):
    """The bytes the bucket sent are not the recorded ones; nothing was kept."""

    def __init__(self, name: str, link: Download, size: int, sha256: str, more: bool) -> None:
        self.code = "size_mismatch" if more or size != link["size_bytes"] else "sha256_mismatch"
        got = f"more than {link['size_bytes']}" if more else str(size)
        super().__init__(
            f"{name}: the bytes from the bucket are not the recorded ones, nothing kept: "
            f"sha256 expected {link['sha256']}, got {sha256}"
            + ("" if self.code == "sha256_mismatch" else f" (of the first {size} bytes)")
            + f"; size expected {link['size_bytes']} bytes, got {got}"
        )


# --- names ------------------------------------------------------------------------------------


def _split(name: str) -> tuple[str, str]:
    """`(stem, extension)`: "a.tar.gz" is ("a", ".tar.gz"); ".bashrc" and "a." have none."""
    lower = name.lower()
    for compound in COMPOUND_EXTENSIONS:
        if lower.endswith(compound) and len(name) > len(compound):
            return name[: -len(compound)], name[-len(compound) :]
    stem, dot, extension = name.rpartition(".")
    if stem.strip(".") and 0 < len(extension) <= MAX_EXTENSION:
        return stem, dot + extension
    return name, ""


def _fit(stem: str, extension: str, mark: str = "") -> str:
    """`stem + mark + extension`, the stem shortened (at a character) to fit NAME_MAX bytes."""
    room = NAME_MAX - len((mark + extension).encode())
    return stem.encode()[:room].decode(errors="ignore") + mark + extension


def safe_name(name: str) -> str:
    """`name` as one safe file name: separators and refused characters become `_`, "", "."
    and ".." become underscores, and it fits NAME_MAX bytes (its extension kept). Every other
    character stays: any script, accents, spaces, emoji."""
    cleaned = "".join(
        "_"
        if ch in SEPARATORS or ch in BIDI_CONTROLS or unicodedata.category(ch) in REFUSED_CATEGORIES
        else ch
        for ch in name
    )
    if not cleaned.strip("."):
        cleaned = "_" * max(1, len(cleaned))
    return _fit(*_split(cleaned))


def _folded(name: str) -> str:
    """How a case-insensitive, normalising file system (macOS, Windows) compares names."""
    return unicodedata.normalize("NFC", name.casefold())


def local_names(files: Sequence[FileOut]) -> dict[str, str]:
    """Each file's name on disk, by file id: its `safe_name`, and when that is taken by an
    earlier file of the run (compared as a case-insensitive file system would), " (2)", " (3)"...
    before its extension. Computed over the whole run in its order, so a file gets the same name
    whichever files are downloaded."""
    names: dict[str, str] = {}
    taken: set[str] = set()
    for file in files:
        name = base = safe_name(file["name"])
        number = 1
        while _folded(name) in taken:
            number += 1
            name = _fit(*_split(base), f" ({number})")
        taken.add(_folded(name))
        names[file["id"]] = name
    return names


def select(run: RunDetail, wanted: Sequence[str]) -> tuple[list[FileOut], list[FileOut]]:
    """`(chosen, skipped)`, in the run's order. `wanted` names files by id or by recorded name
    (a name picks every file of that name); with none, every stored file is chosen and the
    others are skipped, unless none is stored: then all are chosen, so the API says of each why
    it cannot be downloaded. Raises LookupError for a FILE that names none of the run's."""
    files = run["files"]
    if not wanted:
        stored = [f for f in files if f["status"] == "stored"]
        chosen = stored or files
        return chosen, [f for f in files if f not in chosen]
    unknown = [w for w in wanted if not any(w in (f["id"], f["name"]) for f in files)]
    if unknown:
        known = ", ".join(f["name"] for f in files)
        raise LookupError(f"run {run['id']} has no file {unknown[0]!r}; its files: {known}")
    return [f for f in files if f["id"] in wanted or f["name"] in wanted], []


# --- fetching ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    file: FileOut
    path: Path  # where it goes once verified


@dataclass(frozen=True)
class Outcome:
    target: Target
    link: Download | None = None  # set when the file was saved and verified
    error: ApiError | DownloadError | None = None


# Failures of a body being read (urllib3's own: the body is read raw, below requests).
BODY_ERRORS = (requests.RequestException, urllib3.exceptions.HTTPError)


class Downloader:
    """Fetches files of one run, `parallel` at a time; `force` replaces existing files."""

    def __init__(
        self,
        api: ApiClient,
        run_id: str,
        parallel: int,
        progress: Reporter,
        retry: RetryPolicy | None = None,
        force: bool = False,
    ) -> None:
        self.api = api
        self.run_id = run_id
        self.parallel = parallel
        self.progress = progress
        self.retry = retry or TRANSFER_RETRY
        self.force = force
        self.s3 = s3_session(parallel)  # never carries the API token
        self.stop = threading.Event()

    def download(self, targets: Sequence[Target]) -> list[Outcome]:
        """One outcome per target, in their order: a failed file does not stop the others."""
        tasks = [self.progress.add(t.file["name"], t.file["size_bytes"]) for t in targets]
        with ThreadPoolExecutor(self.parallel, thread_name_prefix="inlet-download") as pool:
            futures = [
                pool.submit(self._one, t, task) for t, task in zip(targets, tasks, strict=True)
            ]
            try:
                return [future.result() for future in futures]
            except BaseException:
                # Ctrl-C: running files stop at their next chunk and remove their temp files.
                self.stop.set()
                pool.shutdown(wait=True, cancel_futures=True)
                raise

    def _one(self, target: Target, task: int) -> Outcome:
        try:
            return Outcome(target, link=self._fetch(target, task))
        except (ApiError, DownloadError) as exc:
            return Outcome(target, error=exc)
        except OSError as exc:  # writing: a full disk, a directory where the file goes
            where = exc.filename or target.path
            return Outcome(target, error=DownloadError(f"{where}: {exc.strerror or exc}"))

    def _fetch(self, target: Target, task: int) -> Download:
        """The file's link once the file is in place, verified; retries by the rule."""
        name = target.file["name"]
        link = self.api.download(self.run_id, target.file["id"])
        renewed, pause, failure = False, False, ""
        for attempt in range(1, self.retry.attempts + 1):
            if pause:
                self.stop.wait(self.retry.delay(attempt - 1))  # Ctrl-C cuts the wait short
            pause = True
            if self.stop.is_set():
                raise Cancelled("download stopped")
            try:
                response = self.s3.get(link["url"], stream=True, timeout=TIMEOUT)
            except requests.RequestException as exc:
                failure = str(exc)
                if retry_error(exc, repeatable=True):
                    continue
                break
            with response:
                if response.ok:
                    try:
                        self._save(target, task, link, response)
                        return link
                    except BODY_ERRORS as exc:
                        failure = f"the bucket's answer broke off: {exc}"
                        continue
                failure = describe_refusal(response)
                if response.status_code == 403 and not renewed:
                    # Expired before the GET (a long queue, a slow start): a fresh URL, once.
                    renewed, pause = True, False
                    link = self.api.download(self.run_id, target.file["id"])
                    continue
                if not retry_answer(response.status_code, repeatable=True):
                    break
        raise DownloadError(f"{name}: {failure}")

    def _save(self, target: Target, task: int, link: Download, response: requests.Response) -> None:
        """Streams the body into a temporary file beside the target, hashing what is written,
        and renames it into place only when size and sha256 are the recorded ones; on any
        failure the temporary file is removed and the bar goes back."""
        expected = link["size_bytes"]
        temp = target.path.with_name(f".inlet-{uuid.uuid4().hex}.part")
        digest = hashlib.sha256()
        written, more, placed = 0, False, False
        try:
            with temp.open("xb") as stream:  # created with the umask's mode, like any file
                for chunk in response.raw.stream(CHUNK, decode_content=False):
                    if self.stop.is_set():
                        raise Cancelled("download stopped")
                    if written + len(chunk) > expected:
                        more = True  # more than recorded: no need to read (or store) the rest
                        break
                    digest.update(chunk)
                    stream.write(chunk)
                    written += len(chunk)
                    self.progress.advance(task, len(chunk))
                stream.flush()
                os.fsync(stream.fileno())  # verified bytes on disk before they take the name
            got = digest.hexdigest()
            if more or written != expected or got != link["sha256"]:
                raise Mismatch(target.file["name"], link, written, got, more)
            if not self.force and os.path.lexists(target.path):  # appeared meanwhile
                raise FileExistsError(errno.EEXIST, "exists; --force replaces it", str(target.path))
            os.replace(temp, target.path)
            placed = True
        finally:
            if not placed:
                temp.unlink(missing_ok=True)
                self.progress.advance(task, -written)
