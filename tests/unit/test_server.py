"""Pure functions: settings from the environment, part sizes, names, cursors, URLs, OpenAPI."""

from __future__ import annotations

import unicodedata
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

import app as app_module
from chalicelib import openapi
from chalicelib.bucket import upload_cors_rules
from chalicelib.config import DEFAULT_RUN_TYPES, GiB, MiB, Settings
from chalicelib.db import normalize_url
from chalicelib.errors import Invalid, UnsupportedMediaType
from chalicelib.http import require_json
from chalicelib.models import Run
from chalicelib.runs import RunFilter, decode_cursor, encode_cursor, query_int
from chalicelib.schemas import (
    NOTES_WHITESPACE,
    describe_character,
    escaped,
    neutralise,
    refused_character,
)
from chalicelib.uploads import UploadPlan, choose_part_size, object_key, safe_name

# --- settings -------------------------------------------------------------------------------


def test_settings_defaults_from_an_empty_environment() -> None:
    settings = Settings.from_env({})
    assert settings.inlet_run_types == DEFAULT_RUN_TYPES
    assert settings.inlet_cors_origins == ()
    assert settings.s3_endpoint_url is None
    assert settings.inlet_part_size == 16 * MiB


def test_settings_parse_lists_numbers_and_blanks() -> None:
    settings = Settings.from_env(
        {
            "INLET_RUN_TYPES": " ds_etc, custom ,,",
            "INLET_DEFAULT_RUN_TYPE": "custom",
            "INLET_CORS_ORIGINS": "http://a.example,http://b.example",
            "INLET_MAX_FILE_SIZE": " 1024 ",
            "S3_ENDPOINT_URL": "   ",  # blank means unset
            "DATABASE_URL": "postgresql://db/inlet",
            "UNRELATED": "ignored",
        }
    )
    assert settings.inlet_run_types == ("ds_etc", "custom")
    assert settings.inlet_default_run_type == "custom"
    assert settings.inlet_cors_origins == ("http://a.example", "http://b.example")
    assert settings.inlet_max_file_size == 1024
    assert settings.s3_endpoint_url is None
    assert settings.database_url == "postgresql://db/inlet"


def test_settings_read_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INLET_BUCKET", "from-the-environment")
    assert Settings.from_env().inlet_bucket == "from-the-environment"


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"INLET_MAX_FILE_SIZE": "big"}, "INLET_MAX_FILE_SIZE"),
        ({"INLET_MAX_FILE_SIZE": "0"}, "INLET_MAX_FILE_SIZE"),
        ({"INLET_PART_SIZE": str(4 * MiB)}, "INLET_PART_SIZE"),
        ({"INLET_PRESIGN_TTL": str(8 * 24 * 3600)}, "INLET_PRESIGN_TTL"),
        ({"INLET_MAX_FILES_PER_RUN": "1.5"}, "INLET_MAX_FILES_PER_RUN"),
        ({"INLET_DEFAULT_RUN_TYPE": "nope"}, "INLET_DEFAULT_RUN_TYPE"),
        ({"INLET_RUN_TYPES": " , "}, "INLET_RUN_TYPES"),
        ({"INLET_MAX_FILE_SIZE": str(60_000 * GiB)}, "INLET_MAX_FILE_SIZE"),
    ],
)
def test_bad_settings_name_the_variable(env: dict[str, str], variable: str) -> None:
    with pytest.raises(RuntimeError, match="invalid configuration") as raised:
        Settings.from_env(env)
    assert variable in str(raised.value)


# --- part sizes, names and keys -------------------------------------------------------------


@pytest.fixture
def settings() -> Settings:
    return Settings(inlet_part_size=16 * MiB, inlet_multipart_threshold=16 * MiB)


@pytest.mark.parametrize("size", [0, 1, 16 * MiB])
def test_single_put_up_to_the_threshold(settings: Settings, size: int) -> None:
    assert choose_part_size(size, UploadPlan.of(settings)) is None


