"""Request and response models of the HTTP contract; the OpenAPI document is generated from them."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator

from chalicelib.config import MAX_PARTS

SHA256_HEX = re.compile(r"^[0-9a-fA-F]{64}$")
CONTENT_TYPE = re.compile(r"^[A-Za-z0-9][\w.+-]*/[A-Za-z0-9][\w.+-]*(\s*;.*)?$")
MAX_NAME_LENGTH = 255

# --- the name policy (docs/security.md, "Names") -----------------------------------------------
# One policy for what people name and what the API shows as a name: file names and run labels
# sent to the API, and the run labels and file names of objects adopted from `inbox/`. Any
# printable Unicode is a name: every script, right-to-left text, combining marks, emoji with
# zero width joiners, variation selectors and tags, private-use characters, and code points newer
# than this Python's Unicode tables. Refused, because they make a terminal or a page show
# something other than the name, or because the database cannot store them:
# - C0 and C1 controls and DEL (NUL, ESC, BEL, newlines, tabs; category Cc);
# - bidirectional embeddings, overrides and isolates, U+202A-U+202E and U+2066-U+2069: they
#   reorder the text after them ("txt.exe" shown as "exe.txt") and, unterminated, what follows;
# - the line and paragraph separators U+2028 and U+2029 (a name is one line);
# - lone surrogates (category Cs: not Unicode text; no UTF-8 encodes them).
# The bidirectional *marks* U+200E LEFT-TO-RIGHT MARK, U+200F RIGHT-TO-LEFT MARK and U+061C
# ARABIC LETTER MARK are accepted: they are invisible strong characters that open no embedding
# and reorder no letters, only decide which way a neighbouring digit or punctuation mark leans,
# which right-to-left names need (a Hebrew name before ".pdf"). The page shows every name
# isolated (`<bdi>`), and the CLI escapes them, so a mark cannot move anything around a name.
BIDI_CONTROLS = frozenset(map(chr, [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]))
LINE_SEPARATORS = frozenset("\u2028\u2029")
# Notes are free text of several lines: they keep tabs and line breaks.
NOTES_WHITESPACE = "\t\n\r\u2028\u2029"
# Controls have no Unicode name, only aliases (ISO 6429): the ones refusals and logs use.
_CONTROL_NAMES = dict(
    enumerate(
        [
            "NULL",
            "START OF HEADING",
            "START OF TEXT",
            "END OF TEXT",
            "END OF TRANSMISSION",
            "ENQUIRY",
            "ACKNOWLEDGE",
            "ALERT",
            "BACKSPACE",
            "CHARACTER TABULATION",
            "LINE FEED",
            "LINE TABULATION",
            "FORM FEED",
            "CARRIAGE RETURN",
            "SHIFT OUT",
            "SHIFT IN",
            "DATA LINK ESCAPE",
            "DEVICE CONTROL ONE",
            "DEVICE CONTROL TWO",
            "DEVICE CONTROL THREE",
            "DEVICE CONTROL FOUR",
            "NEGATIVE ACKNOWLEDGE",
            "SYNCHRONOUS IDLE",
            "END OF TRANSMISSION BLOCK",
            "CANCEL",
            "END OF MEDIUM",
            "SUBSTITUTE",
            "ESCAPE",
            "INFORMATION SEPARATOR FOUR",
            "INFORMATION SEPARATOR THREE",
            "INFORMATION SEPARATOR TWO",
            "INFORMATION SEPARATOR ONE",
        ]
    )
) | {0x7F: "DELETE", 0x85: "NEXT LINE", 0x9B: "CONTROL SEQUENCE INTRODUCER"}


def refused_character(text: str, allowed: str = "") -> str | None:
    """The first character of `text` the name policy refuses (but `allowed`), or None."""
    if text.isprintable():  # the common case, at C speed: no Cc, Cf, Cs, Zl or Zp at all
        return None
    for ch in text:
        if ch in allowed:
            continue
        if ch in BIDI_CONTROLS or ch in LINE_SEPARATORS or unicodedata.category(ch) in ("Cc", "Cs"):
            return ch
    return None


def describe_character(ch: str) -> str:
    """The code point and its name: U+202E RIGHT-TO-LEFT OVERRIDE, U+001B ESCAPE."""
    code = ord(ch)
    name = _CONTROL_NAMES.get(code) or unicodedata.name(ch, "")
    if not name:
        category = unicodedata.category(ch)
        name = {"Cc": "C1 CONTROL", "Cs": "SURROGATE"}.get(category, "UNNAMED CHARACTER")
    return f"U+{code:04X} {name}"


def neutralise(text: str, replacement: str = "\ufffd") -> str:
    """`text` with every character the name policy refuses replaced by U+FFFD REPLACEMENT
    CHARACTER: how the labels and names of adopted `inbox/` keys are made (the key itself is
    kept as the bucket has it)."""
    return "".join(replacement if refused_character(ch) else ch for ch in text)


def escaped(text: str) -> str:
    """`text` with every character the name policy refuses written as a visible escape
    (\\x00, \\x1b, \\u202e): for logs and messages that must show a key exactly."""
    return "".join(
        (f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")
        if refused_character(ch)
        else ch
        for ch in text
    )


def _check_name(field: str, value: object, allowed: str = "") -> None:
    """422 naming the field and the character (before whitespace is stripped: a trailing
    newline is refused, not silently dropped)."""
    if isinstance(value, str):
        ch = refused_character(value, allowed)
        if ch is not None:
            raise ValueError(f"{field} contains {describe_character(ch)}")


def hex_digest(value: str | None) -> str | None:
    """A declared sha256: 64 hex digits in either case, kept in lower case."""
    if value is not None and not SHA256_HEX.match(value):
        raise ValueError("sha256 must be 64 hexadecimal characters")
    return value.lower() if value else value


class Request(BaseModel):
    """Strict: no type coercion ("12" is not a size) and no unknown fields (typos fail loudly)."""

    model_config = ConfigDict(strict=True, extra="forbid", str_strip_whitespace=True)


class FileSpec(Request):
    name: Annotated[str, Field(min_length=1, max_length=MAX_NAME_LENGTH)]
    size: Annotated[int, Field(ge=0, description="Size in bytes")]
    content_type: Annotated[str, Field(max_length=255)] = "application/octet-stream"
    sha256: str | None = Field(
        default=None,
        description="Hex SHA-256, verified after upload",
        json_schema_extra={"pattern": SHA256_HEX.pattern},
    )

    @field_validator("name", mode="before")
    @classmethod
    def _printable_name(cls, name: object) -> object:
        _check_name("name", name)
        return name

    @field_validator("name")
    @classmethod
    def _plain_name(cls, name: str) -> str:
        parts = re.split(r"[/\\]", name)
        if name.startswith(("/", "\\")) or any(part in ("", ".", "..") for part in parts):
            raise ValueError(
                "name must be a relative file name without '.', '..' or empty segments"
            )
        return name

    @field_validator("content_type")
    @classmethod
    def _media_type(cls, value: str) -> str:
        if not CONTENT_TYPE.match(value) or any(ord(ch) < 32 or ord(ch) > 126 for ch in value):
            raise ValueError("content_type must be a media type such as application/gzip")
        return value

    @field_validator("sha256")
    @classmethod
    def _hex_digest(cls, value: str | None) -> str | None:
        return hex_digest(value)


class CreateUploadRequest(Request):
    type: Annotated[str, Field(min_length=1, max_length=64)]
    label: Annotated[str | None, Field(max_length=200)] = None
    notes: Annotated[str | None, Field(max_length=10_000)] = None
    files: Annotated[list[FileSpec], Field(min_length=1)]

    @field_validator("label", mode="before")
    @classmethod
    def _printable_label(cls, label: object) -> object:
        _check_name("label", label)
        return label

    @field_validator("notes", mode="before")
    @classmethod
    def _printable_notes(cls, notes: object) -> object:
        _check_name("notes", notes, allowed=NOTES_WHITESPACE)
        return notes


PartNumber = Annotated[int, Field(ge=1, le=MAX_PARTS)]


class SignPartsRequest(Request):
    part_numbers: Annotated[
        list[PartNumber],
        Field(min_length=1, max_length=1000, json_schema_extra={"uniqueItems": True}),
    ]

    @field_validator("part_numbers")
    @classmethod
    def _unique(cls, numbers: list[int]) -> list[int]:
        if len(set(numbers)) != len(numbers):
            raise ValueError("part_numbers must not repeat")
        return sorted(numbers)


class CompletedPart(Request):
    part_number: PartNumber
    etag: Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[\x20-\x7e]+$")]


class CompleteRequest(Request):
    parts: Annotated[
        list[CompletedPart],
        Field(
            min_length=1,
            max_length=MAX_PARTS,
            description="Every part of the file, by ascending part_number, without repeats",
        ),
    ]
    sha256: str | None = Field(
        default=None,
        description="Hex SHA-256 of the whole file, verified after upload like one declared at"
        " creation: it becomes the file's `declared_sha256`; if the file declared one already,"
        " it must be the same (409 `checksum_conflict` otherwise)",
        json_schema_extra={"pattern": SHA256_HEX.pattern},
    )

    @field_validator("sha256")
    @classmethod
    def _hex_digest(cls, value: str | None) -> str | None:
        return hex_digest(value)

    @field_validator("parts")
    @classmethod
    def _ascending(cls, parts: list[CompletedPart]) -> list[CompletedPart]:
        numbers = [p.part_number for p in parts]
        if numbers != sorted(set(numbers)):
            raise ValueError("parts must be in ascending part_number order without repeats")
        return parts


# --- responses ----------------------------------------------------------------------------


# The bodies of Companion's S3 routes (chalicelib/companion.py), as @uppy/aws-s3 sends them.
# Lenient like Companion: unknown fields are ignored, metadata values are any JSON.


class CompanionCreate(BaseModel):
    """`POST s3/multipart`: the file's name, MIME type and meta (with its `size`)."""

    filename: str = ""
    type: str = ""
    metadata: dict[str, Any] = {}


