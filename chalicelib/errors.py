"""Errors that map onto the contract's `{"error": {"code", "message", "details"}}` responses."""

from __future__ import annotations

from typing import Any, ClassVar


class ApiError(Exception):
    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"
    # Extra response headers: a class's own (401), or an instance's (429's Retry-After).
    headers: dict[str, str] = {}

    def __init__(self, message: str, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class BadRequest(ApiError):
    status, code = 400, "bad_request"


class Unauthorized(ApiError):
    status, code = 401, "unauthorized"
    # RFC 6750: a 401 names the scheme the client should use.
    headers = {"WWW-Authenticate": 'Bearer realm="inlet"'}


class NotFound(ApiError):
    status, code = 404, "not_found"


class NoManifest(NotFound):
    code = "no_manifest"


class Conflict(ApiError):
    """The run or file is in a state that refuses this; each case has a code of its own."""

    status = 409


class RunNotPending(Conflict):
    code = "run_not_pending"


class NotMultipart(Conflict):
    code = "not_multipart"


class UploadCompleted(Conflict):
    code = "upload_completed"


class UploadGone(Conflict):
    code = "upload_gone"


class ObjectExists(Conflict):
    code = "object_exists"


class ChecksumConflict(Conflict):
    code = "checksum_conflict"


class FilePending(Conflict):
    code = "file_pending"


class FileFailed(Conflict):
    code = "file_failed"


class FileLost(Conflict):
    code = "file_lost"


class FileNotPending(Conflict):
    code = "file_not_pending"


class UploadMismatch(Conflict):
    code = "upload_mismatch"


class TokenExists(Conflict):
    code = "token_exists"


class TooLarge(ApiError):
    status, code = 413, "too_large"


class UnsupportedMediaType(ApiError):
    """A body that is not declared `application/json`: refused before it is read, so browsers
    must preflight every write and CORS decides who may send one."""

    status, code = 415, "unsupported_media_type"


class Invalid(ApiError):
    status, code = 422, "validation_error"


class QuotaExceeded(ApiError):
    """Over a quota or rate limit of the caller's owner (chalicelib/limits.py): nothing was
    created; `Retry-After` says in how many seconds to try again, `details` names each limit."""

    status, code = 429, "quota_exceeded"

    def __init__(self, message: str, details: list[dict[str, Any]], retry_after: int) -> None:
        super().__init__(message, details)
        self.headers = {"Retry-After": str(retry_after)}


class Unavailable(ApiError):
    status, code = 503, "unavailable"


# Every `error.code` the API answers with, and what it means (docs/contract.md, the OpenAPI
# document's ErrorBody.code enum). Clients branch on these, never on the message text.
ERROR_CODES: dict[str, str] = {
    "bad_request": "400: the body is not a JSON object",
    "unauthorized": "401: missing, unknown or revoked token (or webhook secret)",
    "forbidden": "403: a CORS preflight from an origin that is not allowed",
    "not_found": "404: no such route, run or file (or not the caller's)",
    "method_not_allowed": "405: the route exists but not with this method",
    "run_not_pending": "409: the run is no longer pending: it takes no uploads, signing or cancel",
    "not_multipart": "409: the file is a single PUT upload; it has no parts",
    "upload_completed": "409: the file's multipart upload is already completed",
    "upload_gone": "409: the multipart upload no longer exists in the bucket",
    "object_exists": "409: an object is at the file's key already; the bucket keeps it",
    "checksum_conflict": "409: the sha256 given at complete differs from the one the file"
    " declared; nothing was changed",
    "file_pending": "409: the file is not stored yet; nothing to download",
    "file_failed": "409: the file failed verification; it cannot be downloaded",
    "file_lost": "409: the file's recorded version is no longer in the bucket",
    "no_manifest": "404: the file is not an archive; it has no manifest",
    "file_not_pending": "409: the declared file an Uppy upload claims is stored (or failed)"
    " already; it takes no other upload",
    "upload_mismatch": "409: the declared file an Uppy upload claims is uploading another way"
    " (in parts, or in parts of another size than Uppy's)",
    "token_exists": "409: an API token with this name exists already",
    "too_large": "413: a file, the file count or the body is over the configured limit",
    "unsupported_media_type": "415: the body is not declared Content-Type: application/json",
    "validation_error": "422: well-formed but invalid; `details` names each field",
    "quota_exceeded": "429: over a quota or rate limit of the caller's owner; nothing was"
    " created; retry after `Retry-After` seconds",
    "internal_error": "500: an unexpected error (logged with the request id)",
    "unavailable": "503: the database or the bucket cannot be reached; retry later",
}
