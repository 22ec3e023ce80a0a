"""The Lambda package made for a fast cold start (docs/adr/006-cold-start.md): Chalice's
deployment.zip, with bytecode and without what Lambda never reads.

Lambda unpacks the zip into /var/task, which is read-only: Python cannot cache the bytecode it
compiles there, so a package without .pyc files compiles every module again on every cold start.
"""

from __future__ import annotations

import importlib.util
import marshal
import os
import zipfile
from pathlib import Path, PurePosixPath

# The only services chalicelib creates boto3 clients for; every other service's model is dropped
# from botocore (and boto3) data. tests/deploy/test_package.py fails when chalicelib creates a
# client for a service missing here.
SERVICES = frozenset({"s3", "secretsmanager", "sqs", "events"})
SERVICE_DATA = ("botocore/data/", "boto3/data/")
# The dependencies' own test suites (the app's own folders are kept whole, whatever their names).
TEST_DIRS = frozenset({"tests", "test"})
APP_ROOTS = frozenset({"app.py", "chalicelib", "migrations"})
# Chalice copies the work tree's bytecode (this machine's, timestamp-checked, maybe stale): it is
# replaced by the package's own.
CACHE_DIR = "__pycache__"
# Type stubs: only type checkers read them.
UNUSED_SUFFIXES = (".pyi",)
# PEP 552 flags: hash-based and unchecked, so the bytecode stays valid whatever mtimes the
# zip's extraction gives the sources (the package never changes once deployed).
UNCHECKED_HASH = (0b01).to_bytes(4, "little")
# Where Lambda unpacks the package: the file name compiled into the code objects.
TASK_ROOT = "/var/task"


def is_unused(name: str) -> bool:
    """True for a zip entry a Lambda function never reads."""
    path = PurePosixPath(name)
    folders = path.parts[:-1]
    if CACHE_DIR in folders or name.endswith(UNUSED_SUFFIXES):
        return True
    if path.parts[0] in APP_ROOTS:
        return False
    if TEST_DIRS.intersection(folders):
        return True
    for data in SERVICE_DATA:
        # Shared files (endpoints.json, partitions.json, _retry.json, ...) sit at the top.
        if name.startswith(data) and len(path.parts) > 3:
            return path.parts[2] not in SERVICES
    return False


def bytecode(source: bytes, name: str) -> bytes:
    """What `compileall --invalidation-mode unchecked-hash` writes for `name`, compiled by this
    interpreter (the synth's, whose version Chalice picks as the functions' runtime)."""
    code = compile(source, f"{TASK_ROOT}/{name}", "exec", dont_inherit=True)
    magic = importlib.util.MAGIC_NUMBER
    return magic + UNCHECKED_HASH + importlib.util.source_hash(source) + marshal.dumps(code)


def optimize(zip_path: Path) -> None:
    """Rewrite the package in place: unused entries dropped, a .pyc beside every module."""
    rewritten = zip_path.with_suffix(".optimized.zip")
    with zipfile.ZipFile(zip_path) as source, zipfile.ZipFile(rewritten, "w") as target:
        for entry in source.infolist():
            if is_unused(entry.filename):
                continue
            data = source.read(entry)
            target.writestr(entry, data)
            if entry.filename.endswith(".py"):
                try:
                    compiled = bytecode(data, entry.filename)
                except SyntaxError:  # a file no import can load (a template): no bytecode
                    continue
                # The source entry's date and mode, not the synth's clock: stable asset hashes.
                pyc = zipfile.ZipInfo(importlib.util.cache_from_source(entry.filename))
                pyc.date_time, pyc.external_attr = entry.date_time, entry.external_attr
                target.writestr(pyc, compiled, zipfile.ZIP_DEFLATED)
    os.replace(rewritten, zip_path)


# How each function of app.py starts, short of the network (by the logical IDs of infra/api.py).
# Lambda names the function's handler in `_HANDLER` (Chalice's handler strings); `import app`
# then imports what that function's first invocation uses (app.FIRST_IMPORTS). The first event
# builds what the handler builds before it talks to anyone: its services, the engine (which
# connects on first use only), the S3 client with its model.
# bench/bench_coldstart.py times these; tests/deploy/test_package.py checks what they import.
HANDLERS = {
    "APIHandler": "app.app",
    "HandleBucketEvents": "app.handle_bucket_events",
    "ProcessStoredRuns": "app.process_stored_runs",
    "ExpirePendingRuns": "app.expire_pending_runs",
    "TokenAuthorizer": "app.token_authorizer",
    "Migrate": "app.migrate_database",
}
FIRST_EVENT = {
    "APIHandler": (
        "from chalicelib import auth, schemas\n"  # the middleware checks tokens on /v1
        "services = app.inlet()\n"
        "services.uploads, services.runs, services.limits, services.storage"
    ),
    "HandleBucketEvents": (
        "from chalicelib import telemetry\n"
        "services = app.inlet()\n"
        "services.events, services.outbox, services.storage"
    ),
    "ProcessStoredRuns": (
        "from chalicelib import telemetry\n"
        "services = app.inlet()\n"
        "services.processing, services.storage"
    ),
    "ExpirePendingRuns": (
        "from chalicelib import maintenance, telemetry\n"
        "services = app.inlet()\n"
        "services.events, services.outbox, services.storage"
    ),
    "TokenAuthorizer": "from chalicelib import auth\napp.inlet().db",
    "Migrate": "from chalicelib import migrate\napp.inlet().db",
}


def startup_code(function: str, *, first_event: bool) -> str:
    """Python source that starts `function` as Lambda does: its init (`import app` with the
    function's `_HANDLER`), and with `first_event` what its first invocation builds."""
    init = f"import os\nos.environ['_HANDLER'] = {HANDLERS[function]!r}\nimport app\n"
    return init + (FIRST_EVENT[function] if first_event else "")
