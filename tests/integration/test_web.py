"""local/web.py: the page served on an origin of its own (make dev, docker compose), or published
into a bucket for a static website; and what keeps it apart from the upload bucket's origin
(issue 13): make dev's origins, and uploads stored as attachments."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import requests

from chalicelib.config import Settings, page_config
from chalicelib.storage import Storage, make_s3_client
from local import stack, web
from local.processes import HOST, ROOT
from local.resources import ensure_upload_bucket
from local.settings import LocalSettings


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    root = tmp_path / "dist"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text('<!doctype html><script src="./assets/app-1a2b.js"></script>')
    (root / "assets" / "app-1a2b.js").write_text("console.log('inlet')")
    (root / "assets" / "app-1a2b.css").write_text("body{}")
    (root / "assets" / "hash.worker-9z.js").write_text("self.onmessage=()=>{}")
    (root / "favicon.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (root / "config.json").write_text('{"apiUrl": "http://from-the-build"}')
    return root


def get(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type", ""), exc.read()


def raw_get(base: str, path: str) -> tuple[int, bytes]:
    """A GET of `path` exactly as written (urllib and requests would normalise `..` away)."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


# --- serve: the page on an origin of its own ----------------------------------------------------

API = "http://127.0.0.1:8123"
S3 = "http://127.0.0.1:9123"


@pytest.fixture
def site(dist: Path) -> web.Site:
    settings = LocalSettings(inlet_run_types=("a", "b"), inlet_default_run_type="b")
    return web.site_for(settings, API + "/", dist, s3_url=S3)


def test_serve_answers_with_the_built_files_and_the_deployments_config(site: web.Site) -> None:
    with web.serving(site, HOST, 0) as base:
        index = requests.get(f"{base}/", timeout=5)
        assert index.status_code == 200
        assert index.headers["Content-Type"] == "text/html; charset=utf-8"
        assert index.headers["Cache-Control"] == "no-cache"
        assert b"assets/app-1a2b.js" in index.content
        assert requests.get(f"{base}/index.html", timeout=5).content == index.content
        for key, expected in {
            "assets/app-1a2b.js": "text/javascript; charset=utf-8",
            "assets/hash.worker-9z.js": "text/javascript; charset=utf-8",
            "assets/app-1a2b.css": "text/css; charset=utf-8",
            "favicon.svg": "image/svg+xml",
        }.items():
            response = requests.get(f"{base}/{key}", timeout=5)
            assert (response.status_code, response.headers["Content-Type"]) == (200, expected)
            assert response.headers["Cache-Control"] == web.cache_control(key)
        assert requests.get(f"{base}/assets/app-1a2b.js", timeout=5).headers["Cache-Control"] == (
            web.IMMUTABLE
        )

        # config.json comes from the deployment, never from the build
        config = requests.get(f"{base}/config.json", timeout=5)
        assert config.headers["Content-Type"] == "application/json"
        assert config.headers["Cache-Control"] == "no-cache"
        assert config.json() == {
            "apiUrl": API,
            "runTypes": ["a", "b"],
            "defaultRunType": "b",
            "authRequired": True,
        }

        head = requests.head(f"{base}/favicon.svg", timeout=5)
        assert (head.status_code, head.content) == (200, b"")
        assert head.headers["Content-Length"] == str(
            len(site.dist.joinpath("favicon.svg").read_bytes())
        )


def test_serve_sends_security_headers_and_a_policy_naming_the_api_and_the_bucket(
    site: web.Site,
) -> None:
    with web.serving(site, HOST, 0) as base:
        for path in ("/", "/config.json", "/assets/app-1a2b.js", "/missing"):
            headers = requests.get(f"{base}{path}", timeout=5).headers
            assert headers["X-Content-Type-Options"] == "nosniff", path
            assert headers["Content-Security-Policy"] == site.csp, path
            assert headers["X-Frame-Options"] == "DENY", path
            assert headers["Referrer-Policy"] == "no-referrer", path
    directives = dict(d.split(" ", 1) for d in site.csp.split("; "))
    assert directives["connect-src"] == f"'self' {API} {S3}"
    assert directives["script-src"] == "'self' 'wasm-unsafe-eval'"  # the sha256 worker
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"