def test_configured_part_size_above_the_threshold(settings: Settings) -> None:
    assert choose_part_size(16 * MiB + 1, UploadPlan.of(settings)) == 16 * MiB
    assert choose_part_size(100 * GiB, UploadPlan.of(settings)) == 16 * MiB  # 6,400 parts fit


@pytest.mark.parametrize("size", [200 * GiB, 1000 * GiB, 48_828 * GiB])
def test_part_size_grows_to_fit_ten_thousand_parts(settings: Settings, size: int) -> None:
    part = choose_part_size(size, UploadPlan.of(settings))
    assert part is not None
    assert part > 16 * MiB
    assert part % MiB == 0
    assert -(-size // part) <= 10_000
    assert -(-size // (part - MiB)) > 10_000  # the smallest whole MiB that fits


def test_part_size_is_never_under_five_mib() -> None:
    smallest = Settings(inlet_part_size=5 * MiB, inlet_multipart_threshold=5 * MiB)
    assert choose_part_size(5 * MiB + 1, UploadPlan.of(smallest)) == 5 * MiB
    assert choose_part_size(10_000 * 5 * MiB, UploadPlan.of(smallest)) == 5 * MiB
    assert choose_part_size(10_000 * 5 * MiB + 1, UploadPlan.of(smallest)) == 6 * MiB


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("etc.tgz", "etc.tgz"),
        ("dir/sub/etc.tgz", "etc.tgz"),
        ("C:\\Users\\me\\report 2026.pdf", "report2026.pdf"),
        ("../../etc/passwd", "passwd"),
        (".bashrc", "bashrc"),
        ("...", "file"),
        ("日本語.txt", "txt"),
        ("über-datei_1.tar.gz", "ber-datei_1.tar.gz"),
        ("a" * 300, "a" * 128),
        ("dir/", "file"),
    ],
)
def test_safe_name(name: str, safe: str) -> None:
    assert safe_name(name) == safe


def test_object_key_is_chosen_by_the_server() -> None:
    run_id, file_id = uuid.UUID(int=1), uuid.UUID(int=2)
    assert object_key(run_id, file_id, "../x y.bin") == f"runs/{run_id}/{file_id}/xy.bin"


# --- cursors and list filters ---------------------------------------------------------------


def test_cursor_round_trip() -> None:
    created = datetime(2026, 3, 4, 5, 6, 7, 890_123, tzinfo=UTC)
    run = Run(id=uuid.uuid4(), created_at=created)
    cursor = encode_cursor(run)
    assert "=" not in cursor
    assert decode_cursor(cursor) == (created, run.id)


def test_cursor_time_is_shifted_to_utc() -> None:
    local = datetime(2026, 3, 4, 7, 0, tzinfo=timezone(timedelta(hours=2)))
    run = Run(id=uuid.uuid4(), created_at=local)
    created, _ = decode_cursor(encode_cursor(run))
    assert (created, created.tzinfo) == (datetime(2026, 3, 4, 5, 0, tzinfo=UTC), UTC)


@pytest.mark.parametrize("cursor", ["", "%%%", "bm90IGpzb24", "W10", "eyJ0IjogMX0"])
def test_forged_cursors_are_invalid(cursor: str) -> None:
    with pytest.raises(Invalid, match="cursor"):
        decode_cursor(cursor)


def test_run_filter_from_query() -> None:
    assert RunFilter.from_query(None) == RunFilter()
    parsed = RunFilter.from_query(
        {"status": "stored", "type": "ds_etc", "limit": "7", "cursor": "c"}
    )
    assert parsed == RunFilter(status="stored", type="ds_etc", limit=7, cursor="c")


# --- database URLs --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "normalized"),
    [
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql://u:p@h:5432/db", "postgresql+psycopg://u:p@h:5432/db"),
        ("postgresql+psycopg://h/db", "postgresql+psycopg://h/db"),
        ("sqlite:///.inlet/inlet.db", "sqlite:///.inlet/inlet.db"),
    ],
)
def test_normalize_url(url: str, normalized: str) -> None:
    assert normalize_url(url) == normalized


# --- the OpenAPI document -------------------------------------------------------------------


