"""The operator console's use cases against real databases: a non-admin is refused before
anything is read, every change writes its audit row, and the forms' mistakes are named."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from chatapp.admin import console, offers
from chatapp.auth import accounts
from chatapp.billing import credits, plans, sensitive
from chatapp.core.config import load_settings
from chatapp.errors import Forbidden, InvalidInput
from chatapp.models import AuditEvent, Wallet


@pytest.fixture
def settings(tmp_path):
    return load_settings({"CHATAPP_DATA_DIR": str(tmp_path), "ADMIN_OPENIDS": "boss"})


@pytest.fixture
def boss(session: Session, settings) -> int:
    user = accounts.upsert_user(session, settings=settings, openid="boss")
    session.commit()
    assert user.id is not None
    return user.id


def _actions(session: Session) -> list[str]:
    return [e.action for e in session.exec(select(AuditEvent).order_by(AuditEvent.id)).all()]


@pytest.mark.parametrize(
    ("use_case", "kwargs"),
    [
        (console.load_dashboard, {}),
        (console.find_users, {"query": "", "sort": "recent", "offset": 0}),
        (console.audit_page, {"action": "", "before_id": None}),
        (console.audit_export, {"action": ""}),
        (offers.list_plans, {}),
        (offers.load_words, {}),
        (offers.list_batches, {}),
        (offers.save_plan, {"plan_id": None, "fields": {"name": "x"}}),
        (offers.create_codes, {"fields": {"count": "1", "amount": "5"}}),
    ],
)
def test_a_non_admin_is_refused_before_anything_happens(session, settings, users, use_case, kwargs):
    alice, _ = users
    with pytest.raises(Forbidden):
        use_case(session, settings=settings, actor_id=alice, **kwargs)
    assert _actions(session) == []


def test_every_change_is_audited(session, settings, boss, users):
    alice, _ = users
    plan = offers.save_plan(
        session,
        settings=settings,
        actor_id=boss,
        plan_id=None,
        fields={"name": "Pro", "daily_free": "", "models": "a, b", "multipliers": "a=2"},
    )
    assert (plan.daily_free, plan.models, plan.multipliers) == ("", "a, b", "a=2")
    offers.make_default(session, settings=settings, actor_id=boss, plan_id=plan.id)
    console.move_user(session, settings=settings, actor_id=boss, user_id=alice, plan_id=plan.id)
    console.freeze_user(session, settings=settings, actor_id=boss, user_id=alice, frozen=True)
    assert (
        console.credit_user(
            session, settings=settings, actor_id=boss, user_id=alice, amount="+1,500", reason="gift"
        )
        == 1500
    )
    view = offers.save_words(
        session,
        settings=settings,
        actor_id=boss,
        text="甲\n\n乙\n甲",
        refuse_input=True,
        mask_output=False,
    )
    assert (view.count, view.version) == (2, 1)
    made = offers.create_codes(
        session, settings=settings, actor_id=boss, fields={"count": "3", "amount": "100"}
    )
    assert len(made.codes) == 3 and made.csv.count("\n") == 4
    assert console.log_user_out(session, settings=settings, actor_id=boss, user_id=alice) == 0
    session.commit()
    wallet = session.get(Wallet, alice)
    assert wallet is not None and (wallet.status, wallet.plan_id) == ("frozen", plan.id)
    assert plans.default_plan(session, settings=settings).id == plan.id
    assert _actions(session) == [
        "plan.create",
        "plan.default",
        "user.plan",
        "user.freeze",
        "user.balance",
        "words.save",
        "redeem.batch",
        "user.logout_all",
    ]
    rows = console.audit_page(session, settings=settings, actor_id=boss, action="", before_id=None)
    assert rows[0].action == "user.logout_all"  # newest first


def test_a_used_code_counts_in_its_batch(session, settings, boss, users):
    alice, _ = users
    made = offers.create_codes(
        session,
        settings=settings,
        actor_id=boss,
        fields={"name": "双十二", "count": "2", "amount": "9"},
    )
    credits.redeem(session, settings=settings, user_id=alice, raw_code=made.codes[0])
    session.commit()
    (batch,) = offers.list_batches(session, settings=settings, actor_id=boss)
    assert (batch.name, batch.used, batch.total, batch.amount) == ("双十二", 1, 2, 9)


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"count": "lots", "amount": "5"}, "redeem_bad_count"),
        ({"count": "0", "amount": "5"}, "redeem_bad_count"),
        ({"count": "2", "amount": ""}, "redeem_bad_value"),
        ({"count": "2", "amount": "5", "expires": "tomorrow"}, "redeem_bad_expiry"),
        ({"count": "2", "amount": "5", "expires": "2001-01-01"}, "redeem_bad_expiry"),
    ],
)
def test_a_bad_batch_form_is_named(session, settings, boss, fields, reason):
    with pytest.raises(InvalidInput) as caught:
        offers.create_codes(session, settings=settings, actor_id=boss, fields=fields)
    assert caught.value.reason == reason


def test_a_code_expires_at_the_end_of_its_day(session, settings, boss):
    day = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
    made = offers.create_codes(
        session,
        settings=settings,
        actor_id=boss,
        fields={"count": "1", "amount": "1", "expires": day},
    )
    assert made.batch.expires == day


@pytest.mark.parametrize(("amount", "reason"), [("ten", "bad_amount"), ("0", "bad_amount")])
def test_a_bad_balance_change_is_named(session, settings, boss, users, amount, reason):
    with pytest.raises(InvalidInput) as caught:
        console.credit_user(
            session, settings=settings, actor_id=boss, user_id=users[0], amount=amount, reason="r"
        )
    assert caught.value.reason == reason


def test_a_too_long_word_names_its_line(session, settings, boss):
    with pytest.raises(InvalidInput) as caught:
        offers.save_words(
            session,
            settings=settings,
            actor_id=boss,
            text="ok\n" + "长" * 65,
            refuse_input=True,
            mask_output=True,
        )
    assert (caught.value.reason, caught.value.detail) == ("word_too_long", "2")
    assert sensitive.policy(session).version == 0


def test_the_stacked_chart_has_every_model_on_every_day():
    rows = [
        {"day": "2026-12-03", "model": "a", "prompt_tokens": 1, "completion_tokens": 2},
        {"day": "2026-12-04", "model": "b", "prompt_tokens": 5, "completion_tokens": 0},
    ]
    table, models = console.stacked_by_model(rows, days=["2026-12-02", "2026-12-03", "2026-12-04"])
    assert models == ["a", "b"]
    assert table == [
        {"day": "12-02", "a": 0, "b": 0},
        {"day": "12-03", "a": 3, "b": 0},
        {"day": "12-04", "a": 0, "b": 5},
    ]
