"""Progress bars per file and in total on a terminal; nothing at all otherwise."""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Protocol

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from inlet.text import printable


class Reporter(Protocol):
    """What the hashing pass, the upload engine and downloads report; callable from any
    thread."""

    def add(self, description: str, total: int, done: int = 0) -> int: ...

    def advance(self, task: int, count: int) -> None: ...


class Quiet:
    def add(self, description: str, total: int, done: int = 0) -> int:
        return 0

    def advance(self, task: int, count: int) -> None:
        pass


class Bars:
    """rich bars on stderr: one per file and a total that moves with all of them."""

    def __init__(self, console: Console, title: str, total: int, transient: bool = False) -> None:
        self._progress = Progress(
            TextColumn("{task.description}", style="bold"),
            BarColumn(),
            DownloadColumn(binary_units=True),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=transient,
        )
        self._lock = threading.Lock()
        self._total = self._progress.add_task(title, total=total)

    def add(self, description: str, total: int, done: int = 0) -> int:
        """A bar for one file; its name is someone else's text: escaped, and never markup."""
        self._progress.advance(self._total, done)
        label = f"  {escape(printable(description))}"
        return int(self._progress.add_task(label, total=total, completed=done))

    def advance(self, task: int, count: int) -> None:
        with self._lock:
            self._progress.advance(TaskID(task), count)
            self._progress.advance(self._total, count)

    def __enter__(self) -> Bars:
        self._progress.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._progress.stop()
