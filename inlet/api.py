"""A small typed client for Inlet's HTTP contract, `docs/openapi.json` (also served at
`GET /v1/openapi.json`). Each TypedDict below is named after, and checked against, the
component schema of that document that it describes (tests/unit/test_cli.py)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Literal, NotRequired, TypedDict, cast

import requests
from requests.adapters import HTTPAdapter

from inlet import __version__
from inlet.retry import (
    API_RETRY,
    RetryPolicy,
    repeatable,
    retry_after,
    retry_answer,
    retry_error,
)

Query = dict[str, str | int | None]

DEFAULT_API_URL = "http://127.0.0.1:8000"
FINAL_STATUSES = frozenset({"stored", "failed", "cancelled", "expired"})

# `ErrorBody.code`: what went wrong, for programs to branch on. Each 409 has its own.
ErrorCode = Literal[
    "bad_request",
    "unauthorized",
    "forbidden",
    "not_found",
    "method_not_allowed",
    "run_not_pending",  # 409: the run takes no uploads, signing or cancel any more
    "not_multipart",  # 409: a single PUT file has no parts
    "upload_completed",  # 409: the file's multipart upload is already completed
    "upload_gone",  # 409: the multipart upload no longer exists in the bucket
    "object_exists",  # 409: an object is at the file's key already; the bucket keeps it
    "checksum_conflict",  # 409: the sha256 given at complete differs from the declared one
    "file_pending",  # 409: the file is not stored yet; nothing to download
    "file_failed",  # 409: the file failed verification; it cannot be downloaded
    "file_lost",  # 409: the file's recorded version is no longer in the bucket
    "no_manifest",  # 404: the file is not an archive; it has no manifest
    "file_not_pending",  # 409: an Uppy upload claims a declared file stored already
    "upload_mismatch",  # 409: an Uppy upload claims a declared file uploading another way
    "token_exists",  # 409
    "too_large",
    "unsupported_media_type",  # 415: a body not declared Content-Type: application/json
    "validation_error",
    "quota_exceeded",  # 429: over a quota or rate limit; nothing was created (Retry-After)
    "internal_error",
    "unavailable",
]


class ErrorInfo(TypedDict):
    """Why a run or a file failed."""

    code: str
    message: str


class ErrorDetail(TypedDict):
    field: str | None
    message: str


class ErrorBody(TypedDict):
    code: ErrorCode
    message: str
    details: list[ErrorDetail]


class ErrorResponse(TypedDict):
    error: ErrorBody


class RunOut(TypedDict):
    id: str
    type: str
    label: str | None
    notes: str | None
    status: str
    source: str
    created_at: str
    updated_at: str
    stored_at: str | None
    file_count: int
    total_bytes: int
    error: ErrorInfo | None


class _FileFields(TypedDict):
    id: str
    run_id: str
    name: str
    key: str
    size_bytes: int
    content_type: str
    status: str
    sha256: str | None
    declared_sha256: str | None
    etag: str | None
    stored_at: str | None
    error: ErrorInfo | None


class FileOut(_FileFields, total=False):
    version_id: str | None  # the object version verified and recorded (servers since 0004)
    checked_at: str | None  # when the verdict, stored or failed, was recorded (since 0007)


class Incident(TypedDict):
    """Something the bucket did to a final file's key (overwritten, deleted, version_lost)."""

    kind: str
    file_id: str
    key: str
    recorded_version_id: str | None
    other_version_id: str | None
    detected_at: str
    message: str


class _RunFiles(RunOut):
    files: list[FileOut]


class RunDetail(_RunFiles, total=False):
    incidents: list[Incident]  # integrity incidents, oldest first (servers since 0004)


class SignedPart(TypedDict):
    part_number: int
    url: str
    expires_at: str


class SingleUpload(TypedDict):
    method: Literal["PUT"]
    url: str
    headers: dict[str, str]
    expires_at: str


class MultipartUpload(TypedDict):
    """The server alone decides `part_size` and `part_count`; the client slices by them."""

    method: Literal["multipart"]
    upload_id: str
    part_size: int
    part_count: int
    parts: list[SignedPart]


class UploadFileOut(FileOut):
    upload: SingleUpload | MultipartUpload


class CreateUploadResponse(TypedDict):
    run: RunOut
    files: list[UploadFileOut]


