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

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Integer, String, bindparam, case, insert, literal, update
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


def _released(units: int):
    """SQL: the wallet's hold after `units` of it are let go (never below 0)."""
    held = col(Wallet.reserved)
    return case((held >= units, held - units), else_=literal(0))


# The statements of every send, built once with named parameters: building SQLAlchemy
# expressions anew took about as long as the round trips themselves (bench/admission.py).
_used_today = case(
    (col(Wallet.free_day) == bindparam("w_day", type_=String), col(Wallet.free_used)),
    else_=literal(0),
)
_daily = bindparam("w_daily", type_=Integer)
_held = bindparam("w_held", type_=Integer)
# One UPDATE: a new day starts the free units again, and the hold is taken only if the day's
# free units left plus the balance, minus what other answers in flight hold, still cover it.
_RESERVE = (
    update(Wallet)
    .where(
        col(Wallet.user_id) == bindparam("w_user", type_=Integer),
        case((_used_today < _daily, _daily - _used_today), else_=literal(0))
        + col(Wallet.balance)
        - col(Wallet.reserved)
        >= _held,
    )
    .values(
        free_day=bindparam("w_day"), free_used=_used_today, reserved=col(Wallet.reserved) + _held
    )
)
_LEDGER_ROW = insert(UsageEntry).returning(col(UsageEntry.id))
_SETTLE_ROW = update(UsageEntry).where(
    col(UsageEntry.id) == bindparam("e_id", type_=Integer), col(UsageEntry.status) == "reserved"
)
_charge = bindparam("w_charge", type_=Integer)
_left = case((col(Wallet.free_used) < _daily, _daily - col(Wallet.free_used)), else_=literal(0))
_free_part = case((_charge <= _left, _charge), else_=_left)
_units = bindparam("w_units", type_=Integer)
# Every right-hand side reads the row as it was, so free and balance split the charge
# consistently (PostgreSQL and SQLite both evaluate SET against the old row).
_CHARGE = (
    update(Wallet)
    .where(col(Wallet.user_id) == bindparam("w_user", type_=Integer))
    .values(
        reserved=case(
            (col(Wallet.reserved) >= _units, col(Wallet.reserved) - _units), else_=literal(0)
        ),
        free_used=col(Wallet.free_used) + _free_part,
        balance=col(Wallet.balance) - (_charge - _free_part),
    )
)


def _run(session: Session, statement, params: Mapping[str, object]):
    """Runs one of the statements above in the session's transaction, as plain SQL (no ORM
    bookkeeping), and expires the user's wallet if the session holds it, so it is read again."""
    result = session.connection().execute(statement, params)
    user_id = params.get("w_user")
    if user_id is not None:
        loaded = session.identity_map.get(session.identity_key(Wallet, user_id))
        if loaded is not None:
            session.expire(loaded)
    return result


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
        held = max(0, units)
        params = {
            "w_user": user_id,
            "w_day": today(settings, now),
            "w_daily": terms.daily_free,
            "w_held": held,
        }
        if _run(session, _RESERVE, params).rowcount != 1:
            raise _refusal(session, user_id=user_id, terms=terms)
    entry_id = (
        session.connection()
        .execute(
            _LEDGER_ROW,
            {
                "user_id": user_id,
                "created_at": now,
                "source": source,
                "provider": provider,
                "model": model,
                "conversation_id": conversation_id,
                "multiplier": terms.multiplier(model),
                "reserved": held,
                **_NEW_ROW,
            },
        )
        .scalar_one()
    )
    assert entry_id is not None
    return Hold(entry_id=entry_id, user_id=user_id, units=held, terms=terms, model=model)


# The columns of a fresh ledger row that the model's defaults fill in (a plain INSERT does not).
_NEW_ROW = {
    "prompt_tokens": 0,
    "completion_tokens": 0,
    "reasoning_tokens": 0,
    "images": 0,
    "estimated": False,
    "status": "reserved",
    "charge": 0,
}  # first_token_ms and error_code are left out: NULL until the call is settled


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
    marked = _run(
        session,
        _SETTLE_ROW,
        {
            "e_id": hold.entry_id,
            "status": "refunded" if refunded else "settled",
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
            "reasoning_tokens": usage.reasoning_tokens,
            "images": usage.images,
            "estimated": usage.estimated,
            "first_token_ms": usage.first_token_ms,
            "error_code": usage.error_code,
            "charge": charge,
        },
    )
    if marked.rowcount != 1:
        return 0
    if hold.terms.daily_free is None:
        return charge
    params = {
        "w_user": hold.user_id,
        "w_daily": hold.terms.daily_free,
        "w_charge": charge,
        "w_units": hold.units,
    }
    _run(session, _CHARGE, params)
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
