"""What the app logs, as the JSON lines its handler writes."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from chalicelib.logs import logger

LogLines = Callable[[], list[dict[str, Any]]]


@contextmanager
def captured_log_lines() -> Iterator[LogLines]:
    """Within the block, the app's log handler writes to a buffer: the callable yielded parses
    the JSON lines written so far. The handler's stream is put back afterwards."""
    stream, handler = io.StringIO(), logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    previous = handler.setStream(stream)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        handler.setStream(previous)
