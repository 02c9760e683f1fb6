"""Throw-away PostgreSQL databases on the local server the tests share (created with a random
name, dropped afterwards), and one reached through a TCP proxy a test can cut.

`TEST_PG_ADMIN_URL` names a database to connect to for CREATE/DROP DATABASE (default: the `test`
database of 127.0.0.1:5432, user postgres).
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import make_url

from testkit.fakes.tcp_proxy import TcpProxy

PG_ADMIN_URL = os.environ.get(
    "TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
_ADMIN = make_url(PG_ADMIN_URL).set(drivername="postgresql+psycopg")
PG_HOST, PG_PORT = _ADMIN.host or "127.0.0.1", _ADMIN.port or 5432


def _libpq(url) -> str:
    """The form psycopg itself takes (no SQLAlchemy driver name)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def postgres_reachable() -> bool:
    """Whether the server accepts TCP connections (`make test` starts it)."""
    try:
        with socket.create_connection((PG_HOST, PG_PORT), timeout=0.5):
            return True
    except OSError:
        return False


@contextmanager
def fresh_pg_database(prefix: str = "chatapp_t") -> Iterator[str]:
    """A new, empty database (dropped afterwards, open connections or not).

    Args:
        prefix: The start of its name (a random suffix follows), which says who left it behind.

    Yields:
        Its URL, in the form DATABASE_URL takes (`postgresql+psycopg://…`).
    """
    import psycopg
    from psycopg import sql

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(_libpq(_ADMIN), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield _ADMIN.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_libpq(_ADMIN), autocommit=True) as conn:
            drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            conn.execute(drop.format(sql.Identifier(name)))


@contextmanager
def pg_database_behind_proxy(prefix: str) -> Iterator[tuple[TcpProxy, str]]:
    """A fresh database reached through a `TcpProxy`: `proxy.cut()` is a database outage as the
    app sees it (every connection dropped, new ones refused), `proxy.restore()` ends it.

    Yields:
        The proxy, and the database's URL through it.
    """
    with fresh_pg_database(prefix) as url:
        proxy = TcpProxy((PG_HOST, PG_PORT)).start()
        try:
            yield (
                proxy,
                make_url(url)
                .set(host="127.0.0.1", port=proxy.port)
                .render_as_string(hide_password=False),
            )
        finally:
            proxy.cut()
