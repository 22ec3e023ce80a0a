"""End to end through the real local runtime (`python -m local.stack`, as `make dev` runs it, on
moto, with SQLite and with Postgres): an archive uploaded over HTTP with the API's presigned URL,
stored by the events pump, its `run.stored` event sent by the outbox to the processing queue
and to a webhook receiver listening on this machine, the processing pump recording the
archive's manifest; then the manifest and a download over HTTP, and the webhook's signature."""

from __future__ import annotations

import hashlib
import io
import tarfile
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from chalicelib.config import MiB
from chalicelib.publishers import verify_signature
from local.processes import DevStack, dev_stack
from tests.support.databases import postgres_database
from tests.support.events import wait_until
from tests.support.webhooks import Received, WebhookReceiver

SECRET = "the-e2e-tests-signing-secret"
# What the archive holds: (path, content); None for a directory.
ENTRIES: tuple[tuple[str, bytes | None], ...] = (
    ("etc", None),
    ("etc/app.conf", b"listen = 8080\nworkers = 4\n"),
    ("etc/nested", None),
    ("etc/nested/db.conf", b"url = postgresql://db/inlet\n" * 50),
    ("etc/nested/empty.conf", b""),
    ("README", "Inlet's end-to-end archive, naïvely named\n".encode()),
)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def tar_gz(entries: tuple[tuple[str, bytes | None], ...]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for path, content in entries:
            info = tarfile.TarInfo(path)
            if content is None:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                archive.addfile(info)
            else:
                info.size = len(content)
                archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


@dataclass(frozen=True)
class Running:
    stack: DevStack
    receiver: WebhookReceiver


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def running(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Running]:
    """The dev stack, its run events going to a webhook receiver on this machine."""
    receiver = WebhookReceiver().start()
    settings = {
        "INLET_MULTIPART_THRESHOLD": str(5 * MiB),
        "INLET_PART_SIZE": str(5 * MiB),
        "INLET_AUTH": "off",
        "INLET_EVENT_WEBHOOKS": receiver.url,
        "INLET_EVENT_SIGNING_SECRET": SECRET,
    }
    with ExitStack() as cleanup:
        cleanup.callback(receiver.stop)
        if request.param == "postgres":
            databases = postgres_database()
            settings["DATABASE_URL"] = next(databases)
            cleanup.callback(next, databases, None)
        workdir = tmp_path_factory.mktemp(f"processing-{request.param}")
        yield Running(cleanup.enter_context(dev_stack(workdir, **settings)), receiver)


def api(running: Running, method: str, path: str, **kwargs: Any) -> requests.Response:
    return requests.request(method, f"{running.stack.api_url}{path}", timeout=60, **kwargs)


@dataclass(frozen=True)
class Uploaded:
    run_id: str
    file_id: str
    data: bytes
    run: dict[str, Any]  # as GET /v1/runs/{id} shows it once stored


@pytest.fixture(scope="module")
def uploaded(running: Running) -> Uploaded:
    """The archive, uploaded as the CLI does (create, presigned PUT), and stored."""
    data = tar_gz(ENTRIES)
    spec = {"name": "etc.tar.gz", "size": len(data), "sha256": sha256(data)}
    created = api(running, "POST", "/v1/uploads", json={"type": "app_bundle", "files": [spec]})
    assert created.status_code == 201, created.text
    run_id, file = created.json()["run"]["id"], created.json()["files"][0]
    upload = file["upload"]
    assert upload["method"] == "PUT"
    put = requests.put(upload["url"], data=data, headers=upload["headers"], timeout=60)
    assert put.status_code == 200, put.text

    def run() -> dict[str, Any]:
        # Long-poll: answers as soon as the run leaves `pending`.
        answer = api(running, "GET", f"/v1/runs/{run_id}", params={"wait": "20"})
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    wait_until(lambda: run()["status"] != "pending", "the events pump storing the run", every=0)
    stored = run()
    assert stored["status"] == "stored", stored
    return Uploaded(run_id, file["id"], data, stored)


def manifest_page(running: Running, uploaded: Uploaded, **params: str) -> dict[str, Any]:
    path = f"/v1/runs/{uploaded.run_id}/files/{uploaded.file_id}/manifest"
    answer = api(running, "GET", path, params=params)
    assert answer.status_code == 200, answer.text
    page: dict[str, Any] = answer.json()
    return page


def test_the_processing_pump_records_the_archives_manifest(
    running: Running, uploaded: Uploaded
) -> None:
    wait_until(
        lambda: manifest_page(running, uploaded)["status"] != "pending",
        "the outbox and the processing pump making the manifest",
        every=0.2,
    )
    first = manifest_page(running, uploaded, limit="2")
    assert (first["status"], first["format"], first["error"]) == ("done", "tar.gz", None)
    files = [(path, content) for path, content in ENTRIES if content is not None]
    assert (first["entry_count"], first["file_count"], first["dir_count"]) == (
        len(ENTRIES),
        len(files),
        len(ENTRIES) - len(files),
    )
    assert first["total_bytes"] == sum(len(content) for _, content in files)

    # Every entry, page by page (2 a page), in archive order.
    entries, page = list(first["entries"]), first
    while page["next_cursor"]:
        assert len(page["entries"]) == 2
        page = manifest_page(running, uploaded, limit="2", cursor=page["next_cursor"])
        entries += page["entries"]
    assert [(e["path"].rstrip("/"), e["kind"], e["size_bytes"], e["sha256"]) for e in entries] == [
        (path, "dir", 0, None) if content is None else (path, "file", len(content), sha256(content))
        for path, content in ENTRIES
    ]


def test_the_download_url_serves_the_recorded_bytes(running: Running, uploaded: Uploaded) -> None:
    path = f"/v1/runs/{uploaded.run_id}/files/{uploaded.file_id}/download"
    answer = api(running, "GET", path)
    assert answer.status_code == 200, answer.text
    link = answer.json()
    (file,) = uploaded.run["files"]
    assert (link["sha256"], link["size_bytes"], link["version_id"]) == (
        sha256(uploaded.data),
        len(uploaded.data),
        file["version_id"],
    )
    fetched = requests.get(link["url"], timeout=60)
    assert fetched.status_code == 200, fetched.text
    assert sha256(fetched.content) == sha256(uploaded.data)
    assert "etc.tar.gz" in fetched.headers["Content-Disposition"]


def stored_events(running: Running, run_id: str) -> list[Received]:
    received = list(running.receiver.received)  # a copy: the receiver's threads append
    return [
        r for r in received if r.event["run"]["id"] == run_id and r.event["type"] == "run.stored"
    ]


def test_the_stored_run_reaches_the_webhook_signed(running: Running, uploaded: Uploaded) -> None:
    wait_until(
        lambda: bool(stored_events(running, uploaded.run_id)),
        "the run.stored event delivered to the webhook receiver",
        every=0.1,
    )
    delivered = stored_events(running, uploaded.run_id)
    # At least once: a retried delivery carries the same event id.
    assert len({r.event["id"] for r in delivered}) == 1
    request = delivered[0]
    headers = {name.lower(): value for name, value in request.headers.items()}
    assert headers["content-type"] == "application/json"
    assert headers["inlet-event-id"] == request.event["id"]
    assert verify_signature(SECRET, headers["inlet-signature"], request.body)
    tampered = request.body.replace(b'"run.stored"', b'"run.failed"')
    assert tampered != request.body
    assert not verify_signature(SECRET, headers["inlet-signature"], tampered)
    assert not verify_signature(
        "another-secret-of-its-own", headers["inlet-signature"], request.body
    )

    event = request.event
    assert event["run"]["status"] == "stored"
    (file,) = uploaded.run["files"]
    (sent,) = event["files"]
    assert (sent["id"], sent["key"], sent["version_id"], sent["size_bytes"], sent["sha256"]) == (
        uploaded.file_id,
        file["key"],
        file["version_id"],
        len(uploaded.data),
        sha256(uploaded.data),
    )


def test_the_banner_names_the_processing_queue_and_the_webhooks(running: Running) -> None:
    log = running.stack.log.read_text(errors="replace")
    processing = [line for line in log.splitlines() if line.startswith("  Processing ")]
    assert len(processing) == 1
    assert "/inlet-processing (dead letters: " in processing[0]
    assert f"  Run events    signed webhooks to {running.receiver.url}" in log
