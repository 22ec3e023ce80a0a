"""The web page (the built `frontend/dist`) on an origin of its own, never the upload bucket's.

The page is static: `index.html`, hashed assets and a `config.json` beside `index.html` that
tells the page where the API is (`{"apiUrl": ...}`), written from the deployment, never from
the build, so one build runs anywhere. Two ways to put it in front of a browser:

- `serve`: a small static server. `make dev` runs it in a thread of the dev stack on
  `http://127.0.0.1:$INLET_WEB_PORT/`; docker compose's `web` service runs
  `python -m local.web serve`. It reads `frontend/dist` on every request (a rebuild shows on
  reload) and sends each file with its content type, its cache policy, `nosniff` and a
  Content-Security-Policy that lets the page talk to the API and the S3 endpoint only.
- `publish` (the default: `python -m local.web --api-url ...`): copies the page into a bucket
  for a static website, such as a web bucket behind CloudFront.

Why an origin of its own (docs/security.md, "Origins and the token"): the page keeps the API
token in its origin's localStorage, which every script of that origin can read. The upload bucket
serves whatever people upload, HTML included; served from the bucket's origin, an uploaded page
could read the token of anyone who opened the web page there.
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import signal
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from botocore.exceptions import ClientError

from chalicelib.config import page_config
from local.resources import ensure_bucket
from local.settings import LocalSettings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


ROOT = Path(__file__).resolve().parent.parent
DIST_DIR = ROOT / "frontend" / "dist"
CONFIG_NAME = "config.json"
INDEX = "index.html"
NOT_BUILT = "the page is not built: cd frontend && npm ci && npm run build"

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


def config_json(api_url: str, settings: LocalSettings) -> bytes:
    """The page's `config.json` for this deployment (`chalicelib.config.page_config`)."""
    config = page_config(
        api_url,
        settings.inlet_run_types,
        settings.inlet_default_run_type,
        auth_required=settings.inlet_auth == "required",
    )
    return (json.dumps(config, indent=2) + "\n").encode()


# --- serve: the page on an origin of its own ----------------------------------------------------


def origin(url: str) -> str:
    """`scheme://host[:port]` of a URL (what CSP and CORS compare)."""
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        raise ValueError(f"not an absolute URL: {url!r}")
    return f"{parts.scheme}://{parts.netloc}"


def s3_origin(settings: LocalSettings) -> str:
    """Where browsers send upload bytes: the host presigned URLs are signed for."""
    endpoint = settings.s3_public_endpoint_url or settings.s3_endpoint_url
    return origin(endpoint) if endpoint else "https://*.amazonaws.com"


def content_security_policy(api_url: str, s3_url: str) -> str:
    """What the page may load and call: its own files, the API and the S3 endpoint (presigned
    PUTs). No inline or third-party script, no eval, no plugins, no framing, no form posts
    elsewhere. WebAssembly may compile (`'wasm-unsafe-eval'`, not `'unsafe-eval'`): the hashing
    worker's SHA-256 is wasm."""
    connect = " ".join(dict.fromkeys(["'self'", origin(api_url), s3_url]))
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self' 'wasm-unsafe-eval'",
            "style-src 'self'",
            "img-src 'self' data:",
            f"connect-src {connect}",
            "worker-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )


@dataclass(frozen=True)
class Site:
    """What the page server serves: the built files, the deployment's config.json, the CSP."""

    dist: Path
    config: bytes
    csp: str

    def security_headers(self) -> dict[str, str]:
        return {
            "Content-Security-Policy": self.csp,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "X-Frame-Options": "DENY",
            "Cross-Origin-Opener-Policy": "same-origin",
            "Cross-Origin-Resource-Policy": "same-origin",
        }

    def find(self, url_path: str) -> tuple[HTTPStatus, str, str, bytes]:
        """(status, content type, cache control, body) for a request path. Only files below
        `dist` (no dot files, no `..`); `/` is index.html; config.json is the deployment's."""
        key = unquote(urlsplit(url_path).path).lstrip("/") or INDEX
        if key == CONFIG_NAME:
            return HTTPStatus.OK, CONTENT_TYPES[".json"], REVALIDATE, self.config
        root = self.dist.resolve()
        if not (root / INDEX).is_file():
            body = (NOT_BUILT + " (then reload)\n").encode()
            return HTTPStatus.SERVICE_UNAVAILABLE, CONTENT_TYPES[".txt"], "no-store", body
        not_found = HTTPStatus.NOT_FOUND, CONTENT_TYPES[".txt"], "no-store", b"not found\n"
        segments = key.split("/")
        if "\x00" in key or any(s in ("", ".", "..") or s.startswith(".") for s in segments):
            return not_found
        path = root.joinpath(*segments).resolve()
        if not path.is_relative_to(root) or not path.is_file():
            return not_found
        return HTTPStatus.OK, content_type(path), cache_control(key), path.read_bytes()


def site_for(
    settings: LocalSettings, api_url: str, dist: Path = DIST_DIR, s3_url: str | None = None
) -> Site:
    return Site(
        dist=dist,
        config=config_json(api_url, settings),
        csp=content_security_policy(api_url, s3_url or s3_origin(settings)),
    )


def handler_for(site: Site, *, log: bool) -> type[BaseHTTPRequestHandler]:
    class PageHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def version_string(self) -> str:
            return "inlet-web"  # no Python version on the wire

        def do_GET(self) -> None:
            self._answer(body=True)

        def do_HEAD(self) -> None:
            self._answer(body=False)

        def _answer(self, *, body: bool) -> None:
            try:
                status, ctype, cache, data = site.find(self.path)
            except OSError:
                status, ctype, cache, data = (
                    HTTPStatus.INTERNAL_SERVER_ERROR,
                    CONTENT_TYPES[".txt"],
                    "no-store",
                    b"the file could not be read\n",
                )
            self._send(status, ctype, cache, data if body else b"", len(data))

        def _refuse(self) -> None:
            data = b"only GET and HEAD\n"
            self._send(
                HTTPStatus.METHOD_NOT_ALLOWED,
                CONTENT_TYPES[".txt"],
                "no-store",
                data,
                len(data),
                {"Allow": "GET, HEAD"},
            )

        do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _refuse

        def _send(
            self,
            status: HTTPStatus,
            ctype: str,
            cache: str,
            data: bytes,
            length: int,
            extra: dict[str, str] | None = None,
        ) -> None:
            self.send_response(status)
            headers = {
                "Content-Type": ctype,
                "Content-Length": str(length),
                "Cache-Control": cache,
                **site.security_headers(),
                **(extra or {}),
            }
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            if data:
                self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            if log:
                super().log_message(format, *args)

    return PageHandler


@contextmanager
def serving(site: Site, host: str, port: int, *, log: bool = False) -> Iterator[str]:
    """Serve `site` on host:port (0: a free port) in a thread until the block ends; its URL.
    Raises OSError when the port is taken."""
    server = ThreadingHTTPServer((host, port), handler_for(site, log=log))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="inlet-web", daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def page_status(dist: Path = DIST_DIR) -> str:
    """A note for the banner: empty when the page is built."""
    return "" if (dist / INDEX).is_file() else f"  ({NOT_BUILT}, then reload)"


# --- publish: the page copied into a bucket (a static website) ----------------------------------


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
    files.sort(key=lambda p: p.name == INDEX)
    for path in files:
        key = path.relative_to(dist).as_posix()
        if key != CONFIG_NAME:  # config.json is written from `page_config`, never from a build
            yield key, path


