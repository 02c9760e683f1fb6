"""Charging against real databases: reserve, settle, refund, the day's free units, and parallel
sends of one user that must not spend what is not there."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from chatapp.billing import plans, wallet
from chatapp.billing.plans import PlanTerms
from chatapp.billing.wallet import QuotaRefused, Usage
from chatapp.core.config import load_settings
from chatapp.models import Plan, UsageEntry, Wallet

# 10:00 in China on 2026-12-04; 16:30 UTC is already the 5th there.
MORNING = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)
NEXT_DAY = datetime(2026, 12, 4, 16, 30, tzinfo=UTC)


@pytest.fixture
def settings(tmp_path):
    return load_settings({"CHATAPP_DATA_DIR": str(tmp_path), "BILLING_DEFAULT_DAILY_FREE": "100"})


def _terms(session: Session, settings, user_id: int) -> PlanTerms:
    _, terms = plans.plan_of(session, settings=settings, user_id=user_id, now=MORNING)
    session.commit()
    return terms


def _wallet(session: Session, user_id: int) -> Wallet:
    row = session.get(Wallet, user_id, populate_existing=True)
    assert row is not None
    return row


def test_a_new_user_gets_the_default_plan_with_the_operators_free_units(session, settings, users):
    alice, _ = users
    row, terms = plans.plan_of(session, settings=settings, user_id=alice)
    assert terms.name == plans.DEFAULT_PLAN_NAME and terms.daily_free == 100
    assert row.balance == 0 and row.status == "active"
    # Asking again finds the same rows, not new ones.
    plans.plan_of(session, settings=settings, user_id=alice)
    assert len(session.exec(select(Plan)).all()) == 1


def test_free_units_pay_first_then_the_balance(session, settings, users):
    alice, _ = users
    terms = _terms(session, settings, alice)
    _wallet(session, alice).balance = 50
    session.commit()
    hold = wallet.reserve(
        session, settings=settings, user_id=alice, terms=terms, model="m", units=120, now=MORNING
    )
    assert _wallet(session, alice).reserved == 120
    charged = wallet.settle(session, hold=hold, usage=Usage(prompt_tokens=30, completion_tokens=90))
    session.commit()
    row = _wallet(session, alice)
    assert charged == 120
    assert (row.free_used, row.balance, row.reserved) == (100, 30, 0)
    entry = session.get(UsageEntry, hold.entry_id)
    assert entry is not None and entry.status == "settled" and entry.charge == 120


def test_settling_twice_charges_once(session, settings, users):
    alice, _ = users
    terms = _terms(session, settings, alice)
    hold = wallet.reserve(
        session, settings=settings, user_id=alice, terms=terms, model="m", units=10, now=MORNING
    )
    usage = Usage(prompt_tokens=5, completion_tokens=5)
    assert wallet.settle(session, hold=hold, usage=usage) == 10
    assert wallet.settle(session, hold=hold, usage=usage) == 0
    session.commit()
    assert _wallet(session, alice).free_used == 10


def test_a_refund_releases_the_hold_and_charges_nothing(session, settings, users):
    alice, _ = users
    terms = _terms(session, settings, alice)
    hold = wallet.reserve(
        session, settings=settings, user_id=alice, terms=terms, model="m", units=80, now=MORNING
    )
    wallet.refund(session, hold=hold, usage=Usage(prompt_tokens=40))
    session.commit()
    row = _wallet(session, alice)
    assert (row.free_used, row.reserved) == (0, 0)
    entry = session.get(UsageEntry, hold.entry_id)
    assert entry is not None and (entry.status, entry.charge, entry.prompt_tokens) == (
        "refunded",
        0,
        40,
    )


def test_used_up_free_units_are_refused_until_midnight_in_china(session, settings, users):
    alice, _ = users
    terms = _terms(session, settings, alice)
    hold = wallet.reserve(
        session, settings=settings, user_id=alice, terms=terms, model="m", units=100, now=MORNING
    )
    wallet.settle(session, hold=hold, usage=Usage(completion_tokens=100))
    session.commit()
    with pytest.raises(QuotaRefused) as refused:
        wallet.reserve(
            session, settings=settings, user_id=alice, terms=terms, model="m", units=1, now=MORNING
        )
    assert refused.value.reason == "quota_daily"
    session.rollback()
    # 00:30 the next day in Asia/Shanghai: the free units are back.
    wallet.reserve(
        session, settings=settings, user_id=alice, terms=terms, model="m", units=100, now=NEXT_DAY
    )
    session.commit()
    assert _wallet(session, alice).free_used == 0


def test_a_price_ratio_multiplies_the_charge(session, settings, users):
    alice, _ = users
    plan = plans.save_plan(
        session,
        plan_id=None,
        data=plans.parse_plan({"name": "专业版", "daily_free": "1000", "multipliers": "big=2.5"}),
    )
    terms = plans.terms(plan)
    _terms(session, settings, alice)
    hold = wallet.reserve(
        session, settings=settings, user_id=alice, terms=terms, model="big", units=25, now=MORNING
    )
    assert (
        wallet.settle(session, hold=hold, usage=Usage(prompt_tokens=3, completion_tokens=7)) == 25
    )


def test_a_plan_without_quota_records_usage_and_never_refuses(session, tmp_path, users):
    alice, _ = users
    settings = load_settings({"CHATAPP_DATA_DIR": str(tmp_path)})
    terms = _terms(session, settings, alice)
    assert terms.daily_free is None
    hold = wallet.reserve(
        session, settings=settings, user_id=alice, terms=terms, model="m", units=10**9
    )
    assert (
        wallet.settle(session, hold=hold, usage=Usage(prompt_tokens=7, completion_tokens=8)) == 15
    )
    session.commit()
    assert _wallet(session, alice).balance == 0
    entry = session.get(UsageEntry, hold.entry_id)
    assert entry is not None and (entry.status, entry.prompt_tokens) == ("settled", 7)


def test_a_stale_reservation_is_released(session, settings, users):
    alice, _ = users
    terms = _terms(session, settings, alice)
    long_ago = datetime.now(UTC) - timedelta(hours=2)
    wallet.reserve(
        session, settings=settings, user_id=alice, terms=terms, model="m", units=60, now=long_ago
    )
    session.commit()
    assert wallet.release_stale(session) == 1
    session.commit()
    assert _wallet(session, alice).reserved == 0
    assert wallet.release_stale(session) == 0


def test_parallel_reservations_never_hold_more_than_there_is(engine, session, settings, users):
    """50 sends at once, from 50 connections, at a wallet that covers 10 of them."""
    alice, _ = users
    terms = _terms(session, settings, alice)
    _wallet(session, alice).balance = 900  # with the 100 free units: 10 answers of 100
    session.commit()
    start = threading.Barrier(50)
    taken: list[int] = []
    refused: list[str] = []

    def send() -> None:
        with Session(engine) as own:
            start.wait()
            try:
                hold = wallet.reserve(
                    own, settings=settings, user_id=alice, terms=terms, model="m", units=100
                )
                own.commit()
                taken.append(hold.entry_id)
            except QuotaRefused as exc:
                own.rollback()
                refused.append(exc.reason)

    threads = [threading.Thread(target=send) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(taken) == 10 and len(refused) == 40
    row = _wallet(session, alice)
    assert row.reserved == 1000
    entries = session.exec(select(UsageEntry).where(UsageEntry.user_id == alice)).all()
    assert sorted(e.id for e in entries) == sorted(taken)
