"""Shared fixtures: a real database per test (SQLite, and PostgreSQL when it is reachable)."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from chatapp.core import db as dbmod

PG_ADMIN_URL = os.environ.get(
    "TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


PG_AVAILABLE = _reachable("127.0.0.1", 5432)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session (dropped at the end)."""
    if not PG_AVAILABLE:
        pytest.fail("PostgreSQL is not reachable on 127.0.0.1:5432 (make test starts it)")
    import psycopg

    name = f"chatapp_t_{uuid.uuid4().hex[:10]}"
    admin = PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    dbmod._engine and dbmod._engine.dispose()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _backends() -> list[str]:
    return ["sqlite", "postgres"] if PG_AVAILABLE or os.environ.get("CI") else ["sqlite"]


@pytest.fixture(params=_backends())
def engine(request, tmp_path) -> Iterator[Engine]:
    """The process engine on a clean database, for each backend."""
    if request.param == "sqlite":
        eng = dbmod.init_db(f"sqlite:///{tmp_path}/test.db")
    else:
        url = request.getfixturevalue("pg_url")
        eng = dbmod.init_db(url)
        from sqlmodel import SQLModel

        SQLModel.metadata.drop_all(eng)
        SQLModel.metadata.create_all(eng)
    yield eng
    eng.dispose()
    dbmod._engine = None


@pytest.fixture
def session(engine) -> Iterator[Session]:
    """A session on the test database (commit explicitly to make data visible to the code)."""
    with Session(engine, expire_on_commit=False) as s:
        yield s


def pytest_collection_modifyitems(config, items):
    """Browser suites run last (deploy, then e2e): fast feedback first.

    Playwright's sync API keeps an event loop running in the main thread for as long as its browser
    fixture lives (session scope in tests/e2e), which breaks every asyncio test collected after it.
    """

    def rank(item) -> int:
        path = str(item.fspath)
        return 2 if "/tests/e2e/" in path else 1 if "/tests/deploy/" in path else 0

    items.sort(key=rank)  # stable: file order is kept within each group
