"""The Lambda package and each function's cold start (docs/adr/006-cold-start.md), without timing:
`infra.package.optimize` on a package made here (bytecode that Python loads from a read-only
tree, what is trimmed and what is kept), the service models kept for every boto3 client
chalicelib creates, and, per function, the modules its start must not load (checked in a fresh
interpreter on the source tree). tests/deploy/test_cdk.py checks the package the stack ships."""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from infra.package import FIRST_EVENT, SERVICES, optimize, startup_code
from tests.support.config import ROOT

# What no start of the function may load on its way to its first event (`FIRST_EVENT`).
HTTP_ONLY = {"chalicelib.openapi", "chalicelib.uploads", "chalicelib.runs", "chalicelib.downloads"}
EVENTS_ONLY = {
    "chalicelib.events",
    "chalicelib.hashing",
    "chalicelib.sqs",
    "chalicelib.webhook",
    "aws_lambda_powertools.utilities.batch",
}
SCHEDULE_ONLY = {"chalicelib.maintenance", "chalicelib.expiry"}
# Reading stored archives: the processor only.
PROCESSING_ONLY = {"chalicelib.processing", "chalicelib.archives"}
# Publishing run events after a commit: the functions that change runs' states.
OUTBOX_ONLY = {"chalicelib.outbox", "chalicelib.publishers"}
MIGRATE_ONLY = {"chalicelib.migrate", "alembic"}
# The token check: the API's middleware and the authorizer.
AUTH_ONLY = {"chalicelib.auth", "chalicelib.tokens"}
# Token checks and migrations talk to the database only: no bucket, no API models (boto3 they
# load on AWS, to read the database secret).
DATABASE_ONLY = {"chalicelib.storage", "chalicelib.schemas", "chalicelib.limits"}
NOT_LOADED = {
    # `GET /v1/openapi.json` alone loads chalicelib.openapi: not on the way of the others.
    "APIHandler": EVENTS_ONLY
    | SCHEDULE_ONLY
    | MIGRATE_ONLY
    | PROCESSING_ONLY
    | {"chalicelib.openapi"},
    "HandleBucketEvents": HTTP_ONLY | AUTH_ONLY | SCHEDULE_ONLY | MIGRATE_ONLY | PROCESSING_ONLY,
    # Stored runs' events: no upload or listing code, no token check, no bucket events, no
    # publishing (processing changes no run's state).
    "ProcessStoredRuns": HTTP_ONLY
    | AUTH_ONLY
    | SCHEDULE_ONLY
    | MIGRATE_ONLY
    | OUTBOX_ONLY
    | {"chalicelib.events", "chalicelib.webhook"},
    "ExpirePendingRuns": {"chalicelib.openapi", "chalicelib.downloads"}
    | AUTH_ONLY
    | MIGRATE_ONLY
    | PROCESSING_ONLY,
    "TokenAuthorizer": HTTP_ONLY
    | EVENTS_ONLY
    | SCHEDULE_ONLY
    | MIGRATE_ONLY
    | DATABASE_ONLY
    | PROCESSING_ONLY
    | OUTBOX_ONLY,
    "Migrate": HTTP_ONLY
    | EVENTS_ONLY
    | SCHEDULE_ONLY
    | DATABASE_ONLY
    | PROCESSING_ONLY
    | OUTBOX_ONLY,
}
# `import app` outside Lambda (no `_HANDLER`: tests, `make dev`): wiring; no service, no token
# check, no database library, no S3 client.
ENTRY_NOT_LOADED = {
    "chalicelib.service",
    "chalicelib.auth",
    "chalicelib.tokens",
    "chalicelib.db",
    "chalicelib.models",
    "chalicelib.storage",
    "chalicelib.schemas",
    "sqlalchemy",
    "psycopg",
    "boto3",
    *HTTP_ONLY,
    *EVENTS_ONLY,
    *SCHEDULE_ONLY,
    *MIGRATE_ONLY,
    *PROCESSING_ONLY,
    *OUTBOX_ONLY,
}


