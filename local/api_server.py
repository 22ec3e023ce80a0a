"""`python -m local.api_server local [chalice local's options]`: `chalice local`, able to take
many clients at once, and as quick on a kept-alive connection as on a fresh one.

chalice local's server listens with socketserver's default backlog of 5 pending connections: with
a couple of hundred clients connecting together (`make bench-load`) the kernel's accept queue
overflows and connections are reset. This runs the same `chalice` command with a backlog the size
of a real server's.

Its handler also writes each response unbuffered: the headers in one send, the body in another.
On a kept-alive connection, Nagle's algorithm holds the body back until the client acknowledges
the headers, and the client delays that acknowledgement (40 ms on Linux): every request but a
connection's first took 40 ms more (issue 14). Here the response is buffered and sent whole when
the request is done, and Nagle's algorithm is off for what still takes several sends (bodies over
the buffer's size). Local stacks only: on AWS, API Gateway accepts the connections.
"""

from __future__ import annotations

import sys

import chalice.local
from chalice.cli import main

BACKLOG = 1024


def configure() -> None:
    """Set chalice local's server and request handler up as described above."""
    chalice.local.ThreadedHTTPServer.request_queue_size = BACKLOG
    handler = chalice.local.ChaliceRequestHandler
    handler.wbufsize = -1  # a buffered writer, flushed after each request (http.server does)
    handler.disable_nagle_algorithm = True  # TCP_NODELAY on every accepted connection


if __name__ == "__main__":
    configure()
    sys.exit(main())
