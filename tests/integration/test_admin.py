"""`python -m local.admin`, the operator's entry point: tokens created, listed and revoked in the
database, as an operator would, in a process of its own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from chalicelib import tokens
from chalicelib.db import Database
from chalicelib.errors import Unauthorized
from tests.support.config import ROOT


def admin(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "local.admin", *args],
        cwd=ROOT,
        env=os.environ | {"DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_create_list_revoke(database_url: str, db: Database) -> None:
    created = admin(database_url, "create-token", "ci-prod", "--owner", "platform")
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip().splitlines()[-1]
    assert token.startswith("inlet_")
    assert tokens.authenticate(db, token).owner == "platform"

    listed = admin(database_url, "list-tokens")
    assert listed.returncode == 0
    assert "ci-prod" in listed.stdout
    assert "platform" in listed.stdout
    assert token not in listed.stdout

    revoked = admin(database_url, "revoke-token", "ci-prod")
    assert revoked.returncode == 0
    with pytest.raises(Unauthorized):
        tokens.authenticate(db, token)


def test_the_owner_defaults_to_the_name(database_url: str, db: Database) -> None:
    token = admin(database_url, "create-token", "alice").stdout.strip().splitlines()[-1]
    assert tokens.authenticate(db, token).owner == "alice"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("create-token", "bad name"), "must be 1 to 64"),
        (("create-token", "twice"), "exists already"),
        (("revoke-token", "nobody"), "no token is named"),
    ],
)
def test_refusals_are_one_line_and_exit_2(
    database_url: str, db: Database, args: tuple[str, ...], message: str
) -> None:
    tokens.create_token(db, "twice")
    result = admin(database_url, *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unmigrated_database_is_explained(tmp_path: Path) -> None:
    result = admin(f"sqlite:///{tmp_path}/empty.db", "list-tokens")
    assert result.returncode == 3
    assert "make migrate" in result.stderr
    assert "Traceback" not in result.stderr
