"""The database engine: one per process, created from the settings, tables created on start-up.

SQLite gets WAL and a busy timeout so a streaming writer and readers don't trip over each other;
PostgreSQL (`DATABASE_URL=postgresql+psycopg://…`) gets a pre-ping pool.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, create_engine

from chatapp import models  # noqa: F401  (registers the tables

_engine: Engine | None = None
SQLITE_BUSY_S = 5.0


def normalise_url(url: str) -> str:
    """Maps `postgres://` and `postgresql://` to the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str) -> Engine:
    """Creates an engine with the per-backend settings we rely on."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            # No pool_pre_ping: a file needs no liveness check, and the ping costs ~5% of the CPU
            # of a process streaming 60 answers (a SELECT 1 per checkpoint).
            url,
            # Writes take milliseconds: 5 s of waiting means something holds the file (a backup, a
            # stuck process); failing then gives the user a clear message instead of a hang.
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_S},
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:  # pragma: no cover - driver hook
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_S * 1000)}")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _after_fork_in_child() -> None:
    # Granian forks its workers from a supervisor that imported the app (and opened the pool):
    # a child must not reuse the parent's connections (SQLAlchemy's documented recipe).
    if _engine is not None:
        _engine.dispose(close=False)


os.register_at_fork(after_in_child=_after_fork_in_child)


def init_db(url: str) -> Engine:
    """Creates the process engine and the tables (idempotent)."""
    global _engine
    if _engine is not None:
        _engine.dispose()
    _engine = make_engine(url)
    SQLModel.metadata.create_all(_engine)
    return _engine


def get_engine() -> Engine:
    """The process engine, created from the settings on first use."""
    if _engine is None:
        from chatapp.core.config import get_settings

        return init_db(get_settings().database_url)
    return _engine


@contextmanager
def session_scope() -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with Session(get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except Exception:
            session.rollback()
            raise
