"""The local API on a kept-alive connection (issue 14): `chalice local` through
local/api_server.py sends each response whole, with Nagle's algorithm off, so no response waits
for the client's delayed acknowledgement. The mechanism is tested, not the time
(bench/bench_keepalive.py measures that)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import chalice.local
import pytest
from chalice.config import Config

import app as app_module
from chalicelib.db import Database
from local import api_server
from tests.support.api import api_server as running_api

pytestmark = pytest.mark.http


@pytest.fixture(scope="module")
def server(
    database_url: str, migrated_db: Database, s3_endpoint: str, bucket_ready: None
) -> Iterator[tuple[str, int]]:
    """`chalice local` as `make dev` starts it; its host and port."""
    with running_api(database_url, s3_endpoint) as base:
        host, port = base.removeprefix("http://").split(":")
        yield host, int(port)


def request(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: inlet\r\n\r\n".encode()


def read_response(sock: socket.socket) -> tuple[bytes, bytes, int]:
    """The head, the body and how many reads the whole response took."""
    data, reads = b"", 0
    while b"\r\n\r\n" not in data or len(data.partition(b"\r\n\r\n")[2]) < length(data):
        chunk = sock.recv(1 << 20)
        assert chunk, "the server closed the connection"
        data, reads = data + chunk, reads + 1
    head, _, body = data.partition(b"\r\n\r\n")
    return head, body, reads


def length(data: bytes) -> int:
    for line in data.partition(b"\r\n\r\n")[0].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 1 << 62  # headers not complete yet


def test_a_kept_alive_connection_gets_each_response_in_one_piece(
    server: tuple[str, int],
) -> None:
    """Headers and body leave in one send: the first read after a request holds all of it, on
    the connection's first request and on every later one."""
    with socket.create_connection(server, timeout=10) as sock:
        for _ in range(5):
            sock.sendall(request("/v1/runs?limit=1"))
            head, body, reads = read_response(sock)
            assert head.startswith(b"HTTP/1.1 200 "), head
            assert body.startswith(b'{"items":')
            assert reads == 1


def test_a_response_larger_than_the_buffer_keeps_the_connection(server: tuple[str, int]) -> None:
    """The OpenAPI document fills several writes of the buffer; the next request on the same
    connection is served all the same."""
    with socket.create_connection(server, timeout=10) as sock:
        sock.sendall(request("/v1/openapi.json"))
        head, body, _ = read_response(sock)
        assert head.startswith(b"HTTP/1.1 200 ")
        assert len(body) > 8192
        sock.sendall(request("/v1/runs?limit=1"))
        assert read_response(sock)[0].startswith(b"HTTP/1.1 200 ")


def test_accepted_connections_have_nagle_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """configure() as `python -m local.api_server` calls it, on chalice local's own server in
    this process: the socket the handler got has TCP_NODELAY set."""
    handler = chalice.local.ChaliceRequestHandler
    for name in ("wbufsize", "disable_nagle_algorithm"):
        monkeypatch.setattr(handler, name, getattr(handler, name))  # restored afterwards
    monkeypatch.setattr(
        chalice.local.ThreadedHTTPServer,
        "request_queue_size",
        chalice.local.ThreadedHTTPServer.request_queue_size,
    )
    api_server.configure()

    seen: list[int] = []
    setup = handler.setup

    def recording_setup(self: chalice.local.ChaliceRequestHandler) -> None:
        setup(self)
        seen.append(self.connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

    monkeypatch.setattr(handler, "setup", recording_setup)
    local = chalice.local.create_local_server(app_module.app, Config(), "127.0.0.1", 0)
    thread = threading.Thread(target=local.server.serve_forever, daemon=True)
    thread.start()
    try:
        with socket.create_connection(local.server.server_address[:2], timeout=10) as sock:
            sock.sendall(request("/v1/nowhere"))  # chalice local answers itself: 403
            assert read_response(sock)[0].startswith(b"HTTP/1.1 403 ")
    finally:
        local.server.shutdown()
        local.server.server_close()
    assert seen == [1]
    assert handler.wbufsize == -1