def loaded_modules(code: str) -> set[str]:
    """The modules a fresh interpreter has loaded after running `code` from the source tree,
    with a Postgres URL it never connects to (the engine connects on first use only)."""
    report = "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", code + report],
        cwd=ROOT,
        env={
            "PATH": os.environ.get("PATH", ""),
            "AWS_DEFAULT_REGION": "us-east-1",
            "DATABASE_URL": "postgresql://inlet@127.0.0.1:1/inlet",
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return set(json.loads(done.stdout.splitlines()[-1]))


def test_every_function_is_listed() -> None:
    assert set(NOT_LOADED) == set(FIRST_EVENT)


def test_importing_app_outside_lambda_loads_wiring_only() -> None:
    loaded = loaded_modules("import app")
    assert "app" in loaded
    assert not loaded & ENTRY_NOT_LOADED


@pytest.mark.parametrize("function", sorted(NOT_LOADED))
def test_each_function_starts_without_the_modules_it_does_not_need(function: str) -> None:
    loaded = loaded_modules(startup_code(function, first_event=True))
    assert not loaded & NOT_LOADED[function]


@pytest.mark.parametrize("function", sorted(NOT_LOADED))
def test_each_function_imports_at_init_what_its_first_invocation_uses(function: str) -> None:
    """Lambda runs the init with more CPU than a handler gets: nothing of the app, of SQLAlchemy
    or of the database driver is left to import in the first invocation."""
    init = loaded_modules(startup_code(function, first_event=False))
    first_event = loaded_modules(startup_code(function, first_event=True))
    late = {name.split(".")[0] for name in first_event - init}
    assert not late & {"chalicelib", "sqlalchemy", "psycopg", "boto3", "botocore", "pydantic"}


def test_the_start_of_the_queue_handler_and_the_schedule_builds_their_services() -> None:
    """The first-event paths are not empty: they load what the functions' work needs."""
    events = loaded_modules(startup_code("HandleBucketEvents", first_event=True))
    assert {"chalicelib.events", "chalicelib.hashing", "chalicelib.outbox", "psycopg"} <= events
    assert "boto3" in events
    processing = loaded_modules(startup_code("ProcessStoredRuns", first_event=True))
    assert {"chalicelib.processing", "boto3", "psycopg"} <= processing
    schedule = loaded_modules(startup_code("ExpirePendingRuns", first_event=True))
    assert {"chalicelib.maintenance", "chalicelib.events", "chalicelib.outbox"} <= schedule
    api = loaded_modules(startup_code("APIHandler", first_event=True))
    assert {"chalicelib.uploads", "chalicelib.runs", "chalicelib.limits", "boto3"} <= api


# --- the service models -----------------------------------------------------------------------


def created_clients() -> set[str]:
    """The services chalicelib creates boto3 clients (or resources) for: every call of
    `<anything>.client(...)` / `.resource(...)`, by its first argument or `service_name`."""
    found: set[str] = set()
    for path in (ROOT / "chalicelib").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("client", "resource")
            ):
                continue
            [name, *_] = [*node.args, *(k.value for k in node.keywords if k.arg == "service_name")]
            where = f"{path.name}:{node.lineno}"
            assert isinstance(name, ast.Constant), (
                f"{where}: name the service literally (checked here)"
            )
            assert isinstance(name.value, str), where
            found.add(name.value)
    return found


def test_the_package_keeps_the_model_of_every_service_chalicelib_creates_a_client_for() -> None:
    clients = created_clients()
    # The scan sees the calls we know of: the bucket, the database secret, the outbox's channels.
    assert {"s3", "secretsmanager", "sqs", "events"} <= clients
    assert clients <= SERVICES, f"add {sorted(clients - SERVICES)} to infra/package.SERVICES"


# --- optimize ---------------------------------------------------------------------------------

