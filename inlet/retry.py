"""The client's one retry rule, for API calls and bucket transfers alike (docs/contract.md).

A request is tried again when its answer is 408, 429 or any 5xx, or when it failed on the
network (connection refused or reset, timeouts, a truncated answer); every other answer, and
every other 4xx, is final. One guard: a request that is not *repeatable* (sending it twice would
do more than once: creating a run) is retried only when it never reached the server (the
connection could not be made). Repeatable are GET, HEAD, PUT (the bucket's parts), DELETE
(cancel), and the POSTs that sign part URLs or complete an upload (a repeated complete answers
`upload_completed`, which counts as done).

How often and how long to wait is a `RetryPolicy`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import requests
from urllib3.exceptions import NewConnectionError

# HTTP's idempotent methods: sending one twice does no more than once.
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
# requests' errors of the transport itself (ConnectionError covers resets, refusals and TLS).
TRANSPORT_ERRORS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
)


def retryable_status(status: int) -> bool:
    """408 Request Timeout, 429 Too Many Requests and every 5xx."""
    return status in (408, 429) or 500 <= status <= 599


def never_sent(exc: BaseException) -> bool:
    """The connection could not be made (refused, unknown host, connect timeout): the server
    received nothing."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    cause = exc.args[0] if isinstance(exc, requests.ConnectionError) and exc.args else None
    return isinstance(getattr(cause, "reason", None), NewConnectionError)


def repeatable(method: str) -> bool:
    """Whether a request of `method` may be sent twice (a POST says so itself)."""
    return method.upper() in IDEMPOTENT


def retry_answer(status: int, repeatable: bool) -> bool:
    """Whether an answer with this status is worth another attempt."""
    return repeatable and retryable_status(status)


def retry_error(exc: BaseException, repeatable: bool) -> bool:
    """Whether a request that raised `exc` is worth another attempt."""
    if never_sent(exc):
        return True
    return repeatable and isinstance(exc, TRANSPORT_ERRORS)


@dataclass(frozen=True)
class RetryPolicy:
    """At most `attempts` tries; before try n+1, about `base_delay * 2**(n-1)` seconds (with
    jitter, at most `max_delay`). `RetryPolicy(base_delay=0)` retries without waiting."""

    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 8.0

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number `retry` (1 = the second attempt)."""
        base = min(self.max_delay, self.base_delay * 2.0 ** (retry - 1))
        return base * random.uniform(0.5, 1.0)  # noqa: S311 (jitter, not cryptography)


# API calls: four tries (a down API is reported within a few seconds); bucket parts: five.
API_RETRY = RetryPolicy(attempts=4)
TRANSFER_RETRY = RetryPolicy(attempts=5)
