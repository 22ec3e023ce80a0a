"""The upload bucket's rules, shared by every stack that creates it: the CDK app (`infra/`) and
the local setup for moto, LocalStack and MinIO (`local/resources.py`)."""

from __future__ import annotations

from collections.abc import Sequence

# Only these prefixes hold objects the event handler processes: `runs/RUN/FILE/NAME` written
# through presigned URLs, and `inbox/...` dropped by any S3 client.
RUNS_PREFIX = "runs/"
INBOX_PREFIX = "inbox/"
EVENT_PREFIXES = (RUNS_PREFIX, INBOX_PREFIX)

# What an SQS queue subscribes to: objects created, and objects or versions removed (an
# overwrite or a delete over a stored file's key is an integrity incident: docs/events.md).
# MinIO's `s3:ObjectCreated:*` also covers tagging, retention and legal-hold changes: a target
# that is not a queue (MinIO's webhook) takes the named events of `WEBHOOK_EVENTS`.
QUEUE_EVENTS = ("s3:ObjectCreated:*", "s3:ObjectRemoved:*")
CREATED_EVENTS = (
    "s3:ObjectCreated:Put",
    "s3:ObjectCreated:Post",
    "s3:ObjectCreated:Copy",
    "s3:ObjectCreated:CompleteMultipartUpload",
)
REMOVED_EVENTS = ("s3:ObjectRemoved:Delete", "s3:ObjectRemoved:DeleteMarkerCreated")
WEBHOOK_EVENTS = CREATED_EVENTS + REMOVED_EVENTS

# Incomplete multipart uploads are billed until aborted; the expiry job aborts those of expired
# runs, and the bucket's lifecycle rule removes anything it missed after this many days.
ABORT_INCOMPLETE_UPLOADS_DAYS = 2


def upload_cors_rules(origins: Sequence[str]) -> list[dict[str, object]]:
    """Browsers PUT straight to the bucket and must read each part's ETag to complete; Uppy apps
    on the Companion routes POST a small file with a presigned policy and read its Location. No
    origins, no rule (no browser may upload): `*` is allowed only when the operator writes it
    (INLET_CORS_ORIGINS=*), never as a fallback."""
    if not origins:
        return []
    return [
        {
            "AllowedOrigins": list(origins),
            "AllowedMethods": ["PUT", "POST", "GET", "HEAD"],
            "AllowedHeaders": ["*"],
            "ExposeHeaders": ["ETag", "Location"],
            "MaxAgeSeconds": 3000,
        }
    ]
