"""Engine and sessions. The engine is built once per process; Lambda reuses it across calls."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker


def normalize_url(url: str) -> str:
    """Accept the usual `postgres://` spellings and always drive Postgres with psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str) -> Engine:
    url = normalize_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # A Lambda serves one request at a time, but the queue handler processes up to
    # INLET_EVENT_CONCURRENCY (at most 10) records of a batch at once: two connections kept, up
    # to ten, checked before use because connections idle for minutes between invocations (and
    # RDS Proxy may close them).
    return create_engine(
        url,
        pool_size=2,
        max_overflow=8,
        pool_pre_ping=True,
        pool_recycle=300,
        # No server-side prepared statements (psycopg prepares a query run 5 times): Postgres
        # would then settle on one generic plan for all values, which reads the runs list's
        # unfiltered index and filters a rare owner or status out row by row, however deep.
        connect_args={"connect_timeout": 5, "prepare_threshold": None},
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    # WAL stays consistent without an fsync per commit (SQLite is the laptop's database).
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


class Database:
    """An engine plus a session factory; `session()` commits on success and rolls back on error."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def from_url(cls, url: str) -> Database:
        return cls(make_engine(url))

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def session(self, *, serialize: bool = False) -> Iterator[Session]:
        """`serialize=True` is for transactions that read, decide, then write. Postgres callers
        lock the rows they decide on (SELECT ... FOR UPDATE); SQLite has no row locks, so there
        it takes the database's write lock up front (BEGIN IMMEDIATE) instead of on first write."""
        with self._sessions() as session, session.begin():
            if serialize and self.is_sqlite:
                session.connection().exec_driver_sql("BEGIN IMMEDIATE")
            yield session

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