def page_url(endpoint_url: str, bucket: str) -> str:
    """Path-style URL of the page on an S3-compatible endpoint."""
    return f"{endpoint_url.rstrip('/')}/{bucket}/{INDEX}"


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
    """Upload the built page and its config.json; remove objects a previous build left behind.
    The bucket must serve nothing else: never the upload bucket, nor any bucket on the upload
    bucket's origin (docs/security.md)."""
    if not (dist / INDEX).is_file():
        raise FileNotFoundError(
            f"{dist / INDEX} does not exist: build the page first "
            "(cd frontend && npm ci && npm run build)"
        )
    ensure_bucket(s3, bucket, region)
    s3.put_bucket_policy(Bucket=bucket, Policy=public_read_policy(bucket))
    config = page_config(api_url, run_types, default_run_type, auth_required)
    body = json.dumps(config, indent=2) + "\n"
    s3.put_object(
        Bucket=bucket,
        Key=CONFIG_NAME,
        Body=body.encode(),
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


def refuse_the_upload_origin(s3: S3Client, settings: LocalSettings) -> None:
    """Publishing to an S3-compatible endpoint (path-style: every bucket of the endpoint on one
    origin) that holds the upload bucket would serve the page from the uploads' origin: refuse.
    On AWS (no endpoint) buckets are virtual-hosted, an origin each."""
    if not settings.s3_endpoint_url:
        return
    try:
        s3.head_bucket(Bucket=settings.inlet_bucket)
    except ClientError:
        return  # no upload bucket there
    raise SystemExit(
        f"refused: {settings.s3_endpoint_url} serves the upload bucket {settings.inlet_bucket!r} "
        "on the same origin as any bucket the page would be published to, and an uploaded page "
        "could read the page's API token there (docs/security.md, 'Origins and the token'). "
        "Serve the page instead: python -m local.web serve"
    )


# --- the command ----------------------------------------------------------------------------


def parser(settings: LocalSettings) -> argparse.ArgumentParser:
    default_api = f"http://127.0.0.1:{settings.inlet_api_port}"
    top = argparse.ArgumentParser(
        prog="python -m local.web",
        description=__doc__.splitlines()[0],
        epilog="Without a command: publish.",
    )
    modes = top.add_subparsers(dest="mode", required=True)
    serve = modes.add_parser(
        "serve", help="serve the page on an origin of its own (make dev, docker compose)"
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=settings.inlet_web_port)
    serve.add_argument("--api-url", default=default_api, help="base URL of the Inlet API")
    serve.add_argument("--dist", type=Path, default=DIST_DIR)
    serve.add_argument("--quiet", action="store_true", help="do not log each request")
    publish = modes.add_parser(
        "publish", help="copy the page into a bucket for a static website (S3_ENDPOINT_URL or AWS)"
    )
    publish.add_argument("--api-url", required=True, help="base URL of the Inlet API")
    publish.add_argument("--bucket", default=settings.inlet_web_bucket)
    publish.add_argument("--dist", type=Path, default=DIST_DIR)
    return top


def serve_forever(args: argparse.Namespace, settings: LocalSettings) -> None:
    stop = threading.Event()
    # As a container's PID 1, Python ignores SIGTERM unless it handles it.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    site = site_for(settings, args.api_url, args.dist)
    with serving(site, args.host, args.port, log=not args.quiet) as url:
        print(f"serving the page on {url}/ (API {origin(args.api_url)}){page_status(args.dist)}")
        print(f"Content-Security-Policy: {site.csp}", flush=True)
        stop.wait()


def main(argv: Sequence[str] | None = None) -> None:
    """`python -m local.web serve ...` or `python -m local.web [publish] --api-url URL`."""
    from chalicelib.storage import make_s3_client

    words = list(sys.argv[1:] if argv is None else argv)
    if not words or words[0] not in ("serve", "publish", "-h", "--help"):
        words.insert(0, "publish")  # the command before `serve` existed
    settings = LocalSettings.from_env()
    args = parser(settings).parse_args(words)
    if args.mode == "serve":
        serve_forever(args, settings)
        return
    endpoint = settings.s3_endpoint_url or f"https://s3.{settings.aws_region}.amazonaws.com"
    s3 = make_s3_client(settings)
    refuse_the_upload_origin(s3, settings)
    result = publish_site(
        s3,
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
