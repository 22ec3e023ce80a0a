"""A short run of the load benchmark (`make bench-load` runs the full one): 20 clients at once
against a whole local stack with tokens on, on both databases. It asserts outcomes only: no
request failed and every run ended `stored`; the latencies it prints are not judged here."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.support.config import ROOT

CLIENTS = 20


@pytest.mark.slow
def test_twenty_clients_at_once_all_end_stored(migrated_db: object, database_url: str) -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "load_test.py"),
            f"--clients={CLIENTS}",
            "--runs=1",
            "--files=3",
            "--settle=180",
            f"--database-url={database_url}",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    summary = json.loads(result.stdout.strip().splitlines()[-1]) if result.stdout else {}
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert summary == {"errors": 0, "stored_runs": CLIENTS, "failed_runs": 0}
