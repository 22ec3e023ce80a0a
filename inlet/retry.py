"""The client's one retry rule, for API calls and bucket transfers alike.

A request is tried again when
- its answer is 408, 429 or any 5xx (the server may answer better later), for an idempotent
  method only: a POST that reached the server is never sent twice;
- it failed before the server could receive it (the connection was never made), whatever the
  method;
- it failed in transit (reset, timeout, a truncated answer) after it may have reached the
  server, for an idempotent method only.

Every other answer and error is final. How often and how long to wait is a `RetryPolicy`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import requests
from urllib3.exceptions import NewConnectionError

# HTTP's idempotent methods; presigned bucket uploads are PUTs.
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


def refused(status: int) -> bool:
    """A 4xx that asking again will not change: anything but 408 and 429."""
    return 400 <= status <= 499 and not retryable_status(status)


def never_sent(exc: BaseException) -> bool:
    """The connection could not be made (refused, unknown host, connect timeout): the server
    received nothing."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    cause = exc.args[0] if isinstance(exc, requests.ConnectionError) and exc.args else None
    return isinstance(getattr(cause, "reason", None), NewConnectionError)


def retry_answer(method: str, status: int) -> bool:
    """Whether an answer with this status is worth another attempt of `method`."""
    return method.upper() in IDEMPOTENT and retryable_status(status)


def retry_error(method: str, exc: BaseException) -> bool:
    """Whether a request of `method` that raised `exc` is worth another attempt."""
    if never_sent(exc):
        return True
    return method.upper() in IDEMPOTENT and isinstance(exc, TRANSPORT_ERRORS)


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
