"""Migration 0003 (plans, wallets, the usage ledger, credits, the audit log) on a database with a
user at 0002: the user keeps working — not a CLI-granted admin, a wallet made at first use — and
the migration goes back down cleanly."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic import command
from sqlalchemy import inspect, text
from sqlmodel import Session

from chatapp.billing import plans
from chatapp.core.config import load_settings
from chatapp.core.db import make_engine
from chatapp.models import User
from chatapp.server import migrate
from testkit.postgres import fresh_pg_database, postgres_reachable

BACKENDS = ["sqlite", "postgres"] if postgres_reachable() else ["sqlite"]


@pytest.fixture(params=BACKENDS)
def url(request, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/migrate.db"
    else:
        with fresh_pg_database("chatapp_m3") as pg:
            yield pg


def test_0003_keeps_existing_users_and_goes_back_down(url: str, tmp_path) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            command.upgrade(migrate.alembic_config(url, conn), "0002")
            false = "false" if conn.dialect.name == "postgresql" else "0"
            conn.execute(
                text(
                    'INSERT INTO "user" (openid, nickname, avatar, is_admin, created_at, '
                    f"last_login_at) VALUES ('o1', 'old', '', {false}, '2026-12-01', "
                    "'2026-12-01')"
                )
            )
            command.upgrade(migrate.alembic_config(url, conn), "0003")
        with Session(engine) as session:
            user = session.get(User, 1)
            assert user is not None and user.admin_granted is False
            settings = load_settings({"CHATAPP_DATA_DIR": str(tmp_path)})
            _, terms = plans.plan_of(session, settings=settings, user_id=1)
            session.commit()
            assert terms.name == plans.DEFAULT_PLAN_NAME and terms.daily_free is None
        with engine.begin() as conn:
            command.downgrade(migrate.alembic_config(url, conn), "0002")
            tables = set(inspect(conn).get_table_names())
            assert not tables & {"plan", "wallet", "usageentry", "auditevent", "redeemcode"}
            assert "admin_granted" not in {c["name"] for c in inspect(conn).get_columns("user")}
    finally:
        engine.dispose()
