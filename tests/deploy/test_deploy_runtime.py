"""What runs on AWS besides the routes: the database URL built from Secrets Manager at cold start
(against moto's Secrets Manager over HTTP, then connected to a real Postgres) and the `migrate`
function that the stack's custom resource invokes on deploy."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from alembic.script import ScriptDirectory
from chalice.test import Client
from sqlalchemy import inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

import app as app_module
from chalicelib import migrate
from chalicelib.config import Settings
from chalicelib.db import Database
from chalicelib.db_secret import database_url
from local.processes import free_port, moto_server
from tests.support.config import ROOT
from tests.support.databases import postgres_database

HEAD = ScriptDirectory(str(ROOT / "migrations")).get_current_head()
# Every character that must be escaped in a URL's password.
PASSWORD = "p@ss:w/rd%?#&= x"


@pytest.fixture(scope="module")
def secrets_endpoint() -> Iterator[str]:
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture
def secrets(secrets_endpoint: str) -> Any:
    """boto3's Secrets Manager client (a `SecretsClient`) on moto."""
    return boto3.client("secretsmanager", endpoint_url=secrets_endpoint, region_name="us-east-1")


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A fresh Postgres database (skipped without Postgres, failed in CI)."""
    urls = postgres_database()
    yield next(urls)
    next(urls, None)


def store_secret(secrets: Any, value: dict[str, object]) -> str:
    name = f"inlet-db-{uuid.uuid4().hex[:8]}"
    return str(secrets.create_secret(Name=name, SecretString=json.dumps(value))["ARN"])


def rds_secret(url: str, **overrides: object) -> dict[str, object]:
    """A secret as RDS writes it (username, password, engine, host, port, dbname)."""
    parsed = make_url(url)
    return {
        "username": parsed.username,
        "password": PASSWORD,  # trust authentication: any password connects
        "engine": "postgres",
        "host": "inlet-db.cluster.invalid",
        "port": parsed.port or 5432,
        "dbname": parsed.database,
    } | overrides


def test_without_a_secret_database_url_is_used() -> None:
    settings = Settings(database_url="sqlite:///somewhere.db")
    assert database_url(settings, client=None) == "sqlite:///somewhere.db"


def test_url_from_the_secret_reaches_postgres_through_the_proxy_host(
    secrets: Any, postgres_url: str
) -> None:
    arn = store_secret(secrets, rds_secret(postgres_url))
    host = make_url(postgres_url).host
    settings = Settings(inlet_db_secret_arn=arn, inlet_db_host=host)
    url = database_url(settings, secrets)
    parsed = make_url(url)
    assert (parsed.drivername, parsed.host, parsed.password) == (
        "postgresql+psycopg",
        host,
        PASSWORD,
    )
    Database.from_url(url).ping()


def test_the_secrets_host_is_used_without_a_proxy_host(secrets: Any) -> None:
    arn = store_secret(secrets, rds_secret("postgresql://inlet@x:6543/inlet", host="db.internal"))
    parsed = make_url(database_url(Settings(inlet_db_secret_arn=arn), secrets))
    assert (parsed.host, parsed.port, parsed.database, parsed.username) == (
        "db.internal",
        6543,
        "inlet",
        "inlet",
    )


def test_a_secret_without_host_needs_inlet_db_host(secrets: Any) -> None:
    arn = store_secret(secrets, {"username": "inlet", "password": "x"})
    with pytest.raises(RuntimeError, match="INLET_DB_HOST"):
        database_url(Settings(inlet_db_secret_arn=arn), secrets)


def test_the_app_reads_the_secret_at_cold_start(
    monkeypatch: pytest.MonkeyPatch, secrets: Any, secrets_endpoint: str, postgres_url: str
) -> None:
    """`app.inlet().db` as Lambda builds it: boto3's own client, pointed at moto by the standard
    AWS_ENDPOINT_URL_SECRETS_MANAGER variable."""
    arn = store_secret(secrets, rds_secret(postgres_url))
    settings = Settings(inlet_db_secret_arn=arn, inlet_db_host=make_url(postgres_url).host)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", secrets_endpoint)
    monkeypatch.setattr(app_module, "settings", lambda: settings)
    database = app_module.inlet.__wrapped__().db
    database.ping()
    assert database.engine.url.password == PASSWORD


def test_upgrade_migrates_a_fresh_database_once(tmp_path: Path) -> None:
    database = Database.from_url(f"sqlite:///{tmp_path / 'fresh.db'}")
    assert migrate.upgrade(database) == HEAD
    assert {"ingestion_runs", "files", "alembic_version"} <= set(
        inspect(database.engine).get_table_names()
    )
    assert migrate.upgrade(database) == HEAD  # again: nothing to do


def test_the_migrate_function_answers_the_custom_resource(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    database = Database.from_url(f"sqlite:///{tmp_path / 'deploy.db'}")
    monkeypatch.setattr(app_module, "inlet", lambda: SimpleNamespace(db=database))
    with Client(app_module.app) as client:
        created = client.lambda_.invoke("migrate", {"RequestType": "Create"}).payload
        updated = client.lambda_.invoke("migrate", {"RequestType": "Update"}).payload
    assert created == updated == {"PhysicalResourceId": "inlet-schema", "Data": {"Revision": HEAD}}


def test_delete_touches_no_database() -> None:
    def unreachable() -> Database:
        raise AssertionError("Delete must not open the database")

    event = {"RequestType": "Delete", "PhysicalResourceId": "inlet-schema"}
    assert migrate.on_deploy_event(event, unreachable) == {"PhysicalResourceId": "inlet-schema"}


def test_an_event_that_is_not_a_custom_resource_event_fails() -> None:
    with pytest.raises(ValueError, match="RequestType"):
        migrate.on_deploy_event({"Records": []}, lambda: Database.from_url("sqlite://"))


def test_waiting_for_an_unreachable_database_gives_up_with_its_error() -> None:
    closed = Database.from_url(f"postgresql://postgres@127.0.0.1:{free_port()}/inlet")
    with pytest.raises(OperationalError):
        migrate.wait_for(closed, seconds=0.3, interval=0.1)