def test_serve_answers_nothing_outside_the_build(site: web.Site, tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("outside the build")
    (site.dist / ".env").write_text("SECRET=1")
    with web.serving(site, HOST, 0) as base:
        for path in (
            "/../secret.txt",
            "/%2e%2e/secret.txt",
            "/assets/..%2f..%2fsecret.txt",
            "/.env",
            "/assets/",
            "/assets",
            "/nowhere.js",
            "/a%00.js",
        ):
            status, body = raw_get(base, path)
            assert status == 404, path
            assert b"outside" not in body, path
            assert b"SECRET" not in body, path
        refused = requests.post(f"{base}/config.json", data=b"{}", timeout=5)
        assert refused.status_code == 405
        assert refused.headers["Allow"] == "GET, HEAD"


def test_serve_says_when_the_page_is_not_built(tmp_path: Path) -> None:
    site = web.site_for(LocalSettings(inlet_auth="off"), API, tmp_path / "missing", s3_url=S3)
    with web.serving(site, HOST, 0) as base:
        index = requests.get(f"{base}/", timeout=5)
        assert index.status_code == 503
        assert "npm run build" in index.text
        # the config is there all the same
        assert requests.get(f"{base}/config.json", timeout=5).json()["apiUrl"] == API
    assert "npm run build" in web.page_status(tmp_path / "missing")


def test_the_policy_names_where_presigned_urls_point() -> None:
    compose = LocalSettings(
        s3_endpoint_url="http://localstack:4566", s3_public_endpoint_url="http://localhost:4566/"
    )
    assert web.s3_origin(compose) == "http://localhost:4566"
    assert web.s3_origin(LocalSettings(s3_endpoint_url="http://127.0.0.1:9000")) == (
        "http://127.0.0.1:9000"
    )
    assert web.s3_origin(LocalSettings()) == "https://*.amazonaws.com"
    with pytest.raises(ValueError, match="not an absolute URL"):
        web.origin("localhost:8000")


def test_the_command_serves_and_publishes() -> None:
    """`serve` and `publish` (also without a command, as before `serve` existed) parse; the
    image's commands run with --help (tests/deploy/test_dockerfile.py)."""
    parser = web.parser(LocalSettings(inlet_web_port=8181, inlet_api_port=8001))
    served = parser.parse_args(["serve"])
    assert (served.host, served.port, served.api_url) == (
        "127.0.0.1",
        8181,
        "http://127.0.0.1:8001",
    )
    published = parser.parse_args(["publish", "--api-url", "http://api"])
    assert (published.mode, published.bucket) == ("publish", "inlet-web")
    done = subprocess.run(
        [sys.executable, "-m", "local.web", "serve", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "--api-url" in done.stdout


# --- make dev: three origins ------------------------------------------------------------------


def test_make_dev_allows_the_pages_origins_and_never_the_buckets() -> None:
    env = stack.dev_environment({})
    assert (env["INLET_API_PORT"], env["INLET_S3_PORT"], env["INLET_WEB_PORT"]) == (
        "8000",
        "9000",
        "8080",
    )
    origins = env["INLET_CORS_ORIGINS"].split(",")
    assert set(origins) == {
        "http://127.0.0.1:8080",
        "http://localhost:8080",
        "http://127.0.0.1:5173",
        "http://localhost:5173",
    }
    moved = stack.dev_environment({"INLET_WEB_PORT": "8181", "INLET_S3_PORT": "9191"})
    assert "http://127.0.0.1:8181" in moved["INLET_CORS_ORIGINS"].split(",")
    assert "9191" not in moved["INLET_CORS_ORIGINS"]
    # given, it is kept as given
    given = stack.dev_environment({"INLET_CORS_ORIGINS": "http://only.example"})
    assert given["INLET_CORS_ORIGINS"] == "http://only.example"


def test_the_page_never_shares_a_port_with_the_bucket_or_the_api() -> None:
    with pytest.raises(RuntimeError, match="three origins"):
        LocalSettings.from_env({"INLET_WEB_PORT": "9000"})
    with pytest.raises(RuntimeError, match="three origins"):
        stack.dev_environment({"INLET_WEB_PORT": "9100", "INLET_S3_PORT": "9100"})


def test_make_dev_serves_the_page_and_carries_on_when_its_port_is_taken(site: web.Site) -> None:
    with web.serving(site, HOST, 0) as taken:  # a second make dev, or a test stack
        port = int(taken.rsplit(":", 1)[1])
        busy = LocalSettings(inlet_web_port=port, s3_endpoint_url=S3)
        with stack.web_page(busy, API) as line:
            assert line.startswith(f"NOT SERVED: {HOST}:{port} is taken")
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        free = probe.getsockname()[1]
    with stack.web_page(LocalSettings(inlet_web_port=free, s3_endpoint_url=S3), API) as line:
        assert line.startswith(f"http://{HOST}:{free}/")
        config = requests.get(f"http://{HOST}:{free}/config.json", timeout=5).json()
        assert config["apiUrl"] == API
        csp = requests.get(f"http://{HOST}:{free}/config.json", timeout=5).headers[
            "Content-Security-Policy"
        ]
        assert f"connect-src 'self' {API} {S3}" in csp
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://{HOST}:{free}/config.json", timeout=5)


# --- uploads are attachments --------------------------------------------------------------------

ATTACHMENTS = "inlet-attachments"


@pytest.fixture
def uploads(s3_endpoint: str) -> Storage:
    s3 = make_s3_client(Settings(s3_endpoint_url=s3_endpoint))
    ensure_upload_bucket(s3, ATTACHMENTS, ["http://127.0.0.1:8080"])
    return Storage(s3, ATTACHMENTS, 900)


EVIL = b"<!doctype html><script>document.title = localStorage.getItem('inlet.apiToken')</script>"


def test_a_single_put_signs_and_stores_content_disposition_attachment(uploads: Storage) -> None:
    key = "runs/r/f/evil.html"
    signed = uploads.presign_put(key, "text/html", len(EVIL))
    assert signed.headers["Content-Disposition"] == "attachment"
    assert "content-disposition" in signed.url.split("X-Amz-SignedHeaders=")[1].split("&")[0]
    put = requests.put(signed.url, data=EVIL, headers=signed.headers, timeout=30)
    assert put.status_code == 200, put.text
    url = uploads.client.generate_presigned_url(
        "get_object", Params={"Bucket": ATTACHMENTS, "Key": key}, ExpiresIn=60
    )
    got = requests.get(url, timeout=30)
    assert got.content == EVIL
    assert got.headers["Content-Disposition"] == "attachment"


def test_a_multipart_upload_is_stored_as_an_attachment(uploads: Storage) -> None:
    key = "runs/r/f/big.html"
    upload_id = uploads.create_multipart(key, "text/html")
    part = uploads.presign_part(key, upload_id, 1, len(EVIL))
    sent = requests.put(part.url, data=EVIL, timeout=30)
    assert sent.status_code == 200, sent.text
    uploads.complete_multipart(key, upload_id, [(1, sent.headers["ETag"])])
    head = uploads.client.head_object(Bucket=ATTACHMENTS, Key=key)
    assert head["ContentDisposition"] == "attachment"


def test_publish_serves_the_page_anonymously_with_its_config(s3_endpoint: str, dist: Path) -> None:
    settings = Settings(s3_endpoint_url=s3_endpoint)
    s3 = make_s3_client(settings)
    result = web.publish_site(
        s3,
        s3_endpoint,
        "http://127.0.0.1:8123/",
        bucket="inlet-web-test",
        dist=dist,
        run_types=("a", "b"),
        default_run_type="b",
    )
    assert result.url == f"{s3_endpoint}/inlet-web-test/index.html"

    status, content_type, body = get(result.url)
    assert (status, content_type) == (200, "text/html; charset=utf-8")
    assert b"assets/app-1a2b.js" in body
    for key, expected in {
        "assets/app-1a2b.js": "text/javascript; charset=utf-8",
        "assets/hash.worker-9z.js": "text/javascript; charset=utf-8",
        "assets/app-1a2b.css": "text/css; charset=utf-8",
        "favicon.svg": "image/svg+xml",
    }.items():
        status, content_type, _ = get(f"{s3_endpoint}/inlet-web-test/{key}")
        assert (status, content_type) == (200, expected), key

    # config.json comes from the deployment, never from the build
    status, content_type, body = get(f"{s3_endpoint}/inlet-web-test/config.json")
    assert (status, content_type) == (200, "application/json")
    assert json.loads(body) == {
        "apiUrl": "http://127.0.0.1:8123",
        "runTypes": ["a", "b"],
        "defaultRunType": "b",
    }
    head = s3.head_object(Bucket="inlet-web-test", Key="assets/app-1a2b.js")
    assert head["CacheControl"] == web.IMMUTABLE
    assert s3.head_object(Bucket="inlet-web-test", Key="index.html")["CacheControl"] == "no-cache"


def test_republishing_removes_what_an_old_build_left(s3_endpoint: str, dist: Path) -> None:
    s3 = make_s3_client(Settings(s3_endpoint_url=s3_endpoint))
    web.publish_site(s3, s3_endpoint, "http://api", bucket="inlet-web-prune", dist=dist)
    (dist / "assets" / "app-1a2b.js").unlink()
    (dist / "assets" / "app-3c4d.js").write_text("new")
    result = web.publish_site(s3, s3_endpoint, "http://api", bucket="inlet-web-prune", dist=dist)
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket="inlet-web-prune")["Contents"]}
    assert "assets/app-1a2b.js" not in keys
    assert {"assets/app-3c4d.js", "index.html", "config.json"} <= keys
    assert result.removed == 1


def test_the_command_never_publishes_next_to_the_upload_bucket(
    s3_endpoint: str, dist: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Path-style, every bucket of an S3-compatible endpoint shares one origin: publishing the
    page to the endpoint that holds the upload bucket would put the token next to uploads."""
    s3 = make_s3_client(Settings(s3_endpoint_url=s3_endpoint))
    ensure_upload_bucket(s3, "inlet-uploads-beside", ["http://127.0.0.1:8080"])
    monkeypatch.setenv("S3_ENDPOINT_URL", s3_endpoint)
    monkeypatch.setenv("INLET_BUCKET", "inlet-uploads-beside")
    args = [
        "publish",
        "--api-url",
        "http://api",
        "--bucket",
        "inlet-web-beside",
        "--dist",
        str(dist),
    ]
    with pytest.raises(
        SystemExit, match=r"refused: .* serves the upload bucket 'inlet-uploads-beside'"
    ):
        web.main(args)
    assert "inlet-web-beside" not in {b["Name"] for b in s3.list_buckets()["Buckets"]}
    # an endpoint without the upload bucket (a website of its own) is fine
    monkeypatch.setenv("INLET_BUCKET", "inlet-uploads-elsewhere")
    web.main(args)
    assert s3.head_object(Bucket="inlet-web-beside", Key="config.json")["ContentLength"] > 0


def test_publish_needs_a_build(s3_endpoint: str, tmp_path: Path) -> None:
    s3 = make_s3_client(Settings(s3_endpoint_url=s3_endpoint))
    with pytest.raises(FileNotFoundError, match="npm run build"):
        web.publish_site(s3, s3_endpoint, "http://api", dist=tmp_path / "missing")


def test_helpers() -> None:
    assert web.content_type(Path("x.wasm")) == "application/wasm"
    assert web.content_type(Path("x.unknown-ext")) == "application/octet-stream"
    assert web.cache_control("assets/x.js") == web.IMMUTABLE
    assert web.cache_control("index.html") == web.REVALIDATE
    policy = json.loads(web.public_read_policy("b"))
    assert policy["Statement"][0]["Action"] == "s3:GetObject"
    assert policy["Statement"][0]["Resource"] == "arn:aws:s3:::b/*"
    assert page_config("http://x/") == {"apiUrl": "http://x"}
    assert list(web.dist_files(Path("/nonexistent"))) == []
