"""What to upload: a new run (hash the small files, create it, keep its state) or a resumed one."""

from __future__ import annotations

import functools
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from inlet.api import ApiClient, ApiError, FileSpec, SignedPart, UploadFileOut
from inlet.files import LocalFile, content_type, sha256_file
from inlet.progress import Reporter
from inlet.state import FileState, StateStore, UploadState, state_key
from inlet.upload import UploadError


@dataclass
class Plan:
    state: UploadState
    resumed: bool
    # Part URLs the API signed when it created the run; a resumed run signs on demand.
    signed: dict[str, list[SignedPart]] = field(default_factory=dict)


# The server's default multipart threshold: a file this size or smaller goes in one PUT, whose
# URL signs its sha256, so it is hashed before the run is created (cheap at this size). A larger
# file is created without one and hashed while its parts are sent (inlet.upload); its sha256 is
# declared when it is completed.
HASH_FIRST_MAX = 16 * 1024 * 1024


@dataclass(frozen=True)
class Request:
    run_type: str | None
    label: str | None
    notes: str | None
    files: list[LocalFile]
    resume_run: str | None = None
    hash_first_max: int = HASH_FIRST_MAX  # see hash_first_max()


def hash_first_max(api: ApiClient, files: list[LocalFile]) -> int:
    """Up to which size files are hashed before the run is created: the server's multipart
    threshold (`GET /v1/limits`), asked only when a file is larger than its default; a single
    PUT can declare its sha256 only at creation."""
    if all(f.size <= HASH_FIRST_MAX for f in files):
        return HASH_FIRST_MAX
    return api.limits()["uploads"]["multipart_threshold"]


def hash_files(files: list[LocalFile], progress: Reporter) -> list[str]:
    """One file per core at a time: hashlib releases the GIL, and SHA-256 is sequential
    within a file, so several files are the only way to use more than one core."""
    tasks = [progress.add(f"sha256 {local.name}", local.size) for local in files]
    stop = threading.Event()

    def digest(index: int) -> str:
        advance = functools.partial(progress.advance, tasks[index])
        return sha256_file(files[index].path, advance, stop)

    with ThreadPoolExecutor(max(1, min(len(files), os.cpu_count() or 1))) as pool:
        try:
            return list(pool.map(digest, range(len(files))))
        except BaseException:
            stop.set()  # Ctrl-C: the other files stop at their next chunk
            raise


def _file_state(local: LocalFile, digest: str | None, created: UploadFileOut) -> FileState:
    upload = created["upload"]
    state = FileState(
        path=str(local.path),
        size=local.size,
        mtime_ns=local.mtime_ns,
        sha256=digest,
        file_id=created["id"],
        method=upload["method"],
        content_type=created["content_type"],
    )
    if upload["method"] == "PUT":
        state.put_url, state.put_headers = upload["url"], upload["headers"]
    else:
        state.part_size, state.part_count = upload["part_size"], upload["part_count"]
    return state


def create_run(
    api: ApiClient, store: StateStore, request: Request, key: str, progress: Reporter
) -> Plan:
    assert request.run_type is not None
    small = [f for f in request.files if f.size <= request.hash_first_max]
    known = dict(zip(small, hash_files(small, progress), strict=True))
    digests = [known.get(f) for f in request.files]
    specs = []
    for local, digest in zip(request.files, digests, strict=True):
        spec = FileSpec(name=local.name, size=local.size, content_type=content_type(local.path))
        if digest is not None:
            spec["sha256"] = digest
        specs.append(spec)
    created = api.create_upload(request.run_type, specs, request.label, request.notes)
    files = [
        _file_state(local, digest, item)
        for local, digest, item in zip(request.files, digests, created["files"], strict=True)
    ]
    state = UploadState(key=key, api_url=api.base_url, run_id=created["run"]["id"], files=files)
    store.save(state)
    signed = {
        item["id"]: item["upload"]["parts"]
        for item in created["files"]
        if item["upload"]["method"] == "multipart"
    }
    return Plan(state=state, resumed=False, signed=signed)


def _check_same_files(state: UploadState, files: list[LocalFile]) -> None:
    """A resumed run must be fed exactly the files it was created with, unchanged."""
    expected = {Path(f.path): f.local for f in state.files}
    given = {f.path: f for f in files}
    if set(given) != set(expected):
        names = ", ".join(sorted(str(p) for p in expected))
        raise UploadError(f"run {state.run_id} was started with other files: {names}")
    changed = [str(p) for p, f in given.items() if f != expected[p]]
    if changed:
        raise UploadError(
            f"changed since run {state.run_id} started: {', '.join(changed)}; "
            "start a new upload (without --resume)"
        )


def _status(api: ApiClient, run_id: str) -> str:
    try:
        return api.get_run(run_id)["status"]
    except ApiError as exc:
        if exc.means("not_found"):  # the API no longer knows it (another database)
            return "unknown"
        raise


def plan_upload(api: ApiClient, store: StateStore, request: Request, progress: Reporter) -> Plan:
    """Resume the run named by --resume, or the unfinished run of this very command, or
    create a new one. A saved run that is no longer pending is forgotten."""
    key = state_key(
        api.base_url, request.run_type or "", request.label, request.notes, request.files
    )
    if request.resume_run:
        state = store.find_run(request.resume_run)
        if state is None:
            raise UploadError(
                f"no saved state for run {request.resume_run} in {store.directory}; "
                "it was finished, or started on another machine"
            )
        _check_same_files(state, request.files)
    else:
        state = store.load(key)
    if state is not None:
        status = _status(api, state.run_id)
        if status == "pending":
            return Plan(state=state, resumed=True)
        store.delete(state)
        if request.resume_run:
            raise UploadError(f"run {state.run_id} is {status}; there is nothing to resume")
    return create_run(api, store, request, key, progress)
