"""The upload engine: presigned PUTs and multipart parts, in parallel, streamed from disk.

Every part (and every single-PUT file) is a job for a thread pool of `parallel` workers. A job
reads its byte range from disk in 1 MiB chunks while sending, so memory stays flat whatever the
file size. Part URLs are signed in batches on demand and re-signed when S3 refuses one (403:
expired). Failures are retried by the client's one rule (`inlet.retry`) with exponential
backoff; a multipart file is completed as soon as its last part is in. Part sizes and counts are
the server's: a file is sliced exactly as its create-upload answer says.

A multipart file created without a sha256 is hashed while its parts are on the wire: one
sequential pass per file in a pool of its own (hashlib releases the GIL), and `complete` declares
the digest, waiting for it if the parts are in first. The server verifies the bytes against it.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from inlet.api import ApiClient, ApiError, SignedPart
from inlet.files import CHUNK, Cancelled, FileSlice, LocalFile, sha256_file
from inlet.progress import Reporter
from inlet.retry import TRANSFER_RETRY, RetryPolicy, retry_answer, retry_error
from inlet.state import FileState

# Part URLs asked for per `POST .../parts`. The server takes up to `maxItems` of
# SignPartsRequest.part_numbers in docs/openapi.json (1000); 20 keeps each batch well within
# the URLs' lifetime and matches what the server signs up front with the run.
SIGN_BATCH = 20
EXPIRY_MARGIN = timedelta(seconds=60)  # re-sign a URL this close to expiring before using it
S3_CODE = re.compile(r"<Code>([^<]+)</Code>")


class UploadError(Exception):
    """Bytes could not be put into the bucket, even after retries."""


class FileChanged(UploadError):
    """A file changed while it was read: what was sent is not what was hashed."""


class _LargeBlocks(HTTPAdapter):
    """urllib3 sends a body in 16 KiB blocks by default; 1 MiB ones cost far fewer syscalls."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs, blocksize=CHUNK)


