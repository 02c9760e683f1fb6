"""Migration 0006 (the daily usage rollup) on a database at 0005 with a user and a ledger row:
the dashboard's series reads through the new table, and the migration goes back down cleanly."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlmodel import Session, select

from chatapp.billing import rollup
from chatapp.core.db import make_engine
from chatapp.models import UsageDay
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


def test_0006_rolls_up_existing_usage_and_goes_back_down(url: str) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            command.upgrade(migrate.alembic_config(url, conn), "0005")
            false = "false" if conn.dialect.name == "postgresql" else "0"
            conn.execute(
                text(
                    'INSERT INTO "user" (openid, nickname, avatar, is_admin, admin_granted, '
                    f"created_at, last_login_at) VALUES ('o1', 'old', '', {false}, {false}, "
                    "'2026-12-01', '2026-12-01')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO usageentry (user_id, created_at, source, provider, model, "
                    "prompt_tokens, completion_tokens, reasoning_tokens, images, estimated, "
                    "status, multiplier, reserved, charge) VALUES (1, '2026-12-02 04:00:00', "
                    f"'chat', 'p', 'glm-4', 40, 2, 0, 0, {false}, 'settled', 1.0, 0, 42)"
                )
            )
            command.upgrade(migrate.alembic_config(url, conn), "0006")
        with Session(engine) as session:
            rows = rollup.per_day_and_model(
                session,
                zone="Asia/Shanghai",
                first_day=date(2026, 12, 1),
                now=datetime(2026, 12, 4, 2, 0, tzinfo=UTC),
            )
            session.commit()
            assert rows == [rollup.DayModel("2026-12-02", "glm-4", 1, 40, 2, 1)]
            stored = session.exec(select(UsageDay)).one()
            assert (stored.day, stored.calls, stored.active_users) == ("2026-12-02", 1, 1)
        with engine.begin() as conn:
            # The server defaults: a row written without the counts holds zeros.
            conn.execute(
                text("INSERT INTO usageday (zone, day, model) VALUES ('UTC', '2026-12-01', 'x')")
            )
            zeros = conn.execute(
                text("SELECT calls, prompt_tokens, active_users FROM usageday WHERE zone='UTC'")
            ).one()
            assert tuple(zeros) == (0, 0, 0)
            command.downgrade(migrate.alembic_config(url, conn), "0005")
            assert "usageday" not in set(inspect(conn).get_table_names())
    finally:
        engine.dispose()