SOURCES = {
    "app.py": "import chalicelib.wiring, dep\nprint(dep.ANSWER)\n",
    "chalicelib/__init__.py": "",
    "chalicelib/wiring.py": "WIRED = True\n",
    "chalicelib/tests/fixture.py": "KEPT = True\n",  # the app's own folders are kept whole
    "chalicelib/__pycache__/wiring.cpython-311.pyc": "stale bytecode of the build machine",
    "dep/__init__.py": "ANSWER = 42\n",
    "dep/__init__.pyi": "ANSWER: int\n",
    "dep/tests/test_dep.py": "def test(): ...\n",
    "dep/templates/script.py": "${imports}\ndef upgrade(): ${upgrades}\n",  # not Python
    "botocore/data/endpoints.json": "{}",
    "botocore/data/_retry.json": "{}",
    "botocore/data/s3/2006-03-01/service-2.json.gz": "s3",
    "botocore/data/secretsmanager/2017-10-17/service-2.json.gz": "secretsmanager",
    "botocore/data/ec2/2016-11-15/service-2.json.gz": "ec2",
    "boto3/data/ec2/2016-11-15/resources-1.json": "ec2",
    "boto3/data/s3/2006-03-01/resources-1.json": "s3",
}
TRIMMED = {
    "chalicelib/__pycache__/wiring.cpython-311.pyc",
    "dep/__init__.pyi",
    "dep/tests/test_dep.py",
    "botocore/data/ec2/2016-11-15/service-2.json.gz",
    "boto3/data/ec2/2016-11-15/resources-1.json",
}


@pytest.fixture
def optimized(tmp_path: Path) -> Path:
    archive = tmp_path / "deployment.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for name, text in SOURCES.items():
            zipped.writestr(name, text)
    optimize(archive)
    return archive


def test_optimize_drops_what_lambda_never_reads_and_adds_bytecode(optimized: Path) -> None:
    with zipfile.ZipFile(optimized) as zipped:
        names = set(zipped.namelist())
    modules = {name for name in SOURCES if name.endswith(".py")} - TRIMMED
    compiled = {importlib.util.cache_from_source(name) for name in modules}
    # A file that does not compile (a template) keeps its source and gets no bytecode.
    compiled.remove(importlib.util.cache_from_source("dep/templates/script.py"))
    assert names == (set(SOURCES) - TRIMMED) | compiled


def test_the_bytecode_is_unchecked_and_for_this_interpreter(optimized: Path) -> None:
    """PEP 552 unchecked-hash: valid whatever mtimes the zip's extraction gives the sources."""
    with zipfile.ZipFile(optimized) as zipped:
        source = zipped.read("dep/__init__.py")
        pyc = zipped.read(importlib.util.cache_from_source("dep/__init__.py"))
    assert pyc[:4] == importlib.util.MAGIC_NUMBER
    assert int.from_bytes(pyc[4:8], "little") == 0b01  # hash-based, source not checked
    assert pyc[8:16] == importlib.util.source_hash(source)


def test_python_runs_the_bytecode_from_a_read_only_tree(optimized: Path, tmp_path: Path) -> None:
    """With every source replaced after unpacking, the package still runs: the interpreter
    loaded the bytecode, and wrote none (the tree is read-only, as /var/task is)."""
    tree = tmp_path / "task"
    with zipfile.ZipFile(optimized) as zipped:
        zipped.extractall(tree)
    for source in tree.rglob("*.py"):
        source.write_text("raise SystemExit('the source ran, not the bytecode')\n")
    files = set(tree.rglob("*"))
    for path in files | {tree}:
        path.chmod(0o555 if path.is_dir() else 0o444)
    code = f"import sys\nsys.path.insert(0, {str(tree)!r})\nimport app"
    try:
        done = subprocess.run(
            [sys.executable, "-I", "-S", "-B", "-c", code],
            cwd=tree,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:  # writable again, so that pytest can remove it
        for path in files | {tree}:
            path.chmod(0o755 if path.is_dir() else 0o644)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "42"
    assert set(tree.rglob("*")) == files
