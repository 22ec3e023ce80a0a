"""The manifest of a 2 GiB archive with flat memory: the tar is streamed into a moto server in its
own process (neither the test nor the server's bytes are in this process), then processed the
way the processing queue's consumer does it, with this process's memory growth measured."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from chalicelib.config import GiB, MiB, Settings
from chalicelib.db import Database
from chalicelib.models import File, ManifestEntry, Run
from chalicelib.processing import Outcome, Processing
from chalicelib.storage import Storage, make_s3_client
from local.processes import moto_server
from local.resources import ensure_upload_bucket
from tests.support.archives import large_tar_entries, upload_large_tar
from tests.support.config import CORS_ORIGIN
from tests.support.databases import migrate
from tests.support.memory import MEMORY_LIMIT, peak_growth

# Four members of 512 MiB: 2 GiB, and a few small ones around them.
MEMBERS = (
    [("config/small.conf", 1234)]
    + [(f"images/part-{i}.img", 512 * MiB) for i in range(4)]
    + [("config/last.conf", 1)]
)


@pytest.fixture(scope="module")
def remote() -> Iterator[tuple[Settings, Storage]]:
    """A versioned bucket on a moto server in a child process."""
    with moto_server() as endpoint:
        settings = Settings(s3_endpoint_url=endpoint, inlet_bucket="memory")
        client = make_s3_client(settings)
        ensure_upload_bucket(client, settings.inlet_bucket, [CORS_ORIGIN])
        yield settings, Storage(client, settings.inlet_bucket, settings.inlet_presign_ttl)


@pytest.mark.slow
def test_a_2_gib_archive_is_listed_with_flat_memory(
    remote: tuple[Settings, Storage], tmp_path: Path
) -> None:
    settings, storage = remote
    url = f"sqlite:///{tmp_path / 'inlet.db'}"
    migrate(url)
    db = Database.from_url(url)
    key = f"runs/{uuid.uuid4()}/big.tar"
    block, size, version = upload_large_tar(storage, key, MEMBERS)
    assert size > 2 * GiB
    run = Run(id=uuid.uuid4(), type="app_bundle", status="stored")
    file = File(
        id=uuid.uuid4(),
        run_id=run.id,
        name="big.tar",
        object_key=key,
        size_bytes=size,
        stored_size=size,
        content_type="application/x-tar",
        version_id=version,
        status="stored",
    )
    with db.session() as session:
        session.add(run)
        session.flush()
        session.add(file)
    processing = Processing(db, storage, settings.model_copy(update={"database_url": url}))

    outcomes, growth = peak_growth(lambda: processing.process_run(run.id))

    assert outcomes == {f"{file.id}/manifest": Outcome.DONE}
    assert growth < MEMORY_LIMIT, f"peak memory grew by {growth / MiB:.1f} MiB"
    with db.session() as session:
        rows = session.query(ManifestEntry).order_by(ManifestEntry.seq).all()
        listed = [(r.path, r.kind, r.size_bytes, r.sha256) for r in rows]
    expected = large_tar_entries(MEMBERS, block)
    assert listed == [(e.path, e.kind, e.size, e.sha256) for e in expected]
    db.engine.dispose()
