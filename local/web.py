"""Publishes the web page (the built `frontend/dist`) into a bucket that serves it.

The page is static: `index.html`, hashed assets and a `config.json` beside `index.html` that
tells the page where the API is (`{"apiUrl": ...}`), written here at deploy time, so one build
runs anywhere. `make dev` publishes into the embedded emulator (moto) and the page opens at
`http://127.0.0.1:$INLET_S3_PORT/inlet-web/index.html`; the same function publishes to a real
bucket (behind CloudFront on AWS) with `python -m local.web --api-url ...`.
"""

from __future__ import annotations

import argparse
import json
import mimetypes
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from chalicelib.config import page_config
from local.resources import ensure_bucket
from local.settings import LocalSettings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


ROOT = Path(__file__).resolve().parent.parent
DIST_DIR = ROOT / "frontend" / "dist"
CONFIG_NAME = "config.json"

# Types browsers insist on (module scripts and wasm are refused with a wrong one), set
# explicitly rather than trusting the host's mime.types.
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".wasm": "application/wasm",
    ".txt": "text/plain; charset=utf-8",
    ".webmanifest": "application/manifest+json",
    ".woff2": "font/woff2",
}
# Vite puts content-hashed files under assets/: they never change, so cache them for good.
# Everything else (index.html, config.json) must be revalidated so a deploy shows at once.
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


@dataclass(frozen=True)
class Published:
    bucket: str
    url: str
    files: int
    removed: int


def content_type(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in CONTENT_TYPES:
        return CONTENT_TYPES[suffix]
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or "application/octet-stream"


def cache_control(key: str) -> str:
    return IMMUTABLE if key.startswith("assets/") else REVALIDATE


def public_read_policy(bucket: str) -> str:
    """Anyone may GET objects (needed for anonymous page loads; moto enforces it too)."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "PublicReadForWebPage",
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "s3:GetObject",
                    "Resource": f"arn:aws:s3:::{bucket}/*",
                }
            ],
        }
    )


def dist_files(dist: Path) -> Iterator[tuple[str, Path]]:
    """(key, path) of every built file; index.html last, so it never points at missing assets."""
    files = sorted(p for p in dist.rglob("*") if p.is_file())
    files.sort(key=lambda p: p.name == "index.html")
    for path in files:
        key = path.relative_to(dist).as_posix()
        if key != CONFIG_NAME:  # config.json is written from `page_config`, never from a build
            yield key, path


def page_url(endpoint_url: str, bucket: str) -> str:
    """Path-style URL of the page on an S3-compatible endpoint."""
    return f"{endpoint_url.rstrip('/')}/{bucket}/index.html"


def publish_site(
    s3: S3Client,
    endpoint_url: str,
    api_url: str,
    *,
    bucket: str = LocalSettings.model_fields["inlet_web_bucket"].default,
    dist: Path = DIST_DIR,
    run_types: Sequence[str] = (),
    default_run_type: str | None = None,
    auth_required: bool = False,
    region: str = "us-east-1",
    prune: bool = True,
) -> Published:
    """Upload the built page and its config.json; remove objects a previous build left behind."""
    if not (dist / "index.html").is_file():
        raise FileNotFoundError(
            f"{dist / 'index.html'} does not exist: build the page first "
            "(cd frontend && npm ci && npm run build)"
        )
    ensure_bucket(s3, bucket, region)
    s3.put_bucket_policy(Bucket=bucket, Policy=public_read_policy(bucket))
    config = page_config(api_url, run_types, default_run_type, auth_required)
    config_json = json.dumps(config, indent=2) + "\n"
    s3.put_object(
        Bucket=bucket,
        Key=CONFIG_NAME,
        Body=config_json.encode(),
        ContentType=CONTENT_TYPES[".json"],
        CacheControl=REVALIDATE,
    )
    published = {CONFIG_NAME}
    for key, path in dist_files(dist):
        s3.put_object(
            Bucket=bucket,
            Key=key,
            Body=path.read_bytes(),
            ContentType=content_type(path),
            CacheControl=cache_control(key),
        )
        published.add(key)
    removed = 0
    if prune:
        paginator = s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket):
            for item in page.get("Contents", []):
                if item["Key"] not in published:
                    s3.delete_object(Bucket=bucket, Key=item["Key"])
                    removed += 1
    return Published(
        bucket=bucket, url=page_url(endpoint_url, bucket), files=len(published), removed=removed
    )


def publish_dev_page(s3: S3Client, settings: LocalSettings, api_url: str) -> str:
    """For `make dev`: publish the page when `frontend/dist` was built; a line for the banner."""
    if not (DIST_DIR / "index.html").is_file():
        return "not built: cd frontend && npm ci && npm run build (then restart)"
    result = publish_site(
        s3,
        settings.s3_endpoint_url or f"https://s3.{settings.aws_region}.amazonaws.com",
        api_url,
        bucket=settings.inlet_web_bucket,
        run_types=settings.inlet_run_types,
        default_run_type=settings.inlet_default_run_type,
        auth_required=settings.inlet_auth == "required",
        region=settings.aws_region,
    )
    return result.url


def main(argv: Sequence[str] | None = None) -> None:
    """`python -m local.web --api-url URL`: publish frontend/dist to S3_ENDPOINT_URL (or AWS)."""
    from chalicelib.storage import make_s3_client

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api-url", required=True, help="base URL of the Inlet API")
    settings = LocalSettings.from_env()
    parser.add_argument("--bucket", default=settings.inlet_web_bucket)
    parser.add_argument("--dist", type=Path, default=DIST_DIR)
    args = parser.parse_args(argv)
    endpoint = settings.s3_endpoint_url or f"https://s3.{settings.aws_region}.amazonaws.com"
    result = publish_site(
        make_s3_client(settings),
        endpoint,
        args.api_url,
        bucket=args.bucket,
        dist=args.dist,
        run_types=settings.inlet_run_types,
        default_run_type=settings.inlet_default_run_type,
        auth_required=settings.inlet_auth == "required",
        region=settings.aws_region,
    )
    print(f"published {result.files} files to s3://{result.bucket}: {result.url}")


if __name__ == "__main__":
    main()
