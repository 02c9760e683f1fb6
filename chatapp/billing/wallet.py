"""Charging a model call: reserve an estimate before it, settle with the real usage after it.

Each step is one conditional UPDATE, never a read followed by a write, so two sends of one user on
two workers cannot both take the last units:

- `reserve` moves the estimate into `Wallet.reserved` only if the day's free units left plus the
  balance, minus what other answers in flight hold, still cover it — and writes the ledger row
  (`UsageEntry`, status "reserved");
- `settle` turns that row "settled" (only once: the row's status is the guard), releases the hold
  and takes the real charge from the day's free units first, then from the balance;
- `refund` settles with nothing used (a failed call, or one that never reached the model).

A plan without a quota (`daily_free` None) records the same ledger rows — usage is shown to
everyone — and never touches the balance.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, literal, update
from sqlmodel import Session, col, select

from chatapp.billing.plans import PlanTerms, today
from chatapp.core.config import Settings
from chatapp.errors import InvalidInput
from chatapp.models import UsageEntry, Wallet, utcnow

# A reservation no process settled within this long belongs to a process that died: released.
STALE_RESERVATION = timedelta(minutes=30)


class QuotaRefused(InvalidInput):
    """A call the wallet cannot pay for: reason "quota_daily" (the day's free units are used up and
    there is no balance: they come back at midnight) or "quota_balance" (not enough balance)."""


@dataclass(frozen=True)
class Hold:
    """A reservation: the ledger row and the units it holds."""

    entry_id: int
    user_id: int
    units: int
    terms: PlanTerms
    model: str


@dataclass(frozen=True)
class Usage:
    """What a call used, as the provider reported it or as we counted it."""

    prompt_tokens: int = 0
    completion_tokens: int = 0  # reasoning tokens included, as OpenAI counts them
    reasoning_tokens: int = 0
    images: int = 0
    estimated: bool = False
    first_token_ms: int | None = None
    error_code: str | None = None


def _free_left(daily: int):
    """SQL: the day's free units not used yet (never below 0)."""
    used = col(Wallet.free_used)
    return case((used < daily, literal(daily) - used), else_=literal(0))


def _released(units: int):
    """SQL: the wallet's hold after `units` of it are let go (never below 0)."""
    held = col(Wallet.reserved)
    return case((held >= units, held - units), else_=literal(0))


def reserve(
    session: Session,
    *,
    settings: Settings,
    user_id: int,
    terms: PlanTerms,
    model: str,
    units: int,
    source: str = "chat",
    provider: str = "",
    conversation_id: str | None = None,
    now: datetime | None = None,
) -> Hold:
    """Holds `units` for a call about to start and writes its ledger row.

    Raises:
        QuotaRefused: the free units left and the balance do not cover `units`; nothing held.
    """
    now = now or utcnow()
    held = 0
    if terms.daily_free is not None:
        day = today(settings, now)
        # A new day: the free units start again (idempotent; parallel senders agree).
        session.execute(
            update(Wallet)
            .where(col(Wallet.user_id) == user_id, col(Wallet.free_day) != day)
            .values(free_day=day, free_used=0)
        )
        held = max(0, units)
        taken = session.execute(
            update(Wallet)
            .where(
                col(Wallet.user_id) == user_id,
                _free_left(terms.daily_free) + col(Wallet.balance) - col(Wallet.reserved) >= held,
            )
            .values(reserved=col(Wallet.reserved) + held)
        )
        if getattr(taken, "rowcount", 0) != 1:
            raise _refusal(session, user_id=user_id, terms=terms)
    entry = UsageEntry(
        user_id=user_id,
        created_at=now,
        source=source,
        provider=provider,
        model=model,
        conversation_id=conversation_id,
        multiplier=terms.multiplier(model),
        reserved=held,
    )
    session.add(entry)
    session.flush()
    assert entry.id is not None
    return Hold(entry_id=entry.id, user_id=user_id, units=held, terms=terms, model=model)


def settle(
    session: Session, *, hold: Hold, usage: Usage, refunded: bool = False, flat_units: int = 0
) -> int:
    """Charges the real usage of a reserved call and releases its hold; returns the charge.

    `flat_units` are charged besides the tokens, times the model's multiplier too (a price per
    call, such as an image model's per picture). Settling a row twice changes nothing the second
    time (its status is checked in the UPDATE).
    """
    tokens = usage.prompt_tokens + usage.completion_tokens + flat_units
    charge = 0 if refunded else hold.terms.units(hold.model, tokens)
    daily = hold.terms.daily_free
    marked = session.execute(
        update(UsageEntry)
        .where(col(UsageEntry.id) == hold.entry_id, col(UsageEntry.status) == "reserved")
        .values(
            status="refunded" if refunded else "settled",
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            reasoning_tokens=usage.reasoning_tokens,
            images=usage.images,
            estimated=usage.estimated,
            first_token_ms=usage.first_token_ms,
            error_code=usage.error_code,
            charge=charge,
        )
    )
    if getattr(marked, "rowcount", 0) != 1:
        return 0
    if daily is None:
        return charge
    left = _free_left(daily)
    free_part = case((literal(charge) <= left, literal(charge)), else_=left)
    # One UPDATE: every right-hand side reads the row as it was, so free and balance split the
    # charge consistently (PostgreSQL and SQLite both evaluate SET against the old row).
    session.execute(
        update(Wallet)
        .where(col(Wallet.user_id) == hold.user_id)
        .values(
            reserved=_released(hold.units),
            free_used=col(Wallet.free_used) + free_part,
            balance=col(Wallet.balance) - (literal(charge) - free_part),
        )
    )
    return charge


def refund(session: Session, *, hold: Hold, usage: Usage | None = None) -> None:
    """Releases a call's hold without charging (it failed, or never reached the model); the
    tokens it did use, if any, are kept in the ledger for the operator."""
    settle(session, hold=hold, usage=usage or Usage(), refunded=True)


def _refusal(session: Session, *, user_id: int, terms: PlanTerms) -> QuotaRefused:
    row = session.get(Wallet, user_id, populate_existing=True)
    if row is not None and row.balance <= 0 and (terms.daily_free or 0) > 0:
        return QuotaRefused("quota_daily", str(terms.daily_free))
    return QuotaRefused("quota_balance", str(row.balance if row else 0))


def release_stale(session: Session, *, now: datetime | None = None) -> int:
    """Refunds the reservations no process settled within `STALE_RESERVATION` (their process
    died mid-answer); returns how many. Run at start-up beside the stale-answer sweep."""
    cutoff = (now or utcnow()) - STALE_RESERVATION
    rows = session.exec(
        select(UsageEntry.id, UsageEntry.user_id, UsageEntry.reserved)
        .where(col(UsageEntry.status) == "reserved", col(UsageEntry.created_at) < cutoff)
        .limit(10_000)
    ).all()
    released = 0
    for entry_id, user_id, units in rows:
        assert entry_id is not None
        marked = session.execute(
            update(UsageEntry)
            .where(col(UsageEntry.id) == entry_id, col(UsageEntry.status) == "reserved")
            .values(status="refunded")
        )
        if getattr(marked, "rowcount", 0) != 1:
            continue
        session.execute(
            update(Wallet).where(col(Wallet.user_id) == user_id).values(reserved=_released(units))
        )
        released += 1
    return released
