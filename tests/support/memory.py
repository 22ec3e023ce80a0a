"""Peak memory of a piece of work, for the flat-memory tests (hashing, archive manifests)."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from typing import TypeVar

from chalicelib.config import MiB

T = TypeVar("T")

# Whatever the object's size: a few read buffers and a block cache, never the object.
MEMORY_LIMIT = 64 * MiB


def peak_growth(run: Callable[[], T]) -> tuple[T, int]:
    """`run()`'s result, and how far Python's traced memory rose above where it started."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        result = run()
        return result, tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
