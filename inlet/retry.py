"""The client's one retry rule, for API calls and bucket transfers alike (docs/contract.md).

A request is tried again when its answer is 408, 429 or any 5xx, or when it failed on the
network (connection refused or reset, timeouts, a truncated answer); every other answer, and
every other 4xx, is final. One guard: a request that is not *repeatable* (sending it twice would
do more than once: creating a run) is retried only when it never reached the server (the
connection could not be made), or when it was answered 429: a 429 was refused without being
acted on (the API's `quota_exceeded` creates nothing; a gateway's throttling never passes the
request on). Repeatable are GET, HEAD, PUT (the bucket's parts), DELETE (cancel), and the POSTs
that sign part URLs or complete an upload (a repeated complete answers `upload_completed`,
which counts as done).

How often and how long to wait is a `RetryPolicy`; a `Retry-After` the server sends is waited
out (when it is longer than the back-off), up to the policy's `max_retry_after`.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

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
    """Whether an answer with this status is worth another attempt: a 429 always (nothing was
    done), the other retried statuses when the request is repeatable."""
    return status == 429 or (repeatable and retryable_status(status))


def retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """The seconds a `Retry-After` header asks to wait (delta-seconds, or an HTTP-date), never
    below 0; None when there is none or it cannot be read."""
    text = (value or "").strip()
    if not text:
        return None
    if text.isdigit():
        return float(int(text))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - (now or datetime.now(UTC))).total_seconds(), 0.0)


def retry_error(exc: BaseException, repeatable: bool) -> bool:
    """Whether a request that raised `exc` is worth another attempt."""
    if never_sent(exc):
        return True
    return repeatable and isinstance(exc, TRANSPORT_ERRORS)


@dataclass(frozen=True)
class RetryPolicy:
    """At most `attempts` tries; before try n+1, about `base_delay * 2**(n-1)` seconds (with
    jitter, at most `max_delay`), or what the server's `Retry-After` asks when that is longer.
    A `Retry-After` beyond `max_retry_after` is not waited out: the answer is final (and says
    when to try again). `RetryPolicy(base_delay=0)` retries without waiting (but for a
    `Retry-After`)."""

    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 120.0

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number `retry` (1 = the second attempt)."""
        base = min(self.max_delay, self.base_delay * 2.0 ** (retry - 1))
        return base * random.uniform(0.5, 1.0)  # noqa: S311 (jitter, not cryptography)

    def wait(self, retry: int, asked: float | None) -> float | None:
        """Seconds to wait before retry `retry` when the server asked for `asked` seconds
        (`Retry-After`; None: it did not say); None when it asked for more than this policy
        waits, so the answer is final."""
        if asked is None:
            return self.delay(retry)
        if asked > self.max_retry_after:
            return None
        # Whole seconds, as asked, plus a little jitter so clients told alike spread out.
        return max(self.delay(retry), math.ceil(asked) + random.uniform(0, 0.5))  # noqa: S311


# API calls: four tries (a down API is reported within a few seconds); bucket parts: five.
API_RETRY = RetryPolicy(attempts=4)
TRANSFER_RETRY = RetryPolicy(attempts=5)
