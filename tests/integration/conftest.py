"""Fixtures of the integration suites that start whole processes."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import requests

from chalicelib.config import MiB
from local.processes import dev_stack
from tests.support.stack import Stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The whole dev stack on free ports (never 8000/9000), 5 MiB parts, a temp SQLite file."""
    settings = {
        "INLET_MULTIPART_THRESHOLD": str(5 * MiB),
        "INLET_PART_SIZE": str(5 * MiB),
        "INLET_AUTH": "off",  # tokens are covered by the API's tests; these test the client
    }
    with dev_stack(tmp_path_factory.mktemp("devstack"), **settings) as running:
        yield Stack(api_url=running.api_url, s3_url=running.s3_url)


@pytest.fixture(scope="session")
def localstack(s3_endpoint: str) -> str:
    """The endpoint, when it is LocalStack. When it is not (INLET_TEST_S3_ENDPOINT names some
    other store), these tests skip; with INLET_REQUIRE_LOCALSTACK=1, or under CI, they fail:
    a green run must not hide refusals nobody checked."""
    try:
        health = requests.get(f"{s3_endpoint}/_localstack/health", timeout=30).json()
    except (requests.RequestException, ValueError):
        health = {}
    if not isinstance(health, dict) or "services" not in health:
        reason = f"needs LocalStack, and {s3_endpoint} is not (moto checks no signatures)"
        if os.environ.get("INLET_REQUIRE_LOCALSTACK") == "1" or os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(f"{reason}: `make test-localstack`")
    return s3_endpoint
