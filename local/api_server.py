"""`python -m local.api_server local [chalice local's options]`: `chalice local`, able to take
many clients at once.

chalice local's server listens with socketserver's default backlog of 5 pending connections: with
a couple of hundred clients connecting together (`make bench-load`) the kernel's accept queue
overflows and connections are reset. This runs the same `chalice` command with a backlog the size
of a real server's. Local stacks only: on AWS, API Gateway accepts the connections.
"""

from __future__ import annotations

import sys

import chalice.local
from chalice.cli import main

BACKLOG = 1024

if __name__ == "__main__":
    chalice.local.ThreadedHTTPServer.request_queue_size = BACKLOG
    sys.exit(main())
