"""Names the suites share: the repository root, the test buckets, the allowed origin, and
settings pointed at a test database and S3 endpoint."""

from __future__ import annotations

from pathlib import Path

from chalicelib.config import MiB, Settings

ROOT = Path(__file__).resolve().parents[2]
BUCKET = "inlet-test-uploads"
EVENTS_BUCKET = "inlet-test-events"
QUIET_BUCKET = "inlet-test-quiet"  # versioned, and it notifies nobody
CORS_ORIGIN = "http://allowed.example"


def make_settings(database_url: str, s3_endpoint: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "s3_endpoint_url": s3_endpoint,
        "inlet_bucket": BUCKET,
        "inlet_part_size": 5 * MiB,
        "inlet_multipart_threshold": 5 * MiB,
        "inlet_cors_origins": (CORS_ORIGIN,),
        "inlet_auth": "off",
        # Quotas off: suites create runs in bursts; tests/integration/test_quotas.py sets its own.
        "inlet_quota_pending_runs": 0,
        "inlet_quota_pending_bytes": 0,
        "inlet_quota_runs_per_minute": 0,
        "inlet_quota_inbox_per_minute": 0,
    }
    return Settings.model_validate(values | overrides)