def s3_session(parallel: int) -> requests.Session:
    """A session for presigned URLs: no retries inside urllib3 (the engine retries whole parts,
    by the same rule as API calls)."""
    session = requests.Session()
    adapter = _LargeBlocks(pool_connections=4, pool_maxsize=parallel, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def _expires(part: SignedPart) -> datetime:
    return datetime.fromisoformat(part["expires_at"].replace("Z", "+00:00"))


def _accepted(response: requests.Response) -> bool:
    return response.ok and bool(response.headers.get("ETag"))


def describe_refusal(response: requests.Response) -> str:
    """`HTTP 403 AccessDenied`: the status and the bucket's error code (S3's XML `<Code>`)."""
    found = S3_CODE.search(response.text or "")
    return f"HTTP {response.status_code} {found.group(1) if found else response.reason}"


class PartSigner:
    """Presigned URLs of one multipart file: signed in batches when first needed, re-signed
    when about to expire or refused."""

    def __init__(
        self,
        api: ApiClient,
        run_id: str,
        file: FileState,
        needed: list[int],
        signed: list[SignedPart],
    ) -> None:
        self._api = api
        self._run_id = run_id
        self._file = file
        self._needed = needed
        self._urls = {p["part_number"]: p for p in signed}
        self._lock = threading.Lock()

    def _fresh(self, number: int) -> bool:
        part = self._urls.get(number)
        return part is not None and _expires(part) - datetime.now(UTC) > EXPIRY_MARGIN

    def url(self, number: int) -> SignedPart:
        with self._lock:
            if not self._fresh(number):
                batch = [n for n in self._needed if n >= number and not self._fresh(n)]
                signed = self._api.sign_parts(self._run_id, self._file.file_id, batch[:SIGN_BATCH])
                self._urls.update((p["part_number"], p) for p in signed)
            return self._urls[number]

    def refused(self, part: SignedPart) -> None:
        """Forget the refused URL and every one signed no later: they share its fate."""
        with self._lock:
            limit = _expires(part)
            self._urls = {n: p for n, p in self._urls.items() if _expires(p) > limit}


@dataclass(frozen=True)
class Job:
    file: FileState
    task: int  # progress bar
    number: int = 0  # part number; 0 for a single PUT


class Uploader:
    """Uploads the incomplete files of one run; `on_done` is called as each file is in."""

    def __init__(
        self,
        api: ApiClient,
        run_id: str,
        parallel: int,
        progress: Reporter,
        retry: RetryPolicy | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self.api = api
        self.run_id = run_id
        self.parallel = parallel
        self.progress = progress
        self.retry = retry or TRANSFER_RETRY
        self.s3 = session or s3_session(parallel)
        self.stop = threading.Event()
        self._signers: dict[str, PartSigner] = {}
        self._etags: dict[str, dict[int, str]] = {}
        self._digests: dict[str, Future[str]] = {}
        self._hashing = ThreadPoolExecutor(os.cpu_count() or 1, thread_name_prefix="inlet-sha256")

    def upload(
        self,
        files: list[FileState],
        signed: dict[str, list[SignedPart]],
        on_done: Callable[[FileState], None],
    ) -> None:
        """`signed` holds the part URLs the API handed out with the run; a file without any
        is a resumed one, and the bucket is asked which of its parts it already holds."""
        try:
            jobs = []
            for file in files:
                if file.completed:
                    continue
                if file.method == "PUT":
                    jobs.append(Job(file, self.progress.add(file.name, file.size)))
                else:
                    jobs.extend(self._multipart_jobs(file, signed.get(file.file_id), on_done))
            self._run(jobs, on_done)
        except BaseException:
            self.stop.set()  # hashes still running stop at their next chunk
            raise
        finally:
            self._hashing.shutdown(wait=True, cancel_futures=True)

    def _multipart_jobs(
        self, file: FileState, signed: list[SignedPart] | None, on_done: Callable[[FileState], None]
    ) -> list[Job]:
        etags = self._stored_parts(file) if signed is None else {}
        if file.completed:  # the bucket says so: interrupted between complete and saving state
            on_done(file)
            return []
        self._etags[file.file_id] = etags
        if file.sha256 is None:
            self._digests[file.file_id] = self._hashing.submit(
                sha256_file, file.local.path, lambda _: None, self.stop
            )
        needed = [n for n in range(1, file.part_count + 1) if n not in etags]
        self._signers[file.file_id] = PartSigner(self.api, self.run_id, file, needed, signed or [])
        done = sum(file.part_range(n)[1] for n in etags)
        task = self.progress.add(file.name, file.size, done)
        if not needed:
            self._complete(file, on_done)
        return [Job(file, task, n) for n in needed]

    def _stored_parts(self, file: FileState) -> dict[int, str]:
        """Parts the bucket already holds with the right size (others are sent again)."""
        try:
            stored = self.api.list_parts(self.run_id, file.file_id)
        except ApiError as exc:
            if exc.means("upload_completed"):  # completed just before the interruption
                file.completed = True
                return {}
            raise  # run_not_pending, upload_gone, ...: nothing to resume
        return {
            p["part_number"]: p["etag"]
            for p in stored
            if p["part_number"] <= file.part_count
            and p["size"] == file.part_range(p["part_number"])[1]
        }

    def _run(self, jobs: list[Job], on_done: Callable[[FileState], None]) -> None:
        remaining = {job.file.file_id: 0 for job in jobs}
        for job in jobs:
            remaining[job.file.file_id] += 1
        with ThreadPoolExecutor(self.parallel, thread_name_prefix="inlet-upload") as pool:
            futures: dict[Future[str], Job] = {pool.submit(self._send, job): job for job in jobs}
            try:
                for future in as_completed(futures):
                    job = futures[future]
                    etag = future.result()
                    if job.number:
                        self._etags[job.file.file_id][job.number] = etag
                    remaining[job.file.file_id] -= 1
                    if remaining[job.file.file_id] == 0:
                        self._finish(job.file, on_done)
            except BaseException:
                # Ctrl-C or a failed part: running jobs stop at their next chunk.
                self.stop.set()
                pool.shutdown(wait=True, cancel_futures=True)
                raise

    def _finish(self, file: FileState, on_done: Callable[[FileState], None]) -> None:
        if file.method == "PUT":
            file.completed = True
            on_done(file)
        else:
            self._complete(file, on_done)

    def _complete(self, file: FileState, on_done: Callable[[FileState], None]) -> None:
        if file.sha256 is None:
            digest = self._digests[file.file_id].result()  # waits if the parts were faster
            self._check_unchanged(file)
            file.sha256 = digest
        try:
            self.api.complete(self.run_id, file.file_id, self._etags[file.file_id], file.sha256)
        except ApiError as exc:
            if not exc.means("upload_completed"):  # a retried complete whose first one went in
                raise
        file.completed = True
        on_done(file)

    def _check_unchanged(self, file: FileState) -> None:
        """A file written to while it was read: its digest may not be that of the bytes sent.
        Said here, before `complete` (a change that keeps size and mtime fails the server's
        verification instead)."""
        try:
            changed = LocalFile.stat(file.path) != file.local
        except OSError:
            changed = True
        if changed:
            raise FileChanged(
                f"{file.name} changed while it was being uploaded; "
                f"`inlet cancel {self.run_id}`, then upload it again"
            )

    def _send(self, job: Job) -> str:
        """One part or one whole file, with retries; returns the ETag S3 gave it."""
        failure = ""
        for attempt in range(1, self.retry.attempts + 1):
            if attempt > 1:
                self.stop.wait(self.retry.delay(attempt - 1))  # Ctrl-C cuts the wait short
            if self.stop.is_set():
                raise Cancelled("transfer stopped")
            try:
                response, signed = self._put(job)
            except ApiError as exc:  # signing the part's URL: the API client applied the rule
                failure = str(exc)
                break
            except requests.RequestException as exc:
                failure = str(exc)
                if not retry_error(exc, repeatable=True):
                    break
                continue
            if _accepted(response):
                return response.headers["ETag"]
            if response.status_code == 412 and not job.number:
                return self._already_in(job)
            failure = describe_refusal(response) if not response.ok else "no ETag in the response"
            if not self._worth_retrying(response, job, signed):
                break
        what = f"part {job.number} of {job.file.name}" if job.number else job.file.name
        raise UploadError(f"{what}: {failure}")

    def _already_in(self, job: Job) -> str:
        """A single PUT answered 412: an object is at the file's key (its URL signs
        If-None-Match: *, so the bucket never replaces one). Only this file's URL writes there,
        or the server when it closed the run: unless the run was cancelled or expired, an
        earlier attempt went in and its answer was lost (or the command was stopped before it
        saved that). The server verifies the bytes either way (`--wait` shows the verdict)."""
        status = self.api.get_run(self.run_id)["status"]
        if status in ("cancelled", "expired"):
            raise UploadError(f"{job.file.name}: run {self.run_id} is {status}, takes no uploads")
        self.progress.advance(job.task, job.file.size)
        return ""  # a single PUT's ETag is not needed

    def _worth_retrying(
        self, response: requests.Response, job: Job, signed: SignedPart | None
    ) -> bool:
        """The retry rule's statuses (408, 429, 5xx) pass, and a 2xx without an ETag; a refused
        part URL (403: expired, or not valid yet) is re-signed; any other 4xx is final."""
        status = response.status_code
        if status == 403 and signed is not None:
            self._signers[job.file.file_id].refused(signed)
            return True
        if status == 403:
            raise UploadError(
                f"{job.file.name}: the bucket refused its upload URL (expired?) and the API "
                f"cannot re-sign a single PUT; `inlet cancel {self.run_id}`, then upload again"
            )
        return retry_answer(status, repeatable=True) or response.ok

    def _put(self, job: Job) -> tuple[requests.Response, SignedPart | None]:
        signed: SignedPart | None = None
        url, headers = job.file.put_url or "", job.file.put_headers
        offset, length = 0, job.file.size
        if job.number:
            signed = self._signers[job.file.file_id].url(job.number)
            url, headers = signed["url"], {}
            offset, length = job.file.part_range(job.number)

        def advance(count: int) -> None:
            self.progress.advance(job.task, count)

        with FileSlice(job.file.local.path, offset, length, advance, self.stop) as body:
            try:
                response = self.s3.put(url, data=body, headers=headers, timeout=(10, 300))
            except BaseException:
                advance(-body.sent)  # this attempt's bytes will be sent again
                raise
        if not _accepted(response):
            advance(-body.sent)
        return response, signed
