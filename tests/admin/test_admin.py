"""The admin domain against real databases: who is an admin, what an admin may change (each with
its audit row), the user list, and the dashboard's grouped figures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from chatapp.admin import access, audit, dashboard
from chatapp.admin import users as admin_users
from chatapp.admin.__main__ import main as admin_cli
from chatapp.auth import accounts, sessions
from chatapp.billing import plans, usage, wallet
from chatapp.billing.wallet import Usage
from chatapp.core.config import load_settings
from chatapp.errors import AuthError, Forbidden, InvalidInput, NotFound
from chatapp.models import AuditEvent, UsageEntry, User, Wallet

NOW = datetime(2026, 12, 4, 6, 0, tzinfo=UTC)  # 14:00 in China


@pytest.fixture
def settings(tmp_path):
    return load_settings(
        {
            "CHATAPP_DATA_DIR": str(tmp_path),
            "ADMIN_OPENIDS": "boss",
            "BILLING_DEFAULT_DAILY_FREE": "1000",
        }
    )


def _call(session: Session, settings, user_id: int, *, model: str, tokens: int, at: datetime, **kw):
    _, terms = plans.plan_of(session, settings=settings, user_id=user_id, now=at)
    hold = wallet.reserve(
        session,
        settings=settings,
        user_id=user_id,
        terms=terms,
        model=model,
        units=0,
        now=at,
        provider=kw.pop("provider", "main"),
    )
    wallet.settle(
        session,
        hold=hold,
        usage=Usage(prompt_tokens=tokens // 2, completion_tokens=tokens - tokens // 2, **kw),
    )


def test_an_admin_comes_from_admin_openids_or_the_cli(session, settings, users):
    alice, _ = users
    boss = accounts.upsert_user(session, settings=settings, openid="boss")
    session.commit()
    assert boss.id is not None and boss.is_admin
    assert access.is_admin(session, settings=settings, user_id=boss.id)
    with pytest.raises(Forbidden):
        access.require_admin(session, settings=settings, user_id=alice)
    access.set_granted(session, settings=settings, openid="alice", granted=True)
    session.commit()
    access.require_admin(session, settings=settings, user_id=alice)
    # A login re-reads ADMIN_OPENIDS but keeps what the CLI granted.
    assert accounts.upsert_user(session, settings=settings, openid="alice").is_admin
    access.set_granted(session, settings=settings, openid="alice", granted=False)
    session.commit()
    assert not access.is_admin(session, settings=settings, user_id=alice)


def test_the_cli_grants_and_revokes_by_openid(
    engine, session, settings, users, capsys, monkeypatch
):
    from chatapp.core import config

    monkeypatch.setattr(config, "get_settings", lambda: settings)
    import chatapp.admin.__main__ as cli

    monkeypatch.setattr(cli, "get_settings", lambda: settings)
    assert admin_cli(["grant", "bob"]) == 0
    assert "is an admin now" in capsys.readouterr().out
    row = session.exec(select(User).where(User.openid == "bob")).one()
    session.refresh(row)
    assert row.admin_granted and row.is_admin
    assert admin_cli(["revoke", "bob"]) == 0
    assert admin_cli(["grant", "nobody"]) == 2
    assert "has logged in yet" in capsys.readouterr().err
    actions = [e.action for e in session.exec(select(AuditEvent)).all()]
    assert actions == ["admin.grant", "admin.revoke"]


def test_admin_changes_are_applied_and_audited(session, settings, users):
    alice, bob = users
    pro = plans.save_plan(session, plan_id=None, data=plans.parse_plan({"name": "专业版"}))
    assert pro.id is not None
    admin_users.set_status(session, settings=settings, actor_id=bob, user_id=alice, frozen=True)
    admin_users.set_plan(session, settings=settings, actor_id=bob, user_id=alice, plan_id=pro.id)
    balance = admin_users.adjust_balance(
        session, settings=settings, actor_id=bob, user_id=alice, amount=300, reason="活动赠送"
    )
    session.commit()
    row = session.get(Wallet, alice)
    assert row is not None and (row.status, row.plan_id, row.balance) == ("frozen", pro.id, 300)
    assert balance == 300
    events = audit.events(session)
    assert [e.action for e in events] == ["user.balance", "user.plan", "user.freeze"]
    assert events[0].actor == "bob"
    assert "活动赠送" in audit.export_csv(events)
    with pytest.raises(InvalidInput):
        admin_users.adjust_balance(
            session, settings=settings, actor_id=bob, user_id=alice, amount=5, reason="  "
        )
    with pytest.raises(NotFound):
        admin_users.set_plan(session, settings=settings, actor_id=bob, user_id=alice, plan_id=999)


def test_revoking_sessions_logs_the_user_out(session, settings, users):
    alice, bob = users
    token = sessions.issue_session(session, settings=settings, user_id=alice)
    session.commit()
    assert admin_users.revoke_sessions(session, actor_id=bob, user_id=alice) == 1
    session.commit()
    with pytest.raises(AuthError):
        sessions.verify_session(session, settings=settings, token=token)


def test_the_user_list_searches_and_sorts_by_tokens(session, settings, users):
    alice, bob = users
    _call(session, settings, alice, model="m", tokens=100, at=datetime.now(UTC))
    _call(session, settings, bob, model="m", tokens=900, at=datetime.now(UTC))
    session.commit()
    rows = admin_users.list_users(session, settings=settings, sort="tokens")
    assert [r.openid for r in rows] == ["bob", "alice"] and rows[0].tokens_30d == 900
    assert [r.openid for r in admin_users.list_users(session, settings=settings, query="ali")] == [
        "alice"
    ]
    detail = admin_users.user_detail(session, settings=settings, user_id=alice)
    assert detail.row.tokens_30d == 100 and detail.conversations == 0


def test_the_dashboard_groups_by_the_operators_day_and_model(session, settings, users):
    alice, bob = users
    # 23:30 UTC on the 3rd is 07:30 on the 4th in China: the same operator day as NOW.
    early = datetime(2026, 12, 3, 23, 30, tzinfo=UTC)
    _call(session, settings, alice, model="small", tokens=10, at=early, first_token_ms=100)
    _call(session, settings, alice, model="big", tokens=30, at=NOW, first_token_ms=300)
    _call(
        session,
        settings,
        bob,
        model="small",
        tokens=20,
        at=NOW - timedelta(days=1),
        error_code="timeout",
        provider="p2",
    )
    session.commit()
    series = dashboard.tokens_by_day_and_model(session, settings=settings, days=7, now=NOW)
    assert series == [
        {
            "day": "2026-12-03",
            "model": "small",
            "messages": 1,
            "prompt_tokens": 10,
            "completion_tokens": 10,
            "active_users": 1,
        },
        {
            "day": "2026-12-04",
            "model": "big",
            "messages": 1,
            "prompt_tokens": 15,
            "completion_tokens": 15,
            "active_users": 1,
        },
        {
            "day": "2026-12-04",
            "model": "small",
            "messages": 1,
            "prompt_tokens": 5,
            "completion_tokens": 5,
            "active_users": 1,
        },
    ]
    head = dashboard.summary(session, settings=settings, now=NOW)
    assert (head.active_today, head.active_7d, head.calls_today, head.tokens_today) == (1, 2, 2, 40)
    assert head.first_token_p50_ms == 300 and head.first_token_p95_ms == 300
    hours = dashboard.calls_by_hour(session, settings=settings, now=NOW)
    assert len(hours) == 24 and hours[7]["messages"] == 1 and hours[14]["messages"] == 2
    assert dashboard.errors_by_provider(session, now=NOW) == [
        {"provider": "p2", "error": "timeout", "count": 1}
    ]
    assert [u["tokens"] for u in dashboard.top_users(session, now=NOW)] == [40, 20]


def test_my_usage_shows_today_the_month_and_thirty_days(session, settings, users):
    alice, _ = users
    _call(session, settings, alice, model="small", tokens=10, at=NOW - timedelta(days=2))
    _call(session, settings, alice, model="small", tokens=30, at=NOW, estimated=True)
    session.commit()
    mine = usage.my_usage(session, settings=settings, user_id=alice, now=NOW)
    assert mine.quota and mine.free_daily == 1000
    assert (mine.today_tokens, mine.month_tokens) == (30, 40)
    assert mine.estimated
    assert len(mine.days) == 30 and mine.days[-1] == {"day": "12-04", "tokens": 30}
    assert mine.by_model[0].model == "small" and mine.by_model[0].calls == 2
    assert session.exec(select(UsageEntry)).all()
