"""Schemathesis against `/v1/openapi.json` on a running `chalice local` with authentication on:
no operation answers 5xx, and every answer matches the document (status codes, content types,
headers, bodies). Bounded and deterministic (30 examples per operation, derandomized), so it
runs in `make test` in about a minute. It runs on Postgres, in a database of its own."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest
import requests
import schemathesis
from chalice.local import ChaliceRequestHandler
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from chalicelib import openapi, tokens
from chalicelib.db import Database
from tests.support.api import api_server
from tests.support.databases import migrate, postgres_database

if TYPE_CHECKING:
    # The name the test's signature uses: hypothesis derives the derandomized examples from the
    # test's source, so renaming it there would draw other examples.
    from schemathesis.specs.openapi.schemas import OpenApiCase as Case

pytestmark = pytest.mark.http

WEBHOOK_SECRET = "fuzzing-webhook-secret-0123456789"
# Rules JSON Schema cannot state are the server's, answered 4xx: the configured run types and
# limits (413), parts in ascending order, part numbers within the file's part count, a run type
# filter of printable characters. Schemathesis's "schema-valid data must be accepted" check is off;
# every other check (no 5xx, status codes, content types, headers, response bodies) is on.
SERVER_SIDE_RULES = positive_data_acceptance
SERVED_METHODS = {name[3:] for name in dir(ChaliceRequestHandler) if name.startswith("do_")}


@dataclass(frozen=True)
class Target:
    base: str
    token: str


@pytest.fixture(scope="module")
def target(s3_endpoint: str, bucket_ready: None) -> Iterator[Target]:
    databases = postgres_database()
    url = next(databases)
    migrate(url)
    db = Database.from_url(url)
    token = tokens.create_token(db, "fuzzer")[1]
    db.engine.dispose()
    settings = {"INLET_AUTH": "required", "INLET_WEBHOOK_SECRET": WEBHOOK_SECRET}
    try:
        with api_server(url, s3_endpoint, **settings, POWERTOOLS_LOG_LEVEL="CRITICAL") as base:
            yield Target(base, token)
    finally:
        next(databases, None)  # drops the database


# The document the server serves (a test below checks they are the same), loaded at import: the
# lazy, fixture-based loader of schemathesis 4.32 does not work with pytest 9.
schema = schemathesis.openapi.from_dict(openapi.document())


def test_the_server_serves_this_document(target: Target) -> None:
    served = requests.get(
        f"{target.base}/v1/openapi.json",
        headers={"Authorization": f"Bearer {target.token}"},
        timeout=10,
    )
    assert served.json() == json.loads(json.dumps(openapi.document()))


@schema.parametrize()
@settings(
    max_examples=30,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_keeps_its_contract(case: Case, target: Target) -> None:
    if case.method.upper() not in SERVED_METHODS:
        # TRACE, QUERY...: they never reach the app. chalice local's http.server answers 501
        # itself for methods it does not implement (on AWS, API Gateway answers for itself).
        return
    # The webhook takes its own shared secret, every other /v1 operation an API token.
    secret = WEBHOOK_SECRET if case.path == "/v1/bucket-events" else target.token
    case.call_and_validate(
        base_url=target.base,
        headers={"Authorization": f"Bearer {secret}"},
        excluded_checks=[SERVER_SIDE_RULES],
        timeout=30,
    )
