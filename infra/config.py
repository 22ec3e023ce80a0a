"""What a deployment is configured with: CDK context values (`cdk deploy -c stage=prod ...`).

Every value has a default but `stage`; docs/deploy.md lists them. Inlet's own settings (limits,
run types, ...) go in `settings`, a JSON object of the variables of `.env.example`; those the
stack owns (bucket, queue, database) are refused there.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chalicelib.config import Settings

ROOT = Path(__file__).resolve().parents[1]
STAGE_PATTERN = re.compile(r"^[a-z][a-z0-9-]{0,19}$")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
# Set by the stack from its own resources and context, or by Lambda itself (AWS_REGION).
STACK_OWNED = frozenset(
    {
        "DATABASE_URL",
        "S3_ENDPOINT_URL",
        "S3_PUBLIC_ENDPOINT_URL",
        "AWS_REGION",
        "INLET_BUCKET",
        "INLET_EVENTS_QUEUE",
        "INLET_MAX_RECEIVES",
        "INLET_EVENT_BUS",
        "INLET_PROCESSING_QUEUE",
        "INLET_CORS_ORIGINS",
        "INLET_DB_SECRET_ARN",
        "INLET_DB_HOST",
        "POWERTOOLS_SERVICE_NAME",
        "POWERTOOLS_LOG_LEVEL",
    }
)


class ConfigError(ValueError):
    """A context value that cannot be deployed."""


@dataclass(frozen=True)
class DeployConfig:
    stage: str
    # Browser origins besides the stack's own CloudFront site (e.g. a custom domain).
    cors_origins: tuple[str, ...] = ()
    max_receives: int = 5
    # Concurrent batches of the bucket-events handler: bounds database connections.
    event_concurrency: int = 10
    # Concurrent invocations of the processor (one stored run each): bounds database connections.
    processing_concurrency: int = 5
    alarm_email: str | None = None
    log_level: str = "INFO"
    # Keep the buckets and a final database snapshot when the stack is destroyed.
    retain: bool = False
    # WORM retention of every stored object version (S3 Object Lock, governance mode), in days;
    # 0 leaves it off. A bucket with Object Lock is always retained.
    object_lock_days: int = 0
    web_dir: Path = ROOT / "frontend" / "dist"
    settings: tuple[tuple[str, str], ...] = ()

    @property
    def stack_name(self) -> str:
        return f"inlet-{self.stage}"

    @property
    def queue_name(self) -> str:
        """A fixed name: Chalice wires the event source mapping by queue name at package time."""
        return f"{self.stack_name}-events"

    @property
    def processing_queue_name(self) -> str:
        """Fixed, like the events queue's: the processor's event source mapping names it."""
        return f"{self.stack_name}-processing"

    @property
    def event_bus_name(self) -> str:
        """The EventBridge bus run events are published to: one per stage."""
        return self.stack_name

    @classmethod
    def from_context(cls, get: Any) -> DeployConfig:
        """`get` is `node.try_get_context`. CLI values (`-c key=value`) arrive as strings."""
        stage = str(get("stage") or "")
        if not STAGE_PATTERN.match(stage):
            raise ConfigError(
                f"context `stage` must match {STAGE_PATTERN.pattern} (got {stage!r}): "
                "make deploy STAGE=dev"
            )
        log_level = str(get("log_level") or "INFO").upper()
        if log_level not in LOG_LEVELS:
            raise ConfigError(f"context `log_level` must be one of {', '.join(LOG_LEVELS)}")
        web_dir = Path(str(get("web_dir") or cls.web_dir)).resolve()
        if not (web_dir / "index.html").is_file():
            raise ConfigError(f"{web_dir}/index.html is missing: build the page first (make web)")
        config = cls(
            stage=stage,
            cors_origins=_strings(get("cors_origins")),
            max_receives=_integer(get, "max_receives", cls.max_receives, 1, 1000),
            event_concurrency=_integer(get, "event_concurrency", cls.event_concurrency, 2, 1000),
            processing_concurrency=_integer(
                get, "processing_concurrency", cls.processing_concurrency, 2, 1000
            ),
            alarm_email=str(get("alarm_email") or "") or None,
            log_level=log_level,
            retain=str(get("retain") or "false").lower() in ("1", "true", "yes"),
            object_lock_days=_integer(get, "object_lock_days", cls.object_lock_days, 0, 36500),
            web_dir=web_dir,
            settings=_settings(get("settings")),
        )
        config.app_settings()  # fail at synth, not at the first cold start
        return config

    def app_settings(self) -> Settings:
        """The functions' settings, as far as they are known before deploy (not the stack's
        resources): run types, auth, limits."""
        return Settings.from_env(
            dict(self.settings) | {"INLET_MAX_RECEIVES": str(self.max_receives)}
        )


def _strings(value: object) -> tuple[str, ...]:
    """A comma-separated string (`-c cors_origins=a,b`) or a list (cdk.json)."""
    items = value.split(",") if isinstance(value, str) else value or []
    if not isinstance(items, list):
        raise ConfigError(f"expected a list or a comma-separated string, got {value!r}")
    return tuple(str(item).strip() for item in items if str(item).strip())


def _integer(get: Any, name: str, default: int, low: int, high: int) -> int:
    raw = get(name)
    try:
        value = default if raw is None else int(raw)
    except ValueError:
        raise ConfigError(f"context `{name}` must be an integer (got {raw!r})") from None
    if not low <= value <= high:
        raise ConfigError(f"context `{name}` must be between {low} and {high} (got {value})")
    return value


def _settings(value: object) -> tuple[tuple[str, str], ...]:
    if value is None:
        return ()
    parsed = json.loads(value) if isinstance(value, str) else value
    if not isinstance(parsed, dict):
        raise ConfigError('context `settings` must be a JSON object: {"INLET_...": "value"}')
    known = {name.upper() for name in Settings.model_fields}
    for name in parsed:
        if name in STACK_OWNED:
            raise ConfigError(f"context `settings`: {name} is set by the stack")
        if name not in known and not name.startswith("POWERTOOLS_"):
            raise ConfigError(f"context `settings`: {name} is not an Inlet setting")
    return tuple(sorted((str(k), str(v)) for k, v in parsed.items()))
