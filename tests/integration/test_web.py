"""local/web.py: the built page is published into a bucket that serves it to anonymous browsers."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from chalicelib.config import Settings, page_config
from chalicelib.storage import make_s3_client
from local import web


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
