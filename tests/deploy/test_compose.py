"""docker-compose.yml (which cannot run here: no Docker engine) checked against the app: service
names, ports, images, healthchecks, start order, and every variable the code reads, which
.env.example must document. Each Inlet service's environment must be a valid configuration.
That the image builds and runs these commands: test_dockerfile.py."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

import app as app_module
from chalicelib.config import Settings
from local import init, web
from local.settings import LocalSettings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
ENV_EXAMPLE = ROOT / ".env.example"
SOURCES = ["app.py", "chalicelib", "infra", "local", "tests/conftest.py"]

DEFAULT_SERVICES = {"postgres", "localstack", "init", "migrate", "api", "pump", "web"}
MINIO_SERVICES = {"webhook-secret", "minio", "minio-init", "api-minio", "pump-minio"}
ONE_SHOT = {"init", "migrate", "minio-init", "webhook-secret"}
HEALTHY = {"postgres", "localstack", "minio", "api", "api-minio", "web"}
# Standard AWS SDK variables (boto3 reads them), not Inlet's own.
SDK_VARIABLES = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"}
# Written for children or defaulted, never read as configuration.
NOT_CONFIGURATION = {"CI", "GITHUB_ACTIONS", "PYENV_ROOT"}
VARIABLE = re.compile(r"\$\{(?P<name>[A-Z0-9_]+)(?::-(?P<default>[^}]*))?\}")
READS = re.compile(
    r"""(?:environ\.get|getenv|environ)\s*[\(\[]\s*["'](?P<name>[A-Z][A-Z0-9_]+)["']"""
)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return document


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose["services"]
    return found


def documented() -> set[str]:
    """Variables .env.example documents (`NAME=value`, or commented out `# NAME=value`)."""
    pattern = re.compile(r"^#?\s*([A-Z][A-Z0-9_]+)=", re.MULTILINE)
    return set(pattern.findall(ENV_EXAMPLE.read_text()))


def interpolate(value: object) -> str:
    """`${NAME:-default}` as compose expands it when NAME is unset."""
    return VARIABLE.sub(lambda m: m.group("default") or "", str(value))


def inlet_services(services: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The services that run Inlet's own image."""
    return {n: s for n, s in services.items() if str(s.get("image", "")).startswith("inlet-")}


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    assert isinstance(env, dict), "environment as a mapping, so merges and checks work"
    return {k: interpolate(v).strip() for k, v in env.items()}


def dependencies(service: dict[str, Any]) -> dict[str, str]:
    depends = service.get("depends_on") or {}
    assert isinstance(depends, dict), "depends_on with conditions, never a bare list"
    return {name: spec["condition"] for name, spec in depends.items()}


def closure(services: dict[str, dict[str, Any]], name: str) -> dict[str, set[str]]:
    """Every service `name` waits for, directly or not, with the conditions it waits on."""
    seen: dict[str, set[str]] = {}
    todo = [name]
    while todo:
        for dep, condition in dependencies(services[todo.pop()]).items():
            if dep not in seen:
                todo.append(dep)
            seen.setdefault(dep, set()).add(condition)
    return seen


def published(service: dict[str, Any]) -> dict[int, str]:
    """Container port -> host port expression."""
    ports = {}
    for entry in service.get("ports", []):
        host, _, container = str(entry).rpartition(":")
        ports[int(container)] = host
    return ports


def test_services(services: dict[str, dict[str, Any]]) -> None:
    assert set(services) == DEFAULT_SERVICES | MINIO_SERVICES
    for name in MINIO_SERVICES:
        assert services[name]["profiles"] == ["minio"], name
    for name in DEFAULT_SERVICES:
        assert "profiles" not in services[name], name


def test_images_are_pinned(services: dict[str, dict[str, Any]]) -> None:
    assert services["localstack"]["image"] == "localstack/localstack:4.14.0"
    assert services["postgres"]["image"] == "postgres:15"
    assert re.fullmatch(
        r"minio/minio:RELEASE\.\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ", services["minio"]["image"]
    )
    for name, service in services.items():
        image = service["image"]
        if "build" in service:  # built here, from the Dockerfile
            assert image.endswith(":local"), name
            assert service["build"]["target"] in {"app", "web"}, name
            continue
        repository, _, tag = image.rpartition(":")
        assert repository, f"{name}: {image} has no tag"
        assert tag not in {"", "latest"}, f"{name}: {image} is not pinned"
    for line in DOCKERFILE.read_text().splitlines():
        if line.startswith("FROM "):
            image = line.split()[1]
            if image == "app":
                continue
            assert ":" in image, line
            assert not image.endswith(":latest"), line
    assert "FROM python:3.11-slim AS app" in DOCKERFILE.read_text()


def test_healthchecks(services: dict[str, dict[str, Any]]) -> None:
    for name in HEALTHY:
        test = services[name]["healthcheck"]["test"]
        assert test[0] in {"CMD", "CMD-SHELL"}, name
    assert "pg_isready" in services["postgres"]["healthcheck"]["test"][1]
    assert "/_localstack/health" in " ".join(services["localstack"]["healthcheck"]["test"])
    assert services["minio"]["healthcheck"]["test"][1:] == ["mc", "ready", "local"]
    for name in ("api", "api-minio"):
        probe = " ".join(services[name]["healthcheck"]["test"])
        assert "http://127.0.0.1:8000/health" in probe, name
    assert "http://127.0.0.1:8080/config.json" in " ".join(services["web"]["healthcheck"]["test"])


def test_start_order(services: dict[str, dict[str, Any]]) -> None:
    """Nothing races the database or the bucket: one-shot steps must have succeeded, servers
    must be healthy, and every service with a database waits for a healthy Postgres."""
    for name, service in services.items():
        for dep, condition in dependencies(service).items():
            assert dep in services, f"{name} depends on unknown {dep}"
            if dep in ONE_SHOT:
                assert condition == "service_completed_successfully", (name, dep)
            else:
                assert dep in HEALTHY, (name, dep)
                assert condition == "service_healthy", (name, dep)
        if "DATABASE_URL" in environment(service):
            assert closure(services, name).get("postgres") == {"service_healthy"}, name
    for name in ("api", "pump"):
        assert set(closure(services, name)) >= {"init", "migrate", "postgres", "localstack"}
    assert set(closure(services, "web")) >= {"init", "api"}
    assert set(closure(services, "init")) == {"localstack", "postgres"}
    for name in ("api-minio", "pump-minio"):
        assert set(closure(services, name)) >= {"minio-init", "minio", "postgres"}, name
    for name in ONE_SHOT:
        assert services[name]["restart"] == "no", name


def test_ports(services: dict[str, dict[str, Any]]) -> None:
    assert published(services["api"]) == {8000: "${INLET_API_PORT:-8000}"}
    assert published(services["api-minio"]) == {8000: "${INLET_MINIO_API_PORT:-8001}"}
    assert published(services["localstack"]) == {4566: "${INLET_LOCALSTACK_PORT:-4566}"}
    assert published(services["web"]) == {8080: "${INLET_WEB_PORT:-8080}"}
    assert published(services["minio"]) == {
        9000: "${INLET_MINIO_PORT:-9000}",
        9001: "${INLET_MINIO_CONSOLE_PORT:-9001}",
    }
    assert "ports" not in services["postgres"]  # the host's own Postgres keeps 5432
    for name in ("api", "api-minio"):
        command = services[name]["command"]
        # chalice local through local/api_server.py (a real server's listen backlog).
        assert command[:5] == ["python", "-m", "local.api_server", "local", "--no-autoreload"]
        assert command[command.index("--host") + 1] == "0.0.0.0"
        assert command[command.index("--port") + 1] == "8000"
    # Presigned URLs are signed for the host's view of the bucket: the published port.
    assert environment(services["api"])["S3_PUBLIC_ENDPOINT_URL"] == "http://localhost:4566"
    assert environment(services["api-minio"])["S3_PUBLIC_ENDPOINT_URL"] == "http://localhost:9000"
    # The page has an origin of its own (the web service), which may call the API and the
    # bucket; LocalStack's, which serves the uploads, may not (issue 13: an uploaded HTML page
    # on the page's origin read its API token).
    origins = environment(services["api"])["INLET_CORS_ORIGINS"].split(",")
    assert {"http://localhost:8080", "http://127.0.0.1:8080"} <= set(origins)
    assert not {o for o in origins if o.endswith((":4566", ":9000"))}, origins


def test_every_inlet_service_has_a_valid_configuration(
    services: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    # The local runtime (local.init, local.pump, local.web) reads LocalSettings, a superset.
    fields = {name.upper() for name in LocalSettings.model_fields}
    extra = SDK_VARIABLES | {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_LOG_LEVEL"}
    secret = tmp_path / "webhook-secret"  # what the webhook-secret service writes
    secret.write_text("a-generated-secret-of-enough-length\n")
    configured = {n: s for n, s in inlet_services(services).items() if "environment" in s}
    assert set(inlet_services(services)) - set(configured) == {"webhook-secret"}
    for name, service in configured.items():
        env = environment(service)
        if "INLET_WEBHOOK_SECRET_FILE" in env:
            env["INLET_WEBHOOK_SECRET_FILE"] = str(secret)
        assert set(env) <= fields | extra, (name, set(env) - fields - extra)
        settings = LocalSettings.from_env(env)  # raises on any invalid value
        assert settings.database_url.startswith("postgresql://"), name
        assert settings.s3_endpoint_url in {"http://localstack:4566", "http://minio:9000"}, name
    default = [s for n, s in inlet_services(services).items() if n in DEFAULT_SERVICES]
    buckets = {Settings.from_env(environment(s)).inlet_bucket for s in default}
    queues = {Settings.from_env(environment(s)).inlet_events_queue for s in default}
    processing = {Settings.from_env(environment(s)).inlet_processing_queue for s in default}
    assert len(buckets) == len(queues) == len(processing) == 1, "init, api, pump and web agree"
    # Run events go to no webhook unless the shell (or .env) names some.
    assert all(not Settings.from_env(environment(s)).inlet_event_webhooks for s in default)


def test_webhook_receivers_on_the_host_are_reachable(services: dict[str, dict[str, Any]]) -> None:
    """Whatever drains the outbox (the API, the pumps) resolves host.docker.internal, on Linux
    engines too, where only this mapping gives the name."""
    for name in ("api", "pump", "api-minio", "pump-minio"):
        assert "host.docker.internal:host-gateway" in services[name]["extra_hosts"], name
    env = environment(services["pump"])
    assert (env["INLET_EVENT_WEBHOOKS"], env["INLET_EVENT_SIGNING_SECRET"]) == ("", "")
    assert services["pump"]["environment"]["INLET_EVENT_WEBHOOKS"] == "${INLET_EVENT_WEBHOOKS:-}"


def test_commands_exist(services: dict[str, dict[str, Any]]) -> None:
    dockerfile = DOCKERFILE.read_text()
    for directory in ("chalicelib/", "local/", "migrations/"):
        assert f"COPY {directory} {directory}" in dockerfile
    assert "COPY infra/" not in dockerfile, "infra/ is the CDK app alone: not in the image"
    assert "COPY app.py alembic.ini ./" in dockerfile
    for name, service in inlet_services(services).items():
        command = service["command"]
        if command[:2] == ["python", "-m"]:
            module = ROOT / (command[2].replace(".", "/") + ".py")
            assert module.is_file(), (name, command)
    assert services["migrate"]["command"] == ["alembic", "upgrade", "head"]
    assert services["init"]["command"] == ["python", "-m", "local.init"]
    assert services["pump"]["command"] == ["python", "-m", "local.pump"]
    assert services["web"]["command"][:4] == ["python", "-m", "local.web", "serve"]
    assert services["api"]["command"] == services["api-minio"]["command"]


def test_localstack_checks_signatures(services: dict[str, dict[str, Any]]) -> None:
    env = environment(services["localstack"])
    assert set(env["SERVICES"].split(",")) == {"s3", "sqs", "events"}
    assert env["S3_SKIP_SIGNATURE_VALIDATION"] == "0"
    # LocalStack verifies signatures with the secret key "test".
    assert environment(services["api"])["AWS_SECRET_ACCESS_KEY"] == "test"


def test_minio_webhook_reaches_the_api(services: dict[str, dict[str, Any]]) -> None:
    minio = services["minio"]["environment"]
    target = init.MINIO_WEBHOOK_ARN.split(":")[4]  # arn:minio:sqs::<ID>:webhook
    assert minio[f"MINIO_NOTIFY_WEBHOOK_ENABLE_{target}"] == "on"
    assert minio[f"MINIO_NOTIFY_WEBHOOK_ENDPOINT_{target}"] == (
        "http://api-minio:8000/v1/bucket-events"
    )
    assert "POST" in app_module.app.routes["/v1/bucket-events"]
    # The same secret on both sides: the file the webhook-secret service writes on first start,
    # which MinIO exports as its token and the API reads. No secret is written in the file.
    secret_file = "/secrets/webhook-secret"
    made = services["webhook-secret"]["command"]
    assert made[:4] == ["python", "-m", "local.secret", secret_file]
    for name in ("api-minio", "minio-init", "pump-minio"):
        assert environment(services[name])["INLET_WEBHOOK_SECRET_FILE"] == secret_file, name
        assert "inlet-secrets:/secrets:ro" in services[name]["volumes"], name
    assert f"MINIO_NOTIFY_WEBHOOK_AUTH_TOKEN_{target}" not in minio
    # `$$` is compose's escape for a `$` the container's shell expands.
    exported = f'MINIO_NOTIFY_WEBHOOK_AUTH_TOKEN_{target}="$$(cat {secret_file})"'
    assert exported in " ".join(services["minio"]["command"])
    text = COMPOSE.read_text().replace("INLET_WEBHOOK_SECRET_FILE", "")
    assert "INLET_WEBHOOK_SECRET" not in text
    assert "--notify" in services["minio-init"]["command"]
    assert services["minio-init"]["command"][-3:] == ["--notify", "webhook", "--migrate"]
    minio_env = environment(services["api-minio"])
    assert (minio_env["AWS_ACCESS_KEY_ID"], minio_env["AWS_SECRET_ACCESS_KEY"]) == (
        minio["MINIO_ROOT_USER"],
        minio["MINIO_ROOT_PASSWORD"],
    )


def test_every_setting_is_documented() -> None:
    missing = {name.upper() for name in LocalSettings.model_fields} - documented()
    assert not missing, f".env.example does not document {sorted(missing)}"


def test_every_variable_the_code_reads_is_documented() -> None:
    read: set[str] = set()
    for source in SOURCES:
        path = ROOT / source
        for file in [path] if path.is_file() else sorted(path.rglob("*.py")):
            read |= set(READS.findall(file.read_text()))
    # The scan finds them (INLET_API_PORT and the other settings are LocalSettings fields now).
    assert {"INLET_TEST_S3_ENDPOINT", "INLET_LOCALSTACK_PYTHON"} <= read
    missing = read - SDK_VARIABLES - NOT_CONFIGURATION - documented()
    assert not missing, f".env.example does not document {sorted(missing)}"


def test_every_compose_variable_is_documented() -> None:
    used = {m.group("name") for m in VARIABLE.finditer(COMPOSE.read_text())}
    assert "INLET_API_PORT" in used
    missing = used - documented()
    assert not missing, f".env.example does not document {sorted(missing)}"


def test_the_page_is_served_on_an_origin_of_its_own(services: dict[str, dict[str, Any]]) -> None:
    """The web service serves the page (long-running, on its own port), publishing nothing into
    LocalStack; the page calls the API and PUTs to the bucket at their own origins."""
    service = services["web"]
    command = [interpolate(word) for word in service["command"]]
    assert command[command.index("--host") + 1] == "0.0.0.0"
    assert command[command.index("--port") + 1] == "8080"
    api_url = command[command.index("--api-url") + 1]
    assert api_url == "http://localhost:8000", "the host's view of the API's published port"
    assert service["restart"] == "unless-stopped"
    env = environment(service)
    assert "INLET_WEB_BUCKET" not in env
    settings = LocalSettings.from_env(env)
    page_origin = "http://localhost:8080"
    assert page_origin in settings.inlet_cors_origins
    # the bucket the page PUTs to (what presigned URLs name) is another origin
    assert settings.s3_public_endpoint_url == "http://localhost:4566"
    assert page_origin != settings.s3_public_endpoint_url
    csp = web.site_for(settings, api_url).csp
    assert "connect-src 'self' http://localhost:8000 http://localhost:4566;" in csp
    assert env["INLET_CORS_ORIGINS"] == environment(services["init"])["INLET_CORS_ORIGINS"], (
        "the upload bucket's CORS rule (init) names the same origins as the API"
    )
