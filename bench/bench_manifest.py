"""`make bench-manifest`: the archive manifest processor against its physical limit and a naive
baseline, measured in the same run. Not a test.

A moto server runs in a child process. Three archives are stored in it:
- a tar of a few large members (`--size-mib` in all): the processor's MB/s against the limit
  min(SHA-256 of an in-memory buffer, a plain GET of the same object read and discarded), and
  against the bucket-event handler's own read-and-hash of the same object (`sha256_object`);
- a tar.gz and a zip of `--entries` small files: entries/s against the naive way (Python's
  `tarfile` / `zipfile` on the whole archive read into memory, hashing each member), and the
  whole processing of the tar.gz as the processing queue's consumer does it, writing its
  manifest to SQLite.
Prints the median of `--rounds` rounds, and the peak RSS growth of each way (the kernel's
high-water mark, reset before each).

    .venv/bin/python bench/bench_manifest.py [--size-mib 1024] [--entries 10000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import statistics
import sys
import tarfile
import tempfile
import uuid
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_hash import Sample, machine, mb_per_s, measure, sha256_in_memory  # noqa: E402

from chalicelib.archives import Limits, entries  # noqa: E402
from chalicelib.config import MiB, Settings  # noqa: E402
from chalicelib.db import Database  # noqa: E402
from chalicelib.hashing import sha256_object  # noqa: E402
from chalicelib.models import File, Run  # noqa: E402
from chalicelib.processing import BucketSource, Processing, StoredFile  # noqa: E402
from chalicelib.storage import Storage, make_s3_client  # noqa: E402
from local.processes import moto_server  # noqa: E402
from local.resources import ensure_upload_bucket  # noqa: E402
from tests.support.archives import upload_large_tar  # noqa: E402
from tests.support.databases import migrate  # noqa: E402

BUCKET = "bench-manifest"
LIMITS = Limits(max_entries=10**6, max_bytes=2**50, max_ratio=10**6)
SMALL = 4096  # bytes per small file


def small_files(count: int) -> Iterator[tuple[str, bytes]]:
    """Random bytes: a compressed archive is as large as its files, as with real binaries."""
    for n in range(count):
        yield f"etc/conf.d/{n // 100:03}/file-{n:05}.conf", os.urandom(SMALL)


def tar_gz(count: int) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz", compresslevel=6) as archive:
        for path, data in small_files(count):
            info = tarfile.TarInfo(path)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return out.getvalue()


def zip_of(count: int) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in small_files(count):
            archive.writestr(path, data)
    return out.getvalue()


def stored(storage: Storage, name: str, data: bytes) -> StoredFile:
    key = f"runs/{uuid.uuid4()}/{name}"
    response = storage.client.put_object(Bucket=storage.bucket, Key=key, Body=data)
    return StoredFile(
        id=uuid.uuid4(),
        run_id=uuid.uuid4(),
        run_type="app_bundle",
        name=name,
        key=key,
        version_id=response.get("VersionId"),
        etag=response["ETag"].strip('"'),
        size=len(data),
    )


def listed(storage: Storage, file: StoredFile, archive: str) -> str:
    """The processor's reading: every entry, as archives.entries yields them; their digest."""
    digest = hashlib.sha256()
    for entry in entries(BucketSource(storage, file), archive, LIMITS):  # type: ignore[arg-type]
        digest.update(f"{entry.path}\0{entry.sha256}\n".encode())
    return digest.hexdigest()


def naive(storage: Storage, file: StoredFile) -> str:
    """The baseline: read the whole archive into memory, open it with the standard library and
    hash each member."""
    body = storage.client.get_object(Bucket=storage.bucket, Key=file.key)["Body"].read()
    digest = hashlib.sha256()
    if file.name.endswith(".zip"):
        with zipfile.ZipFile(io.BytesIO(body)) as zipped:
            for zip_info in zipped.infolist():
                member = hashlib.sha256(zipped.read(zip_info)).hexdigest()
                digest.update(f"{zip_info.filename}\0{member}\n".encode())
    else:
        with tarfile.open(fileobj=io.BytesIO(body), mode="r:*") as tarred:
            for tar_info in tarred:
                extracted = tarred.extractfile(tar_info)
                assert extracted is not None
                member = hashlib.sha256(extracted.read()).hexdigest()
                digest.update(f"{tar_info.name}\0{member}\n".encode())
    return digest.hexdigest()


def processed(settings: Settings, storage: Storage, file: StoredFile, expected: str) -> str:
    """The whole processing of a stored run, as the processing queue's consumer does it, into a
    fresh SQLite database: listing, hashing and writing the manifest."""
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/inlet.db"
        migrate(url)
        db = Database.from_url(url)
        with db.session() as session:
            session.add(Run(id=file.run_id, type=file.run_type, status="stored"))
            session.flush()
            session.add(
                File(
                    id=file.id,
                    run_id=file.run_id,
                    name=file.name,
                    object_key=file.key,
                    size_bytes=file.size,
                    content_type="application/gzip",
                    status="stored",
                    version_id=file.version_id,
                    etag=file.etag,
                )
            )
        outcomes = Processing(db, storage, settings).process_run(file.run_id)
        db.engine.dispose()
    if list(outcomes.values()) != ["done"]:
        raise SystemExit(f"processing did not finish: {outcomes}")
    return expected


