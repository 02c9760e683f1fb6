"""Redeem codes and credits against real databases: a code works once, for one user, before its
expiry; plan days add up; a credit with the same reference is booked once; wrong codes are
counted per user."""

from __future__ import annotations

import asyncio
import csv
import io
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from chatapp.billing import credits, plans
from chatapp.billing.credits import RedeemGuard
from chatapp.core.config import load_settings
from chatapp.errors import InvalidInput
from chatapp.models import BalanceEntry, RedeemCode, Wallet


@pytest.fixture
def settings(tmp_path):
    return load_settings({"CHATAPP_DATA_DIR": str(tmp_path), "BILLING_DEFAULT_DAILY_FREE": "100"})


def _balance(session: Session, user_id: int) -> int:
    """The user's balance (0 before they have a wallet)."""
    row = session.get(Wallet, user_id, populate_existing=True)
    return row.balance if row is not None else 0


def test_a_code_credits_once_and_is_stored_only_as_a_hash(session, settings, users):
    alice, bob = users
    _, codes = credits.create_batch(session, settings=settings, name="双十二", count=3, amount=500)
    session.commit()
    stored = {r.code_hash for r in session.exec(select(RedeemCode)).all()}
    assert len(stored) == 3 and not stored & {c.replace("-", "") for c in codes}
    got = credits.redeem(session, settings=settings, user_id=alice, raw_code=codes[0].lower())
    session.commit()
    assert got.amount == 500 and _balance(session, alice) == 500
    with pytest.raises(InvalidInput) as again:
        credits.redeem(session, settings=settings, user_id=bob, raw_code=codes[0])
    assert again.value.reason == "unknown_redeem_code"
    session.rollback()
    assert _balance(session, alice) == 500


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("ABCD", "malformed_redeem_code"),
        ("ABCD-EFGH-JKMN-PQR0", "malformed_redeem_code"),  # 0 is not in the alphabet
        ("ABCD-EFGH-JKMN-PQRS", "unknown_redeem_code"),
        ("x" * 100, "malformed_redeem_code"),
    ],
)
def test_a_wrong_code_says_why(session, settings, users, typed, reason):
    with pytest.raises(InvalidInput) as err:
        credits.redeem(session, settings=settings, user_id=users[0], raw_code=typed)
    assert err.value.reason == reason


def test_full_width_and_spaces_are_forgiven(session, settings, users):
    _, codes = credits.create_batch(session, settings=settings, name="", count=1, amount=1)
    typed = " ".join(codes[0].replace("-", "")).translate(
        {ord(c): ord(c) + 0xFEE0 for c in "ABCDEFGHJKMNPQRSTUVWXYZ23456789"}
    )
    assert credits.redeem(session, settings=settings, user_id=users[0], raw_code=typed).amount == 1


def test_an_expired_code_is_refused(session, settings, users):
    past = datetime.now(UTC) - timedelta(days=1)
    _, codes = credits.create_batch(
        session, settings=settings, name="", count=1, amount=9, expires_at=past
    )
    session.commit()
    with pytest.raises(InvalidInput) as err:
        credits.redeem(session, settings=settings, user_id=users[0], raw_code=codes[0])
    assert err.value.reason == "expired_redeem_code"


def test_plan_days_switch_the_plan_and_add_up(session, settings, users):
    alice, _ = users
    pro = plans.save_plan(
        session, plan_id=None, data=plans.parse_plan({"name": "专业版", "daily_free": "5000"})
    )
    assert pro.id is not None
    _, codes = credits.create_batch(
        session, settings=settings, name="", count=2, plan_id=pro.id, plan_days=30
    )
    session.commit()
    now = datetime(2026, 12, 4, tzinfo=UTC)
    first = credits.redeem(session, settings=settings, user_id=alice, raw_code=codes[0], now=now)
    credits.redeem(session, settings=settings, user_id=alice, raw_code=codes[1], now=now)
    session.commit()
    assert first.plan_name == "专业版" and first.plan_days == 30
    _, terms = plans.plan_of(session, settings=settings, user_id=alice, now=now)
    assert terms.name == "专业版"
    # 60 days later the plan has run out and the default plan is back.
    _, later = plans.plan_of(
        session, settings=settings, user_id=alice, now=now + timedelta(days=60, seconds=1)
    )
    assert later.name == plans.DEFAULT_PLAN_NAME


def test_a_credit_with_the_same_reference_is_booked_once(session, settings, users):
    alice, _ = users
    credits.credit(session, settings=settings, user_id=alice, kind="payment", ref="wx-1", amount=70)
    session.commit()
    with pytest.raises(InvalidInput) as err:
        credits.credit(
            session, settings=settings, user_id=alice, kind="payment", ref="wx-1", amount=70
        )
    assert err.value.reason == "already_credited"
    session.rollback()
    assert _balance(session, alice) == 70
    assert len(session.exec(select(BalanceEntry)).all()) == 1


def test_one_code_redeemed_by_two_users_at_once_credits_one(engine, session, settings, users):
    _, codes = credits.create_batch(session, settings=settings, name="", count=1, amount=100)
    session.commit()
    start = threading.Barrier(2)
    results: list[str] = []

    def try_code(user_id: int) -> None:
        with Session(engine) as own:
            start.wait()
            try:
                credits.redeem(own, settings=settings, user_id=user_id, raw_code=codes[0])
                own.commit()
                results.append("ok")
            except InvalidInput as exc:
                own.rollback()
                results.append(exc.reason)

    threads = [threading.Thread(target=try_code, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results) == ["ok", "unknown_redeem_code"]
    assert _balance(session, users[0]) + _balance(session, users[1]) == 100


def test_the_csv_holds_every_code_of_the_batch(session, settings):
    batch, codes = credits.create_batch(session, settings=settings, name="b", count=5, amount=3)
    rows = list(csv.DictReader(io.StringIO(credits.codes_csv(batch, codes))))
    assert [r["code"] for r in rows] == codes and {r["units"] for r in rows} == {"3"}


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"count": 0, "amount": 5}, "redeem_bad_count"),
        ({"count": 10_001, "amount": 5}, "redeem_bad_count"),
        ({"count": 1, "amount": 0}, "redeem_bad_value"),
        ({"count": 1, "amount": -5}, "redeem_bad_value"),
    ],
)
def test_a_bad_batch_is_refused(session, settings, fields, reason):
    with pytest.raises(InvalidInput) as err:
        credits.create_batch(session, settings=settings, name="", **fields)
    assert err.value.reason == reason


def test_wrong_codes_lock_the_user_for_the_hour(settings):
    guard = RedeemGuard(settings)

    async def scenario() -> str:
        for _ in range(credits.WRONG_CODES_PER_HOUR):
            await guard.check(7)
            await guard.wrong(7)
        await guard.check(8)  # another user is not affected
        try:
            await guard.check(7)
        except InvalidInput as exc:
            return exc.reason
        return "not locked"

    assert asyncio.run(scenario()) == "redeem_locked"
