"""Revision 0004 (API keys): upgrading a database at 0003 adds the keys table (with its unique
hash index) and nothing else differs from the models; downgrading removes it again."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from chatapp.core.db import make_engine
from chatapp.server.migrate import alembic_config, pending_changes, upgrade
from testkit.postgres import fresh_pg_database


def _check(url: str) -> None:
    command.upgrade(alembic_config(url), "0003")
    # To the head: later revisions (0005 images, …) come along; the keys table is 0004's.
    assert upgrade(url).startswith("upgraded 0003 -> ")
    engine = make_engine(url)
    try:
        indexes = {i["name"]: i["unique"] for i in inspect(engine).get_indexes("apikey")}
    finally:
        engine.dispose()
    assert indexes == {"ix_apikey_secret_hash": True, "ix_apikey_user_id": False}
    assert pending_changes(url) == []
    command.downgrade(alembic_config(url), "0003")
    engine = make_engine(url)
    try:
        assert "apikey" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_on_sqlite(tmp_path):
    _check(f"sqlite:///{tmp_path}/m.db")


def test_on_postgres():  # `make test` starts PostgreSQL
    with fresh_pg_database("chatapp_mig") as url:
        _check(url)
