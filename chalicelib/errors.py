"""Errors that map onto the contract's `{"error": {"code", "message", "details"}}` responses."""

from __future__ import annotations

from typing import Any, ClassVar


class ApiError(Exception):
    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"
    headers: ClassVar[dict[str, str]] = {}

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


class TokenExists(Conflict):
    code = "token_exists"


class TooLarge(ApiError):
    status, code = 413, "too_large"


class Invalid(ApiError):
    status, code = 422, "validation_error"


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
    "token_exists": "409: an API token with this name exists already",
    "too_large": "413: a file, the file count or the body is over the configured limit",
    "validation_error": "422: well-formed but invalid; `details` names each field",
    "internal_error": "500: an unexpected error (logged with the request id)",
    "unavailable": "503: the database or the bucket cannot be reached; retry later",
}