def refs(node: Any) -> list[str]:
    """Every `$ref` anywhere in a JSON document."""
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in refs(value)]
    return []


def test_openapi_structure() -> None:
    document = openapi.document()
    assert document["openapi"] == "3.1.0"
    assert document["info"]["title"] == "Inlet"
    for path, operations in document["paths"].items():
        assert path.startswith("/")
        for method, operation in operations.items():
            assert method in {"get", "post", "put", "delete", "patch"}
            assert operation["summary"]
            assert operation["responses"], (path, method)
            params = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert params == set(path.replace("}", "{").split("{")[1::2]), (path, method)


def test_openapi_documents_every_route() -> None:
    document = openapi.document()
    for path, methods in app_module.app.routes.items():
        documented = set(document["paths"].get(path, {}))
        assert {m.lower() for m in methods if m != "OPTIONS"} == documented, path
    assert set(document["paths"]) == set(app_module.app.routes)


def test_openapi_refs_resolve() -> None:
    document = openapi.document()
    schemas = document["components"]["schemas"]
    found = refs(document)
    assert found
    for ref in found:
        assert ref.startswith("#/components/schemas/")
        assert ref.rsplit("/", 1)[1] in schemas, ref
    assert {"CreateUploadRequest", "RunOut", "ErrorResponse", "FileSpec"} <= set(schemas)


# --- settings that contradict each other ------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "first", "second"),
    [
        (
            {"INLET_PRESIGN_TTL": "3600", "INLET_PENDING_TTL_HOURS": "1"},
            "INLET_PRESIGN_TTL",
            "INLET_PENDING_TTL_HOURS",
        ),
        (
            {"INLET_PRESIGN_TTL": str(3 * 24 * 3600), "INLET_ORPHAN_GRACE_HOURS": "96"},
            "INLET_PRESIGN_TTL",
            "INLET_PENDING_TTL_HOURS",
        ),
        (
            {"INLET_PRESIGN_TTL": "7200", "INLET_ORPHAN_GRACE_HOURS": "1"},
            "INLET_ORPHAN_GRACE_HOURS",
            "INLET_PRESIGN_TTL",
        ),
        (
            {"INLET_RUN_TYPES": "a,b", "INLET_DEFAULT_RUN_TYPE": "c"},
            "INLET_DEFAULT_RUN_TYPE",
            "INLET_RUN_TYPES",
        ),
        (
            {"INLET_AUTHORIZER": "gateway", "INLET_AUTH": "off"},
            "INLET_AUTHORIZER",
            "INLET_AUTH",
        ),
        (
            {"INLET_CORS_ORIGINS": "*,https://a.example"},
            "INLET_CORS_ORIGINS",
            "'*'",
        ),
    ],
    ids=[
        "ttl-vs-pending",
        "long-ttl-vs-pending",
        "grace-vs-ttl",
        "default-type",
        "gateway",
        "cors",
    ],
)
def test_contradictory_settings_are_refused_naming_both(
    env: dict[str, str], first: str, second: str
) -> None:
    with pytest.raises(RuntimeError, match="invalid configuration") as raised:
        Settings.from_env(env)
    assert first in str(raised.value)
    assert second in str(raised.value)


def test_url_lifetimes_just_below_the_pending_expiry_are_fine() -> None:
    settings = Settings.from_env(
        {
            "INLET_PRESIGN_TTL": "3599",
            "INLET_PENDING_TTL_HOURS": "1",
            "INLET_ORPHAN_GRACE_HOURS": "1",
        }
    )
    assert (settings.inlet_presign_ttl, settings.inlet_pending_ttl_hours) == (3599, 1)
    week = Settings.from_env(
        {
            "INLET_PRESIGN_TTL": str(7 * 24 * 3600),
            "INLET_PENDING_TTL_HOURS": "169",
            "INLET_ORPHAN_GRACE_HOURS": "168",
        }
    )
    assert week.inlet_presign_ttl == 7 * 24 * 3600


