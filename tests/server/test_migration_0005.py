"""Migration 0005 (pictures image models drew) on a database with a conversation at 0004: the
conversation keeps working, a picture stored on an answer goes when the answer does, and the
migration goes back down cleanly."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlmodel import Session

from chatapp.core.db import make_engine
from chatapp.models import Conversation, Message, User
from chatapp.server import migrate
from testkit.postgres import fresh_pg_database, postgres_reachable

BACKENDS = ["sqlite", "postgres"] if postgres_reachable() else ["sqlite"]


@pytest.fixture(params=BACKENDS)
def url(request, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/migrate.db"
    else:
        with fresh_pg_database("chatapp_m5") as pg:
            yield pg


def test_0005_stores_pictures_deleted_with_their_answer(url: str) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            command.upgrade(migrate.alembic_config(url, conn), "0004")
            # At 0004 every other table is what the models say: seed through them.
            with Session(bind=conn) as session:
                user = User(openid="o1")
                session.add(user)
                session.flush()
                assert user.id is not None
                conv = Conversation(id="c1", user_id=user.id, model="dall-e-3")
                session.add(conv)
                session.flush()
                session.add(Message(conversation_id="c1", user_id=user.id, kind="assistant"))
                session.flush()
            command.upgrade(migrate.alembic_config(url, conn), "0005")
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO generatedimage (id, user_id, message_id, mime, data, created_at) "
                    "VALUES ('img1', 1, 1, 'image/png', :data, '2026-12-01')"
                ),
                {"data": b"\x89PNG\r\n\x1a\n"},
            )
        with engine.begin() as conn:
            assert conn.execute(text("SELECT count(*) FROM generatedimage")).scalar() == 1
            conn.execute(text("DELETE FROM message WHERE id = 1"))
            assert conn.execute(text("SELECT count(*) FROM generatedimage")).scalar() == 0
            assert conn.execute(text("SELECT count(*) FROM conversation")).scalar() == 1
        with engine.begin() as conn:
            command.downgrade(migrate.alembic_config(url, conn), "0004")
            assert "generatedimage" not in set(inspect(conn).get_table_names())
    finally:
        engine.dispose()
