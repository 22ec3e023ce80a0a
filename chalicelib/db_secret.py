"""The database URL on AWS: credentials from Secrets Manager, read once per cold start.

The RDS secret (JSON with username, password, and the instance's host, port and dbname) never
sits in the function's environment; INLET_DB_HOST points at the RDS Proxy instead of the instance.
"""

from __future__ import annotations

from typing import Any, Protocol, cast

from pydantic import BaseModel, ConfigDict, SecretStr
from sqlalchemy.engine import URL

from chalicelib.config import Settings


class SecretsClient(Protocol):
    """The one Secrets Manager call used here (boto3's client, or a test double)."""

    def get_secret_value(self, *, SecretId: str) -> dict[str, Any]: ...


class DbSecret(BaseModel):
    """What makes a URL in an RDS credentials secret; other keys (engine, ...) are ignored."""

    model_config = ConfigDict(extra="ignore")

    username: str
    password: SecretStr
    host: str | None = None
    port: int = 5432
    dbname: str = "postgres"


def database_url(settings: Settings, client: SecretsClient | None = None) -> str:
    """DATABASE_URL, unless INLET_DB_SECRET_ARN names the credentials' secret: then the URL is
    built from the secret, with INLET_DB_HOST (the proxy) as host when set."""
    if settings.inlet_db_secret_arn is None:
        return settings.database_url
    if client is None:
        import boto3  # only on AWS, where the secret is read: once per cold start

        client = cast(
            SecretsClient, boto3.client("secretsmanager", region_name=settings.aws_region)
        )
    response = client.get_secret_value(SecretId=settings.inlet_db_secret_arn)
    secret = DbSecret.model_validate_json(response["SecretString"])
    host = settings.inlet_db_host or secret.host
    if not host:
        raise RuntimeError("INLET_DB_HOST is unset and the database secret names no host")
    url = URL.create(
        "postgresql+psycopg",
        username=secret.username,
        password=secret.password.get_secret_value(),
        host=host,
        port=secret.port,
        database=secret.dbname,
    )
    return url.render_as_string(hide_password=False)