class SignPartsResponse(TypedDict):
    parts: list[SignedPart]


class StoredPart(TypedDict):
    part_number: int
    etag: str
    size: int


class ListPartsResponse(TypedDict):
    parts: list[StoredPart]


class Download(TypedDict):
    """A short-lived presigned GET of exactly the recorded version of a stored file."""

    url: str
    expires_at: str
    name: str
    version_id: str | None
    sha256: str
    size_bytes: int


class RunPage(TypedDict):
    items: list[RunOut]
    next_cursor: str | None


class Health(TypedDict):
    status: str
    checks: dict[str, str]


class LimitUse(TypedDict):
    """One quota or rate limit of the caller's owner (`limit` null: none)."""

    limit: int | None
    used: int
    remaining: int | None
    window_seconds: int | None
    retry_after: int | None
    setting: str


class UploadRules(TypedDict):
    max_file_size: int
    max_files_per_run: int
    multipart_threshold: int


class Limits(TypedDict):
    owner: str | None
    uploads: UploadRules
    pending_runs: LimitUse
    pending_bytes: LimitUse
    runs_per_minute: LimitUse
    inbox_per_minute: LimitUse | None


class FileSpec(TypedDict):
    """One file of `CreateUploadRequest`."""

    name: str
    size: int
    content_type: str
    sha256: NotRequired[str]


class ApiError(Exception):
    """The API refused a request (its JSON error body) or could not be reached (status 0).

    `code` is the body's `ErrorBody.code`, or the client's own: `unreachable`, `http_error` (an
    answer that is not the contract's, from a proxy say) or `bad_response`. `retry_after`: the
    seconds the answer's `Retry-After` asked to wait (a 429, a 503), if it said."""

    def __init__(
        self, status: int, code: str, message: str, retry_after: float | None = None
    ) -> None:
        super().__init__(f"{message} ({code}, HTTP {status})" if status else message)
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after

    def means(self, code: ErrorCode) -> bool:
        """Whether the API answered with this `ErrorBody.code`: what the client branches on."""
        return self.code == code


def _error_from(response: requests.Response) -> ApiError:
    wait = retry_after(response.headers.get("Retry-After"))
    try:
        error = cast(ErrorResponse, response.json())["error"]
        return ApiError(response.status_code, str(error["code"]), str(error["message"]), wait)
    except (ValueError, KeyError, TypeError):
        # Not the contract's body (a proxy, a gateway): keep its first line.
        text = response.text.strip().splitlines()[0][:200] if response.text.strip() else ""
        status = response.status_code
        return ApiError(status, "http_error", text or response.reason or "error", wait)


def _reason(exc: requests.RequestException) -> str:
    """The root cause ("Connection refused"), not urllib3's nested report."""
    cause = exc.args[0] if exc.args else exc
    return str(getattr(cause, "reason", cause))


