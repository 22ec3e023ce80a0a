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

    @field_validator("name")
    @classmethod
    def _plain_name(cls, name: str) -> str:
        if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co") for ch in name):
            raise ValueError("name must not contain control characters")
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
        if value is not None and not SHA256_HEX.match(value):
            raise ValueError("sha256 must be 64 hexadecimal characters")
        return value.lower() if value else value


class CreateUploadRequest(Request):
    type: Annotated[str, Field(min_length=1, max_length=64)]
    label: Annotated[str | None, Field(max_length=200)] = None
    notes: Annotated[str | None, Field(max_length=10_000)] = None
    files: Annotated[list[FileSpec], Field(min_length=1)]

    @field_validator("label", "notes")
    @classmethod
    def _no_control_characters(cls, value: str | None) -> str | None:
        # Postgres cannot store NUL in text; no other control character belongs here either.
        if value and any(unicodedata.category(ch) == "Cc" and ch not in "\t\n\r" for ch in value):
            raise ValueError("must not contain control characters")
        return value


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

    @field_validator("parts")
    @classmethod
    def _ascending(cls, parts: list[CompletedPart]) -> list[CompletedPart]:
        numbers = [p.part_number for p in parts]
        if numbers != sorted(set(numbers)):
            raise ValueError("parts must be in ascending part_number order without repeats")
        return parts


# --- responses ----------------------------------------------------------------------------


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
