"""Shared fixtures: a real database per test (SQLite, and PostgreSQL when it is reachable), and
the one browser (Debian's Chromium) every browser suite drives."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from chatapp.core import db as dbmod
from chatapp.models import User
from testkit.postgres import PG_HOST, PG_PORT, fresh_pg_database, postgres_reachable

if TYPE_CHECKING:
    from playwright.sync_api import Browser

PG_AVAILABLE = postgres_reachable()


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session (dropped at the end)."""
    if not PG_AVAILABLE:
        pytest.fail(f"PostgreSQL is not reachable on {PG_HOST}:{PG_PORT} (make test starts it)")
    with fresh_pg_database("chatapp_t") as url:
        try:
            yield url
        finally:
            if dbmod._engine is not None:
                dbmod._engine.dispose()


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


@pytest.fixture
def users(session: Session) -> tuple[int, int]:
    """Alice and Bob, committed: (alice's id, bob's id)."""
    alice, bob = User(openid="alice"), User(openid="bob")
    session.add_all([alice, bob])
    session.commit()
    assert alice.id is not None and bob.id is not None
    return alice.id, bob.id


# Module scope: a live sync Playwright keeps an event loop running in the main thread, which
# would break `asyncio.run` in later, unrelated tests.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Chromium for the browser tests of one module (`testkit.browser.chromium`)."""
    from testkit.browser import chromium

    with chromium() as b:
        yield b


def pytest_collection_modifyitems(config, items):
    """Browser suites run last (deploy, then e2e): fast feedback first.

    Playwright's sync API keeps an event loop running in the main thread for as long as its browser
    fixture lives (a module), which breaks an asyncio test running while it does.
    """

    def rank(item) -> int:
        path = str(item.fspath)
        return 2 if "/tests/e2e/" in path else 1 if "/tests/deploy/" in path else 0

    items.sort(key=rank)  # stable: file order is kept within each group
