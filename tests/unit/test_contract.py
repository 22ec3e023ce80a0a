"""The HTTP contract is written once: the pydantic models make the OpenAPI document, the
committed `docs/openapi.json` is that document (the page's types and the CLI's are checked
against it), and every error code is listed in it and explained in `docs/contract.md`."""

from __future__ import annotations

import ast
import json

import app as app_module
from chalicelib import errors, openapi
from tests.support.config import ROOT

COMMITTED = ROOT / "docs" / "openapi.json"


def subclasses(cls: type[errors.ApiError]) -> set[type[errors.ApiError]]:
    found = set(cls.__subclasses__())
    for sub in list(found):
        found |= subclasses(sub)
    return found


def test_the_committed_document_is_the_generated_one() -> None:
    committed = json.loads(COMMITTED.read_text())
    assert committed == openapi.document(), "docs/openapi.json is stale: run `make openapi`"


def test_every_error_class_has_a_listed_code() -> None:
    codes = {cls.code for cls in subclasses(errors.ApiError) if cls is not errors.Conflict}
    assert codes <= set(errors.ERROR_CODES)


def test_each_conflict_has_a_code_of_its_own() -> None:
    conflicts = [cls.code for cls in subclasses(errors.Conflict)]
    assert len(conflicts) == len(set(conflicts)) >= 5
    assert "conflict" not in errors.ERROR_CODES


def test_no_code_raises_a_conflict_without_a_code() -> None:
    """`Conflict` itself has none: raised bare, it would answer 409 `internal_error`."""
    bare = [
        f"{path.name}:{node.lineno}"
        for path in sorted((ROOT / "chalicelib").glob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Raise)
        and isinstance(node.exc, ast.Call)
        and isinstance(node.exc.func, ast.Name)
        and node.exc.func.id in ("Conflict", "ApiError")
    ]
    assert not bare


def test_the_document_lists_every_code() -> None:
    schema = openapi.document()["components"]["schemas"]["ErrorBody"]["properties"]["code"]
    assert schema["enum"] == list(errors.ERROR_CODES)


def test_the_contract_page_explains_every_code() -> None:
    page = (ROOT / "docs" / "contract.md").read_text()
    missing = [code for code in errors.ERROR_CODES if f"`{code}`" not in page]
    assert not missing, f"docs/contract.md does not explain {missing}"


def test_every_browser_route_answers_preflights() -> None:
    browser = {path for path in app_module.app.routes if path != "/v1/bucket-events"}
    assert set(app_module.BROWSER_ROUTES) == browser
    for path in browser:
        assert "OPTIONS" in app_module.app.routes[path]
    assert "OPTIONS" not in app_module.app.routes["/v1/bucket-events"]
