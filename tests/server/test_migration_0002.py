"""Migration 0002 (answer reasoning and ending) on a database with data at 0001: existing answers
read as answers without reasoning whose ending was not recorded, and the new columns work."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic import command
from sqlalchemy import text

from chatapp.core.db import make_engine
from chatapp.server import migrate
from testkit.postgres import fresh_pg_database, postgres_reachable

BACKENDS = ["sqlite", "postgres"] if postgres_reachable() else ["sqlite"]


@pytest.fixture(params=BACKENDS)
def url(request, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/migrate.db"
    else:
        with fresh_pg_database("chatapp_m2") as pg:
            yield pg


def test_0002_adds_reasoning_and_ending_to_existing_rows(url: str) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            command.upgrade(migrate.alembic_config(url, conn), "0001")
            conn.execute(
                text(
                    'INSERT INTO "user" (openid, nickname, avatar, is_admin, created_at, '
                    "last_login_at) VALUES ('o1', '', '', false, now(), now())"
                )
                if conn.dialect.name == "postgresql"
                else text(
                    "INSERT INTO user (openid, nickname, avatar, is_admin, created_at, "
                    "last_login_at) VALUES ('o1', '', '', 0, '2026-12-01', '2026-12-01')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO conversation (id, user_id, title, title_is_auto, model, "
                    "temperature, context_window, token_budget, pinned, preview, created_at, "
                    "updated_at) VALUES ('c1', 1, 't', true, 'm', 0.7, 20, 8000, false, '', "
                    "'2026-12-01', '2026-12-01')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO message (conversation_id, user_id, kind, content, status, "
                    "created_at, updated_at) VALUES ('c1', 1, 'assistant', 'old answer', "
                    "'done', '2026-12-01', '2026-12-01')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO usersettings (user_id, language, theme, send_key, font_size) "
                    "VALUES (1, 'zh', 'system', 'enter', 15)"
                )
            )
        assert migrate.upgrade(url) == f"upgraded 0001 -> {migrate.head_revision()}"
        with engine.begin() as conn:
            row = conn.execute(
                text(
                    "SELECT content, reasoning, ending, reasoning_ms, reasoning_tokens FROM message"
                )
            ).one()
            assert tuple(row) == ("old answer", "", None, None, None)
            assert conn.execute(text("SELECT reasoning_open FROM usersettings")).scalar() in (
                False,
                0,
            )
            conn.execute(
                text(
                    "UPDATE message SET reasoning = 'thought', ending = 'length', "
                    "reasoning_ms = 1200, reasoning_tokens = 30"
                )
            )
        assert not migrate.pending_changes(url)
        with engine.begin() as conn:
            command.downgrade(migrate.alembic_config(url, conn), "0001")
            assert conn.execute(text("SELECT content FROM message")).scalar() == "old answer"
    finally:
        engine.dispose()


def test_a_dev_database_created_before_0002_is_adopted_and_upgraded(url: str) -> None:
    """A database `create_all` made before 0002 (no migration history): adopted at 0001 and
    upgraded, not stamped at head without the new columns."""
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            command.upgrade(migrate.alembic_config(url, conn), "0001")
            conn.execute(text("DROP TABLE alembic_version"))
        assert "upgraded to head" in migrate.upgrade(url)
        with engine.begin() as conn:
            assert conn.execute(text("SELECT count(reasoning) FROM message")).scalar() == 0
        assert not migrate.pending_changes(url)
    finally:
        engine.dispose()


def test_a_database_of_unknown_shape_is_not_adopted(url: str) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text('CREATE TABLE "user" (id INTEGER PRIMARY KEY)'))
        with pytest.raises(RuntimeError, match="migrate it by hand"):
            migrate.upgrade(url)
    finally:
        engine.dispose()
