"""A small typed client for Inlet's HTTP contract (`shared/api-contract.md`)."""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict, cast

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from inlet import __version__

DEFAULT_API_URL = "http://127.0.0.1:8000"
FINAL_STATUSES = frozenset({"stored", "failed", "cancelled", "expired"})


class ErrorInfo(TypedDict):
    code: str
    message: str


class Run(TypedDict):
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


class File(TypedDict):
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


class RunDetail(Run):
    files: list[File]


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
    method: Literal["multipart"]
    upload_id: str
    part_size: int
    part_count: int
    parts: list[SignedPart]


class UploadFile(File):
    upload: SingleUpload | MultipartUpload


class CreatedUpload(TypedDict):
    run: Run
    files: list[UploadFile]


class StoredPart(TypedDict):
    part_number: int
    etag: str
    size: int


class RunPage(TypedDict):
    items: list[Run]
    next_cursor: str | None


class Health(TypedDict):
    status: str
    checks: dict[str, str]


class FileSpec(TypedDict):
    name: str
    size: int
    content_type: str
    sha256: NotRequired[str]


class ApiError(Exception):
    """The API refused a request (its JSON error body) or could not be reached (status 0)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{message} ({code}, HTTP {status})" if status else message)
        self.status = status
        self.code = code
        self.message = message


def _error_from(response: requests.Response) -> ApiError:
    try:
        error = response.json()["error"]
        return ApiError(response.status_code, str(error["code"]), str(error["message"]))
    except (ValueError, KeyError, TypeError):
        # Not the contract's body (a proxy, a gateway): keep its first line.
        text = response.text.strip().splitlines()[0][:200] if response.text.strip() else ""
        return ApiError(response.status_code, "http_error", text or response.reason or "error")


def _reason(exc: requests.RequestException) -> str:
    """The root cause ("Connection refused"), not urllib3's nested retry report."""
    cause = exc.args[0] if exc.args else exc
    return str(getattr(cause, "reason", cause))


def _retrying_adapter(pool_size: int) -> HTTPAdapter:
    """Connection failures are always retried (nothing was sent); statuses and read errors
    only for idempotent methods, so a POST never creates a run twice."""
    retry = Retry(
        total=4,
        connect=3,
        read=2,
        status=3,
        backoff_factor=0.5,
        status_forcelist=(502, 503, 504),
        allowed_methods=frozenset({"GET", "HEAD", "DELETE", "OPTIONS"}),
        raise_on_status=False,
    )
    return HTTPAdapter(max_retries=retry, pool_connections=1, pool_maxsize=pool_size)


class ApiClient:
    """One method per endpoint; every failure is an `ApiError`."""

    def __init__(
        self, base_url: str, token: str | None = None, timeout: float = 30.0, pool_size: int = 8
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers["User-Agent"] = f"inlet-cli/{__version__}"
        if token:  # only ever sent to the API: presigned URLs go through another session
            self.session.headers["Authorization"] = f"Bearer {token}"
        adapter = _retrying_adapter(pool_size)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def _send(
        self, method: str, path: str, body: object, params: dict[str, str | int | None]
    ) -> requests.Response:
        url = f"{self.base_url}{path}"
        query = {k: v for k, v in params.items() if v is not None}
        try:
            return self.session.request(method, url, json=body, params=query, timeout=self.timeout)
        except requests.RequestException as exc:
            message = f"cannot reach the API at {self.base_url}: {_reason(exc)}"
            raise ApiError(0, "unreachable", message) from None

    def _call(self, method: str, path: str, body: object = None, **params: str | int | None) -> Any:
        response = self._send(method, path, body, params)
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
        response = self._send("GET", "/health", None, {})
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code in (200, 503) and isinstance(body, dict) and "status" in body:
            return cast(Health, body)
        raise _error_from(response)

    def create_upload(
        self, run_type: str, files: list[FileSpec], label: str | None, notes: str | None
    ) -> CreatedUpload:
        body = {"type": run_type, "label": label, "notes": notes, "files": files}
        return cast(CreatedUpload, self._call("POST", "/v1/uploads", body))

    def sign_parts(self, run_id: str, file_id: str, numbers: list[int]) -> list[SignedPart]:
        path = f"/v1/uploads/{run_id}/files/{file_id}/parts"
        return cast(list[SignedPart], self._call("POST", path, {"part_numbers": numbers})["parts"])

    def list_parts(self, run_id: str, file_id: str) -> list[StoredPart]:
        path = f"/v1/uploads/{run_id}/files/{file_id}/parts"
        return cast(list[StoredPart], self._call("GET", path)["parts"])

    def complete(self, run_id: str, file_id: str, etags: dict[int, str]) -> File:
        parts = [{"part_number": n, "etag": etags[n]} for n in sorted(etags)]
        path = f"/v1/uploads/{run_id}/files/{file_id}/complete"
        return cast(File, self._call("POST", path, {"parts": parts}))

    def cancel(self, run_id: str) -> Run:
        return cast(Run, self._call("DELETE", f"/v1/uploads/{run_id}"))

    def list_runs(
        self, status: str | None, run_type: str | None, limit: int, cursor: str | None
    ) -> RunPage:
        page = self._call(
            "GET", "/v1/runs", status=status, type=run_type, limit=limit, cursor=cursor
        )
        return cast(RunPage, page)

    def get_run(self, run_id: str) -> RunDetail:
        return cast(RunDetail, self._call("GET", f"/v1/runs/{run_id}"))
