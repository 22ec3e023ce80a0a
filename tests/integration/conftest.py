"""Fixtures of the integration suites that start whole processes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

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
