"""The door of every model call, on real databases: the chain refuses in order and audits it in
a transaction of its own; a passing call holds its estimate; a plan's own send rate counts."""

from __future__ import annotations

import pytest
from sqlalchemy import update
from sqlmodel import select

from chatapp.billing import gate, plans, sensitive
from chatapp.billing.rules import Refused
from chatapp.core.config import load_settings
from chatapp.models import AuditEvent, Wallet


@pytest.fixture
def settings(tmp_path):
    return load_settings({"CHATAPP_DATA_DIR": str(tmp_path), "BILLING_DEFAULT_DAILY_FREE": "1000"})


@pytest.fixture(autouse=True)
def _fresh_rate(monkeypatch):
    monkeypatch.setattr(gate, "_rate", None)


def _admit(session, settings, user_id, **kw):
    args = {
        "model": "m",
        "text": "你好",
        "prompt_tokens": 100,
        "reply_tokens": 200,
        "max_message_chars": 1000,
    }
    args.update(kw)
    return gate.admit_call(session, settings=settings, user_id=user_id, **args)


def _audit(session) -> list[tuple[str, str]]:
    return [(e.target, e.detail) for e in session.exec(select(AuditEvent)).all()]


def test_a_passing_call_holds_its_estimate(session, settings, users):
    alice, _ = users
    hold = _admit(session, settings, alice)
    session.commit()
    assert hold.units == 300
    row = session.get(Wallet, alice)
    assert row is not None and row.reserved == 300


def test_a_refusal_is_audited_after_the_call_is_rolled_back(session, settings, users):
    alice, _ = users
    plans.wallet(session, settings=settings, user_id=alice)
    session.execute(update(Wallet).values(status="frozen"))
    session.commit()
    with pytest.raises(Refused) as refused:
        _admit(session, settings, alice)
    session.rollback()
    assert refused.value.refusal.reason == "account_frozen"
    gate.record_refusal(alice, refused.value.refusal)
    assert [t for t, _ in _audit(session)] == ["account_status"]


def test_sensitive_words_and_size_and_quota_refuse_in_order(session, settings, users):
    alice, _ = users
    sensitive.save_words(
        session, words=["机密"], refuse_input=True, mask_output=True, actor_id=None
    )
    session.commit()
    with pytest.raises(Refused) as words:
        _admit(session, settings, alice, text="这是机密" + "字" * 2000)
    assert words.value.refusal.rule == "sensitive_words"
    with pytest.raises(Refused) as size:
        _admit(session, settings, alice, text="字" * 2000)
    assert size.value.refusal.rule == "message_size"
    with pytest.raises(Refused) as quota:
        _admit(session, settings, alice, reply_tokens=5000)
    assert quota.value.refusal.reason == "quota_balance"  # free units left, but not 5,100


def test_a_plans_own_send_rate_is_counted(session, settings, users):
    alice, _ = users
    slow = plans.save_plan(
        session,
        plan_id=None,
        data=plans.parse_plan({"name": "慢", "sends_per_minute": "2"}),
    )
    row = plans.wallet(session, settings=settings, user_id=alice)
    row.plan_id = slow.id or 0
    session.add(row)
    session.commit()
    _admit(session, settings, alice)
    _admit(session, settings, alice)
    with pytest.raises(Refused) as third:
        _admit(session, settings, alice)
    assert third.value.refusal.reason == "send_rate_limited"
    assert third.value.refusal.params["n"] == "2"