def test_cors_star_only_when_written() -> None:
    assert Settings.from_env({}).inlet_cors_origins == ()
    assert Settings.from_env({"INLET_CORS_ORIGINS": "*"}).inlet_cors_origins == ("*",)
    assert upload_cors_rules([]) == []  # no origins, no rule: never a `*` fallback
    (rule,) = upload_cors_rules(["https://a.example", "https://b.example"])
    assert rule["AllowedOrigins"] == ["https://a.example", "https://b.example"]
    (star,) = upload_cors_rules(["*"])
    assert star["AllowedOrigins"] == ["*"]


# --- JSON only, numbers in query strings --------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/json; charset=utf-8",
        "APPLICATION/JSON;charset=UTF8",
        'application/json; charset="utf-8"; profile=x',
    ],
)
def test_json_is_accepted_with_parameters(content_type: str) -> None:
    require_json(content_type)


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "",
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/json-patch+json",
        "application/json; charset=utf-16",
        "application/json, text/plain",
        "*/*",
    ],
)
def test_anything_else_is_415(content_type: str | None) -> None:
    with pytest.raises(UnsupportedMediaType, match="application/json") as raised:
        require_json(content_type)
    assert raised.value.status == 415
    assert raised.value.code == "unsupported_media_type"


@pytest.mark.parametrize(
    ("raw", "value"),
    [("1", 1), ("200", 200), ("0050", 50), ("0" * 10_000 + "7", 7)],
)
def test_query_numbers(raw: str, value: int) -> None:
    assert query_int({"limit": raw}, "limit", 50, 1, 200) == value
    assert query_int({}, "limit", 50, 1, 200) == 50


@pytest.mark.parametrize(
    "raw", ["", "0", "201", "-1", "+1", " 1", "1.0", "²", "\uff11", "1" * 4301, "9" * 1_000_000]
)
def test_bad_query_numbers_are_invalid_however_long(raw: str) -> None:
    with pytest.raises(Invalid, match="limit must be an integer from 1 to 200"):
        query_int({"limit": raw}, "limit", 50, 1, 200)


# --- the name policy ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "👨\u200d👩\u200d👧.txt",
        "❤\ufe0f",
        "cafe\u0301",
        "日本語.txt",
        "דוח\u200f.pdf",
        "\u0645\u0644\u0641\u061c.txt",
        "\ue000",
        "\U000e0067",
        "\u0378",  # unassigned today, assigned tomorrow
    ],
)
def test_printable_unicode_passes_the_name_policy(text: str) -> None:
    assert refused_character(text) is None
    assert neutralise(text) == text
    assert escaped(text) == text


@pytest.mark.parametrize(
    ("ch", "described"),
    [
        ("\x00", "U+0000 NULL"),
        ("\x07", "U+0007 ALERT"),
        ("\x1b", "U+001B ESCAPE"),
        ("\x7f", "U+007F DELETE"),
        ("\x90", "U+0090 C1 CONTROL"),
        ("\u202e", "U+202E RIGHT-TO-LEFT OVERRIDE"),
        ("\u2069", "U+2069 POP DIRECTIONAL ISOLATE"),
        ("\u2029", "U+2029 PARAGRAPH SEPARATOR"),
        ("\ud800", "U+D800 SURROGATE"),
    ],
)
def test_the_name_policy_refuses_and_names(ch: str, described: str) -> None:
    assert refused_character(f"a{ch}b") == ch
    assert describe_character(ch) == described
    assert neutralise(f"a{ch}b") == "a\ufffdb"
    assert escaped(f"a{ch}b") == f"a{ch.encode('unicode_escape').decode()}b"


def test_every_control_is_refused_and_has_a_name() -> None:
    controls = [chr(c) for c in [*range(0x20), *range(0x7F, 0xA0)]]
    bidi = [chr(c) for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]]
    for ch in controls + bidi:
        assert refused_character(ch) == ch
        named = describe_character(ch).split(" ", 1)[1]
        if named != "C1 CONTROL":  # the names are Unicode's (aliases for controls)
            assert unicodedata.lookup(named) == ch
    assert refused_character("\t\n\r\u2028\u2029", allowed=NOTES_WHITESPACE) is None
