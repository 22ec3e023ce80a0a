"""`python -m local.admin`, the operator's entry point: tokens created, listed and revoked in the
database, and run events' dead letters listed and replayed, as an operator would, in a process of
its own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from chalicelib import tokens
from chalicelib.config import Settings
from chalicelib.db import Database
from chalicelib.errors import Unauthorized
from chalicelib.outbox import Outbox
from chalicelib.publishers import verify_signature
from chalicelib.storage import Storage
from chalicelib.uploads import Uploads
from tests.support.config import ROOT
from tests.support.events import create
from tests.support.webhooks import SECRET, WebhookReceiver, run_events, with_events


def admin(
    database_url: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "local.admin", *args],
        cwd=ROOT,
        env=os.environ | {"DATABASE_URL": database_url} | (env or {}),
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


def test_dead_letters_are_listed_and_replayed_and_a_runs_events_shown(
    database_url: str, db: Database, quiet_storage: Storage, quiet_settings: Settings
) -> None:
    receiver = WebhookReceiver()  # not started: its port refuses
    settings = with_events(quiet_settings, receiver, inlet_event_max_attempts=1)
    created = create(db, quiet_storage, settings, b"never uploaded")
    Uploads(db, quiet_storage, settings).cancel(str(created.run.id), None)
    assert Outbox.from_settings(db, settings).drain().dead == 1
    (event,) = run_events(db, created.run.id)
    env = {"INLET_EVENT_WEBHOOKS": receiver.url, "INLET_EVENT_SIGNING_SECRET": SECRET}

    listed = admin(database_url, "dead-letters")
    assert listed.returncode == 0, listed.stderr
    (line, error) = listed.stdout.splitlines()[1:]
    assert line.split()[:4] == [str(event.id), "run.cancelled", str(created.run.id), "1"]
    assert line.endswith(f"webhook:{receiver.url}")
    assert "unreachable" in error
    shown = admin(database_url, "events", str(created.run.id))
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines()[1].split()[:3] == ["dead", "attempts", "1"]

    refused = admin(database_url, "replay")  # neither events nor --all
    assert (refused.returncode, refused.stdout) == (2, "")
    assert "--all" in refused.stderr

    receiver.start()
    try:
        replayed = admin(database_url, "replay", "--all", env=env)
        assert replayed.returncode == 0, replayed.stderr
        assert "Replayed 1 dead letters: 1 delivered now" in replayed.stdout
        (got,) = receiver.received
        assert got.event == event.payload
        assert verify_signature(SECRET, got.headers["inlet-signature"], got.body)
    finally:
        receiver.stop()
    assert admin(database_url, "dead-letters").stdout.splitlines()[1:] == []
    shown = admin(database_url, "events", str(created.run.id))
    assert shown.stdout.splitlines()[1].split()[:3] == ["delivered", "attempts", "1"]