def table(rows: dict[str, list[Sample]], unit: Callable[[list[Sample]], str]) -> None:
    print("| way | rate | peak RSS growth |")
    print("|---|---|---|")
    for name, found in rows.items():
        print(f"| {name} | {unit(found)} | +{max(s.growth for s in found) / MiB:.0f} MiB |")


def small_entries(
    settings: Settings, storage: Storage, name: str, data: bytes, args: argparse.Namespace
) -> None:
    """An archive of many small files: entries/s of the processor against the naive way (and,
    for a tar.gz, of the whole processing with its database writes)."""
    file = stored(storage, name, data)
    archive = "zip" if name.endswith(".zip") else "tar.gz"
    expected = listed(storage, file, archive)
    if naive(storage, file) != expected:
        raise SystemExit(f"{name}: the baseline lists other entries")
    ways: dict[str, Callable[[], str]] = {
        "naive (whole archive in memory, stdlib)": lambda: naive(storage, file),
        "manifest processor (archives.entries)": lambda: listed(storage, file, archive),
    }
    if archive == "tar.gz":
        ways["processing the run (listing + SQLite manifest)"] = lambda: processed(
            settings, storage, file, expected
        )
    found = {
        way: [measure(work, expected) for _ in range(args.rounds)] for way, work in ways.items()
    }

    def per_second(samples: list[Sample]) -> str:
        return f"{args.entries / statistics.median(x.seconds for x in samples):,.0f} entries/s"

    print(f"## {name}: {args.entries} files of {SMALL} bytes, {len(data) / MiB:.1f} MiB\n")
    table(found, per_second)
    naive_s = statistics.median(x.seconds for x in found["naive (whole archive in memory, stdlib)"])
    ours_s = statistics.median(x.seconds for x in found["manifest processor (archives.entries)"])
    print(f"\nprocessor {naive_s / ours_s:.2f}x the naive way's speed\n", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    with moto_server() as endpoint:
        settings = Settings(s3_endpoint_url=endpoint, inlet_bucket=BUCKET)
        client = make_s3_client(settings)
        ensure_upload_bucket(client, BUCKET, [])
        storage = Storage(client, BUCKET, settings.inlet_presign_ttl)
        print(f"machine: {machine()}")
        print(f"rounds: {args.rounds} (median)\n")

        # Large members: MB/s against the limit.
        members = [(f"images/part-{i}.img", args.size_mib * MiB // 4) for i in range(4)]
        key = f"runs/{uuid.uuid4()}/images.tar"
        block, size, version = upload_large_tar(storage, key, members)
        head = storage.head_version(key, version)
        etag = getattr(head, "etag", "").strip('"')
        big = StoredFile(
            uuid.uuid4(), uuid.uuid4(), "app_bundle", "images.tar", key, version, etag, size
        )
        whole = sha256_object(storage, key, size, etag=f'"{etag}"', range_size=0).sha256
        chunk = block * 8
        big_listing = listed(storage, big, "tar")

        def plain_get() -> str:
            for _ in storage.read_version(key, version, 0, None) if version else ():
                pass
            return whole

        large: dict[str, Callable[[], str]] = {
            "SHA-256 in memory": lambda: sha256_in_memory(chunk, size - size % len(chunk)),
            "plain GET, read and discarded": plain_get,
            "handler's read and hash (sha256_object)": lambda: (
                sha256_object(storage, key, size, etag=f'"{etag}"', range_size=0).sha256
            ),
            "manifest processor (archives.entries)": lambda: listed(storage, big, "tar"),
        }
        expected_large = {
            "SHA-256 in memory": sha256_in_memory(chunk, size - size % len(chunk)),
            "plain GET, read and discarded": whole,
            "handler's read and hash (sha256_object)": whole,
            "manifest processor (archives.entries)": big_listing,
        }
        samples: dict[str, list[Sample]] = {name: [] for name in large}
        for _ in range(args.rounds):
            for name, work in large.items():
                samples[name].append(measure(work, expected_large[name]))
        rate = {name: mb_per_s(size, found) for name, found in samples.items()}
        limit = min(rate["SHA-256 in memory"], rate["plain GET, read and discarded"])
        print(f"## A tar of 4 members, {size / MiB:.0f} MiB\n")
        table(samples, lambda found: f"{mb_per_s(size, found):.0f} MB/s")
        ours = rate["manifest processor (archives.entries)"]
        handler = rate["handler's read and hash (sha256_object)"]
        print(
            f"\nprocessor {ours / limit:.2f}x the limit min(SHA-256, GET) = {limit:.0f} MB/s; "
            f"{ours / handler:.2f}x the handler's read and hash of the same object\n"
        )

        # Many small entries: entries/s against the naive way.
        small_entries(settings, storage, f"{args.entries}.tar.gz", tar_gz(args.entries), args)
        small_entries(settings, storage, f"{args.entries}.zip", zip_of(args.entries), args)


if __name__ == "__main__":
    main()