class CompanionPart(BaseModel):
    PartNumber: int
    ETag: str


class CompanionComplete(BaseModel):
    """`POST s3/multipart/{uploadId}/complete`: every part uploaded."""

    parts: list[CompanionPart]


class Response(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ErrorInfo(Response):
    code: str
    message: str


class RunOut(Response):
    id: UUID
    type: str
    label: str | None
    notes: str | None
    status: Literal["pending", "stored", "failed", "cancelled", "expired"]
    source: Literal["api", "bucket"]
    created_at: datetime
    updated_at: datetime
    stored_at: datetime | None
    file_count: int
    total_bytes: int
    error: ErrorInfo | None


def _added_later(schema: dict[str, Any]) -> None:
    """A field added to a response after clients were written: optional in the document (no
    `default`, which makes generated types require it), so those clients keep compiling."""
    schema.pop("default", None)


class FileOut(Response):
    id: UUID
    run_id: UUID
    name: str
    key: str
    size_bytes: int
    content_type: str
    status: Literal["pending", "stored", "failed", "lost"] = Field(
        description="`lost`: it was stored, and its recorded version is no longer in the"
        " bucket (error `version_deleted`)"
    )
    sha256: str | None
    declared_sha256: str | None
    etag: str | None
    version_id: str | None = Field(
        default=None,
        description="The object version that was verified and recorded (read it with"
        " GetObject VersionId); null on a store without versioning, and while an upload is"
        " pending. Always sent; optional in this document, as fields added later are",
        json_schema_extra=_added_later,
    )
    stored_at: datetime | None
    checked_at: datetime | None = Field(
        default=None,
        description="When the server checked the object and recorded the verdict, stored or"
        " failed; null while pending. Always sent; optional in this document, as fields added"
        " later are",
        json_schema_extra=_added_later,
    )
    error: ErrorInfo | None


class SignedPart(Response):
    part_number: int
    url: str
    expires_at: datetime


class SingleUpload(Response):
    method: Literal["PUT"] = "PUT"
    url: str
    headers: dict[str, str]
    expires_at: datetime


class MultipartUpload(Response):
    method: Literal["multipart"] = "multipart"
    upload_id: str
    part_size: int
    part_count: int
    parts: list[SignedPart]


class UploadFileOut(FileOut):
    upload: SingleUpload | MultipartUpload


class CreateUploadResponse(Response):
    run: RunOut
    files: list[UploadFileOut]


class CompanionRunRequest(CreateUploadRequest):
    """`POST /v1/companion/runs`: as `POST /v1/uploads`, with the type the Companion routes
    give a run when none is named (INLET_DEFAULT_RUN_TYPE)."""

    type: Annotated[str, Field(max_length=64)] = ""


class CompanionRunOut(Response):
    """A run declared for Uppy (`POST /v1/companion/runs`), and its Companion endpoint."""

    run: RunOut
    files: list[FileOut]
    companion_endpoint: str = Field(
        description="Uppy's Companion URL for this run's files, relative to the API's base URL:"
        " its key stands for a token, for this run only (docs/uppy.md)"
    )


class SignPartsResponse(Response):
    parts: list[SignedPart]


class StoredPart(Response):
    part_number: int
    etag: str
    size: int


class ListPartsResponse(Response):
    parts: list[StoredPart]


class RunPage(Response):
    items: list[RunOut]
    next_cursor: str | None


class Incident(Response):
    """Something the bucket did to a final file's key, recorded once (docs/events.md)."""

    kind: Literal["overwritten", "deleted", "version_lost"] = Field(
        description="`overwritten`: another version was written over the key; `deleted`: a"
        " delete marker was placed on it (in both, the recorded version stays readable and the"
        " file stays as recorded); `version_lost`: the recorded version itself is gone (the"
        " file is then `lost`)"
    )
    file_id: UUID
    key: str
    recorded_version_id: str | None
    other_version_id: str | None = Field(
        description="The version written, or the delete marker placed; null for version_lost"
    )
    detected_at: datetime
    message: str


class RunDetail(RunOut):
    files: list[FileOut]
    incidents: list[Incident] = Field(
        default_factory=list, description="Integrity incidents, oldest first"
    )


# --- getting data out (docs/contract.md "Downloads", "Manifests"; docs/consumers.md) ---------


class Download(Response):
    """A short-lived presigned GET of exactly the recorded version of a stored file."""

    url: str = Field(
        description="GET it within `expires_at`; the response is the file as an attachment"
        " under its original name"
    )
    expires_at: datetime
    name: str
    version_id: str | None = Field(
        description="The version the URL reads; null on a store without versioning"
    )
    sha256: str = Field(description="The sha256 the bucket event handler verified")
    size_bytes: int


class ManifestEntry(Response):
    path: str = Field(description="The entry's path inside the archive, `/`-separated")
    kind: Literal["file", "dir"]
    size_bytes: int
    sha256: str | None = Field(description="Of the entry's bytes; null for a directory")


class Manifest(Response):
    """What an archive holds, as the `manifest` processor read it from the bucket."""

    file_id: UUID
    status: Literal["pending", "done", "failed"] = Field(
        description="`pending`: not processed yet; `done`: every entry is listed; `failed`:"
        " the archive was refused or unreadable (`error` says why and names the entry). The"
        " file's own status is never changed by processing"
    )
    format: Literal["tar", "tar.gz", "zip"]
    entry_count: int | None = Field(description="Entries (files and directories); null unless done")
    file_count: int | None
    dir_count: int | None
    total_bytes: int | None = Field(description="The entries' sizes added up, unpacked")
    processed_at: datetime | None
    error: ErrorInfo | None
    entries: list[ManifestEntry] = Field(description="A page of entries, in archive order")
    next_cursor: str | None


class EventFile(Response):
    id: UUID
    name: str
    key: str
    version_id: str | None
    size_bytes: int
    sha256: str | None
    status: Literal["pending", "stored", "failed", "lost"]
    error: ErrorInfo | None


class EventRun(Response):
    id: UUID
    type: str
    label: str | None
    status: Literal["pending", "stored", "failed", "cancelled", "expired"]
    source: Literal["api", "bucket"]
    owner: str | None
    created_at: datetime
    stored_at: datetime | None
    error: ErrorInfo | None


class RunEvent(Response):
    """A run event as published (EventBridge `detail`, a webhook's body); docs/consumers.md."""

    id: UUID = Field(description="Unique per event: deduplicate on it (delivery is at least once)")
    type: Literal["run.stored", "run.failed", "run.cancelled", "run.expired", "run.incident"]
    occurred_at: datetime
    run: EventRun
    file_count: int = Field(description="The run's files, all of them")
    files: list[EventFile] = Field(
        description="The run's files in upload order, at most the first 100 (an EventBridge"
        " event holds 256 KiB): when `files_truncated`, read the rest from `GET /v1/runs/{id}`"
    )
    files_truncated: bool
    incident: Incident | None = Field(description="For `run.incident`: what happened; else null")


class Health(Response):
    status: Literal["ok", "error"]
    checks: dict[str, str]


class ErrorDetail(Response):
    field: str | None = None
    message: str


class ErrorBody(Response):
    code: Annotated[
        str, Field(description="What went wrong, for programs to branch on (docs/contract.md)")
    ]
    message: str
    details: list[ErrorDetail] = []


class ErrorResponse(Response):
    error: ErrorBody


# --- quotas (chalicelib/limits.py, docs/security.md "Quotas") ---------------------------------


class LimitUse(Response):
    """One quota or rate limit of the caller's owner, and how much of it is in use now."""

    limit: int | None = Field(description="The configured limit; null: no limit (set to 0)")
    used: int = Field(description="In use now (rates: in the last `window_seconds`)")
    remaining: int | None = Field(description="`limit` - `used`, never below 0; null: no limit")
    window_seconds: int | None = Field(description="Rates: the sliding window; null otherwise")
    retry_after: int | None = Field(
        description="Rates with nothing remaining: seconds until the window frees one; null"
        " otherwise (a pending limit frees up as runs are stored, cancelled or expire)"
    )
    setting: str = Field(description="The variable that sets the limit")


class UploadRules(Response):
    """What a run may hold and how its files go up: the server's settings, the same for all."""

    max_file_size: int = Field(description="Largest file, in bytes (INLET_MAX_FILE_SIZE)")
    max_files_per_run: int = Field(description="Most files in one run (INLET_MAX_FILES_PER_RUN)")
    multipart_threshold: int = Field(
        description="Files larger than this upload as multipart and may declare their sha256 at "
        "`complete`; the others go in one PUT whose URL signs the sha256 declared at creation "
        "(INLET_MULTIPART_THRESHOLD)"
    )


class Limits(Response):
    owner: str | None = Field(description="Whose limits (null: authentication is off)")
    uploads: UploadRules
    pending_runs: LimitUse
    pending_bytes: LimitUse = Field(description="Bytes declared by pending runs, not yet stored")
    runs_per_minute: LimitUse
    inbox_per_minute: LimitUse | None = Field(
        description="Drops into inbox/ adopted as runs; only for INLET_INBOX_OWNER, else null"
    )