class ApiClient:
    """One method per endpoint; every failure is an `ApiError`. Requests are retried by the
    client's one rule (`inlet.retry`)."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        timeout: float = 30.0,
        pool_size: int = 8,
        retry: RetryPolicy = API_RETRY,
        notice: Callable[[str], None] | None = None,
    ) -> None:
        """`notice` is told, in words, when a request waits out a server's Retry-After."""
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.retry = retry
        self.notice = notice
        self.session = requests.Session()
        self.session.headers["User-Agent"] = f"inlet-cli/{__version__}"
        if token:  # only ever sent to the API: presigned URLs go through another session
            self.session.headers["Authorization"] = f"Bearer {token}"
        # No retries inside urllib3: `_send` applies the rule, once.
        adapter = HTTPAdapter(max_retries=0, pool_connections=1, pool_maxsize=pool_size)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def _send(
        self,
        method: str,
        path: str,
        body: object = None,
        query: Query | None = None,
        again: bool | None = None,
    ) -> requests.Response:
        """The answer, after retries by the rule; `again`: whether the request is repeatable
        (by default, whether its method is idempotent)."""
        url = f"{self.base_url}{path}"
        params = {k: v for k, v in (query or {}).items() if v is not None}
        again = repeatable(method) if again is None else again
        attempt = 1
        while True:
            last = attempt >= self.retry.attempts
            try:
                response = self.session.request(
                    method, url, json=body, params=params, timeout=self.timeout
                )
            except requests.RequestException as exc:
                if last or not retry_error(exc, again):
                    message = f"cannot reach the API at {self.base_url}: {_reason(exc)}"
                    raise ApiError(0, "unreachable", message) from None
                wait = self.retry.delay(attempt)
            else:
                if last or not retry_answer(response.status_code, again):
                    return response
                asked = retry_after(response.headers.get("Retry-After"))
                waited = self.retry.wait(attempt, asked)
                if waited is None:
                    return response  # it asks for a longer wait than the policy's: final
                wait = waited
                if asked is not None and self.notice is not None:
                    self.notice(
                        f"{_error_from(response).message} (HTTP {response.status_code}); "
                        f"waiting {wait:.0f} s as the API asks, then trying again "
                        f"(attempt {attempt + 1} of {self.retry.attempts})"
                    )
                response.close()
            time.sleep(wait)
            attempt += 1

    def _call(
        self,
        method: str,
        path: str,
        body: object = None,
        query: Query | None = None,
        again: bool | None = None,
    ) -> Any:
        response = self._send(method, path, body, query, again)
        if response.status_code >= 400:
            raise _error_from(response)
        try:
            return response.json()
        except ValueError:
            raise ApiError(
                response.status_code, "bad_response", "the API did not answer JSON"
            ) from None

    def health(self) -> Health:
        """The health document; a 503 carries one too, naming the failing check."""
        response = self._send("GET", "/health")
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code in (200, 503) and isinstance(body, dict) and "status" in body:
            return cast(Health, body)
        raise _error_from(response)

    def create_upload(
        self, run_type: str, files: list[FileSpec], label: str | None, notes: str | None
    ) -> CreateUploadResponse:
        """Not repeatable: retried only when it never reached the API, so a run is never
        created twice."""
        body = {"type": run_type, "label": label, "notes": notes, "files": files}
        return cast(CreateUploadResponse, self._call("POST", "/v1/uploads", body))

    def sign_parts(self, run_id: str, file_id: str, numbers: list[int]) -> list[SignedPart]:
        path = f"/v1/uploads/{run_id}/files/{file_id}/parts"
        # Repeatable: signing changes nothing.
        answer = self._call("POST", path, {"part_numbers": numbers}, again=True)
        return cast(SignPartsResponse, answer)["parts"]

    def list_parts(self, run_id: str, file_id: str) -> list[StoredPart]:
        path = f"/v1/uploads/{run_id}/files/{file_id}/parts"
        return cast(ListPartsResponse, self._call("GET", path))["parts"]

    def complete(self, run_id: str, file_id: str, etags: dict[int, str], sha256: str) -> FileOut:
        """Declares the file's sha256 (computed while the parts were sent, or the one given at
        creation: the server takes the same value again)."""
        parts = [{"part_number": n, "etag": etags[n]} for n in sorted(etags)]
        path = f"/v1/uploads/{run_id}/files/{file_id}/complete"
        body = {"parts": parts, "sha256": sha256}
        # Repeatable: a second complete answers `upload_completed`, which counts as done.
        return cast(FileOut, self._call("POST", path, body, again=True))

    def cancel(self, run_id: str) -> RunOut:
        return cast(RunOut, self._call("DELETE", f"/v1/uploads/{run_id}"))

    def list_runs(
        self, status: str | None, run_type: str | None, limit: int, cursor: str | None
    ) -> RunPage:
        query: Query = {"status": status, "type": run_type, "limit": limit, "cursor": cursor}
        page = self._call("GET", "/v1/runs", query=query)
        return cast(RunPage, page)

    def get_run(self, run_id: str, wait: int | None = None) -> RunDetail:
        """`wait`: seconds the server may hold the request while the run is pending (a
        long-poll; it answers as soon as the run leaves `pending`). A server older than `?wait=`
        answers at once."""
        return cast(RunDetail, self._call("GET", f"/v1/runs/{run_id}", query={"wait": wait}))

    def download(self, run_id: str, file_id: str) -> Download:
        """A presigned GET of a stored file's recorded version, with its sha256 and size."""
        path = f"/v1/runs/{run_id}/files/{file_id}/download"
        return cast(Download, self._call("GET", path))

    def limits(self) -> Limits:
        """The caller's quotas and rate limits, with their use now."""
        return cast(Limits, self._call("GET", "/v1/limits"))
