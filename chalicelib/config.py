"""Settings from the environment; every variable is documented in `.env.example`."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

MiB = 1024 * 1024
GiB = 1024 * MiB
MIN_PART_SIZE = 5 * MiB  # S3's floor for every part but the last
MAX_PART_SIZE = 5 * GiB
MAX_PARTS = 10_000
MAX_SINGLE_PUT = 5 * GiB
MIN_SECRET_LENGTH = 16
# Owners of runs and tokens: a team, a person or a system, as the admin names them.
OWNER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$"
# How long API Gateway caches an authorizer's answer per token (INLET_AUTHORIZER=gateway): a
# revoked token keeps working this long behind the gateway. Here, not in `auth`, because app.py
# declares the authorizer at import time, and `auth` (the token lookup) is imported on first use.
GATEWAY_CACHE_SECONDS = 60

DEFAULT_RUN_TYPES = ("ds_etc", "instance_etc", "app_bundle", "single_conf")


class Settings(BaseModel):
    """Typed, validated view of the environment. Field names map to upper-case variables."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    database_url: str = "sqlite:///.inlet/inlet.db"
    # On AWS (docs/deploy.md): the ARN of the RDS credentials' secret, read at cold start, and
    # the host to connect to (the RDS Proxy endpoint); set, they take the place of DATABASE_URL.
    inlet_db_secret_arn: str | None = None
    inlet_db_host: str | None = None
    s3_endpoint_url: str | None = None
    # Where clients reach the object store, when that differs from S3_ENDPOINT_URL: presigned
    # URLs are signed for this host (docker compose: the API talks to http://localstack:4566,
    # browsers and curl to http://localhost:4566).
    s3_public_endpoint_url: str | None = None
    aws_region: str = "us-east-1"
    inlet_bucket: str = "inlet-uploads"
    inlet_run_types: tuple[str, ...] = DEFAULT_RUN_TYPES
    inlet_default_run_type: str = "app_bundle"
    inlet_max_file_size: Annotated[int, Field(gt=0)] = 50 * GiB
    inlet_max_files_per_run: Annotated[int, Field(gt=0, le=10_000)] = 100
    inlet_multipart_threshold: Annotated[int, Field(ge=MIN_PART_SIZE, le=MAX_SINGLE_PUT)] = 16 * MiB
    inlet_part_size: Annotated[int, Field(ge=MIN_PART_SIZE, le=MAX_PART_SIZE)] = 16 * MiB
    # Presigned URLs live this long: shorter than INLET_PENDING_TTL_HOURS, so no URL outlives
    # the run it uploads to (refused at start otherwise).
    inlet_presign_ttl: Annotated[int, Field(ge=60, le=7 * 24 * 3600)] = 900
    inlet_parts_batch: Annotated[int, Field(ge=1, le=1000)] = 20
    # Browser origins allowed to call the API and PUT to the bucket; empty: none. `*` (alone)
    # allows every origin, only when written.
    inlet_cors_origins: tuple[str, ...] = ()
    inlet_max_body_bytes: Annotated[int, Field(ge=1024)] = 1 * MiB
    # Bucket events (S3 -> SQS -> handler) and the expiry of abandoned runs.
    inlet_events_queue: Annotated[str, Field(min_length=1, max_length=80)] = "inlet-events"
    inlet_max_receives: Annotated[int, Field(ge=1, le=1000)] = 5
    inlet_pending_ttl_hours: Annotated[int, Field(ge=1)] = 24
    # The scheduled job (docs/events.md, "Scheduled job"). An upload whose bytes have been in the
    # bucket this long without its event being processed is processed by the job instead.
    inlet_reconcile_after_seconds: Annotated[int, Field(ge=0, le=24 * 3600)] = 60
    # Every version of the objects of cancelled, expired and failed runs (late uploads included)
    # is deleted this long after the run ended; never shorter than INLET_PRESIGN_TTL.
    inlet_orphan_grace_hours: Annotated[int, Field(ge=1, le=10 * 365 * 24)] = 24
    # Hashing reads ranges of this size ahead, in parallel; 0 reads each object as one stream
    # (for emulators such as moto, where every ranged GET costs a whole-object read).
    inlet_hash_range_size: Annotated[int, Field(ge=0)] = 8 * MiB
    inlet_hash_concurrency: Annotated[int, Field(ge=1, le=32)] = 4
    # Records of one SQS batch processed at once (each holds a database connection while it
    # writes, and up to INLET_HASH_CONCURRENCY read buffers while it hashes).
    inlet_event_concurrency: Annotated[int, Field(ge=1, le=10)] = 4
    # Shared secret of `POST /v1/bucket-events` (MinIO's webhook target sends it as a Bearer
    # token); unset, the endpoint is disabled (404).
    inlet_webhook_secret: SecretStr | None = None
    # Or a file that holds it (docker compose generates one on first start: no public default).
    inlet_webhook_secret_file: str | None = None
    # API tokens (docs/security.md): `required` (the default everywhere but `make dev`) or `off`.
    inlet_auth: Literal["required", "off"] = "required"
    # Where tokens are checked: `app` (the API's own middleware) or `gateway` (API Gateway calls
    # the Chalice authorizer; read when Chalice packages the app, like INLET_EVENTS_QUEUE).
    inlet_authorizer: Literal["app", "gateway"] = "app"
    # With `app`, a live token's owner is remembered this many seconds per process, so a revoked
    # token keeps working up to that long (docs/security.md); 0 looks every request's token up.
    inlet_token_cache_seconds: Annotated[int, Field(ge=0, le=300)] = 30
    # Owner of the runs adopted from files dropped into inbox/; unset, only `INLET_AUTH=off` shows
    # them.
    inlet_inbox_owner: Annotated[str | None, Field(pattern=OWNER_PATTERN)] = None
    # Quotas and rate limits per owner (docs/security.md, "Quotas"; chalicelib/limits.py); 0
    # turns one off. Runs created through the API: pending at once, bytes declared and not yet
    # stored, created in the last 60 s. Drops into inbox/ adopted in the last 60 s (for
    # INLET_INBOX_OWNER); the rest wait in the bucket for the scheduled job.
    inlet_quota_pending_runs: Annotated[int, Field(ge=0)] = 20
    inlet_quota_pending_bytes: Annotated[int, Field(ge=0)] = 200 * GiB
    inlet_quota_runs_per_minute: Annotated[int, Field(ge=0)] = 60
    inlet_quota_inbox_per_minute: Annotated[int, Field(ge=0)] = 120
    # Getting files out (docs/contract.md): a download URL lives this long; `GET /v1/runs/{id}
    # ?wait=` holds a request at most this long (under API Gateway's 29 s).
    inlet_download_ttl: Annotated[int, Field(ge=10, le=3600)] = 300
    inlet_max_wait_seconds: Annotated[int, Field(ge=0, le=25)] = 20
    # Run events out (docs/consumers.md): the EventBridge bus to publish to (set by the CDK app),
    # URLs that get each event as a signed webhook, the secret that signs them (or a file that
    # holds it), and how often a delivery is tried before it goes to the dead letters.
    inlet_event_bus: str | None = None
    inlet_event_webhooks: tuple[str, ...] = ()
    inlet_event_signing_secret: SecretStr | None = None
    inlet_event_signing_secret_file: str | None = None
    inlet_event_max_attempts: Annotated[int, Field(ge=1, le=100)] = 12
    # Processing of stored files (chalicelib/processing.py): `queue` sends each stored run's
    # event to the processing queue, `off` processes nothing (a stack without SQS: MinIO's); the
    # queue; and what an archive's manifest may hold before it is refused as a bomb.
    inlet_processing: Literal["queue", "off"] = "queue"
    inlet_processing_queue: Annotated[str, Field(min_length=1, max_length=80)] = "inlet-processing"
    inlet_archive_max_entries: Annotated[int, Field(ge=1)] = 100_000
    inlet_archive_max_bytes: Annotated[int, Field(ge=1)] = 64 * GiB
    inlet_archive_max_ratio: Annotated[int, Field(ge=1)] = 200

    @model_validator(mode="before")
    @classmethod
    def _read_secret_files(cls, values: Any) -> Any:
        if not isinstance(values, dict):
            return values
        for name in ("inlet_webhook_secret", "inlet_event_signing_secret"):
            path = values.get(f"{name}_file")
            if path and not values.get(name):
                try:
                    secret = Path(path).read_text().strip()
                except OSError as exc:
                    raise ValueError(f"{name.upper()}_FILE cannot be read: {exc}") from None
                values = values | {name: secret}
        return values

    @model_validator(mode="after")
    def _check(self) -> Settings:
        if not self.inlet_run_types:
            raise ValueError("INLET_RUN_TYPES must name at least one run type")
        if self.inlet_default_run_type not in self.inlet_run_types:
            raise ValueError("INLET_DEFAULT_RUN_TYPE must be one of INLET_RUN_TYPES")
        if 0 < self.inlet_hash_range_size < MiB:
            raise ValueError("INLET_HASH_RANGE_SIZE must be 0 (one stream) or at least 1 MiB")
        secret = self.inlet_webhook_secret
        if secret is not None and len(secret.get_secret_value()) < MIN_SECRET_LENGTH:
            raise ValueError(f"INLET_WEBHOOK_SECRET needs {MIN_SECRET_LENGTH} characters or more")
        signing = self.inlet_event_signing_secret
        if self.inlet_event_webhooks and signing is None:
            raise ValueError("INLET_EVENT_WEBHOOKS needs INLET_EVENT_SIGNING_SECRET")
        if signing is not None and len(signing.get_secret_value()) < MIN_SECRET_LENGTH:
            raise ValueError(
                f"INLET_EVENT_SIGNING_SECRET needs {MIN_SECRET_LENGTH} characters or more"
            )
        for url in self.inlet_event_webhooks:
            if not url.startswith(("https://", "http://")):
                raise ValueError(f"INLET_EVENT_WEBHOOKS: {url!r} is not an http(s) URL")
        if self.inlet_authorizer == "gateway" and self.inlet_auth == "off":
            raise ValueError("INLET_AUTHORIZER=gateway needs INLET_AUTH=required")
        if self.inlet_max_file_size > MAX_PARTS * MAX_PART_SIZE:
            raise ValueError("INLET_MAX_FILE_SIZE exceeds what 10,000 parts of 5 GiB can hold")
        if "*" in self.inlet_cors_origins and len(self.inlet_cors_origins) > 1:
            raise ValueError(
                "INLET_CORS_ORIGINS names '*' (every origin) and specific origins: write either "
                "'*' alone or the origins"
            )
        if self.inlet_orphan_grace_hours * 3600 < self.inlet_presign_ttl:
            raise ValueError(
                f"INLET_ORPHAN_GRACE_HOURS ({self.inlet_orphan_grace_hours} h) is shorter than "
                f"INLET_PRESIGN_TTL ({self.inlet_presign_ttl} s): a presigned URL must be dead "
                "before the objects at its key are deleted; raise the grace or shorten the TTL"
            )
        if self.inlet_presign_ttl >= self.inlet_pending_ttl_hours * 3600:
            raise ValueError(
                f"INLET_PRESIGN_TTL ({self.inlet_presign_ttl} s) is not shorter than "
                f"INLET_PENDING_TTL_HOURS ({self.inlet_pending_ttl_hours} h): a presigned URL "
                "must expire before its run can expire; shorten the TTL or raise the pending hours"
            )
        return self

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        """Read every field from its upper-case variable; lists are comma-separated."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for name, field in cls.model_fields.items():
            raw = env.get(name.upper())
            if raw is None or raw.strip() == "":
                continue
            if field.annotation == tuple[str, ...]:
                values[name] = tuple(part.strip() for part in raw.split(",") if part.strip())
            else:
                values[name] = raw.strip()
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            problems = "; ".join(
                f"{str(err['loc'][0]).upper() if err['loc'] else 'settings'}: {err['msg']}"
                for err in exc.errors()
            )
            raise RuntimeError(f"invalid configuration: {problems}") from None


def lambda_handler(environ: Mapping[str, str] | None = None) -> str | None:
    """The handler Lambda runs in this process (`app.handle_bucket_events`, ...), from the
    runtime's reserved `_HANDLER` variable; None outside Lambda. Not a setting: Lambda sets it."""
    return (os.environ if environ is None else environ).get("_HANDLER")


def page_config(
    api_url: str,
    run_types: Sequence[str] = (),
    default_run_type: str | None = None,
    auth_required: bool = False,
) -> dict[str, object]:
    """The page's runtime configuration: the API base URL, the run types to offer, and whether
    the API wants a token (the page then asks for one up front)."""
    config: dict[str, object] = {"apiUrl": api_url.rstrip("/")}
    if run_types:
        config["runTypes"] = list(run_types)
    if default_run_type:
        config["defaultRunType"] = default_run_type
    if auth_required:
        config["authRequired"] = True
    return config
