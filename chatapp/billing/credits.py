"""Credits to a balance: redeem codes (兑换码), an admin's adjustment, and later payments.

Every credit is a `BalanceEntry` whose `(kind, ref)` is unique — a redeem code's id, an admin
action's id, a payment's order number — so the same credit can never be booked twice, and the
wallet changes in the same transaction by a conditional UPDATE. A payment provider (WeChat Pay)
fits the same shape: its notice becomes `credit(kind="payment", ref=<order no>)`.

Redeem codes are made in batches (a number of units, or some days of a plan, and an expiry), shown
once as CSV, and stored as keyed hashes; each is used once (the UPDATE that marks it is guarded by
`used_at IS NULL`). Wrong codes are counted per user (`RedeemGuard`), as login codes are.
"""

from __future__ import annotations

import csv
import io
import math
import secrets
import time
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from limits import RateLimitItemPerHour
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from chatapp.auth.ratelimit import storage_uri
from chatapp.auth.sessions import keyed_hash
from chatapp.billing import plans
from chatapp.core.config import Settings
from chatapp.errors import InvalidInput
from chatapp.models import BalanceEntry, Plan, RedeemBatch, RedeemCode, Wallet, utcnow

# No 0/O, 1/I/L: a code read off a screen or paper is typed right.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_CHARS = 16  # 16 × log2(31) ≈ 79 bits
MAX_BATCH = 10_000
MAX_UNITS = 10**12
MAX_PLAN_DAYS = 3660
WRONG_CODES_PER_HOUR = 10
_PURPOSE = "redeem-code"


@dataclass(frozen=True)
class Credit:
    """What a redeemed code gave."""

    amount: int
    plan_name: str
    plan_days: int
    balance: int


def new_code() -> str:
    """A random code, grouped by four for reading: ABCD-EFGH-JKMN-PQRS."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_CHARS))
    return "-".join(raw[i : i + 4] for i in range(0, CODE_CHARS, 4))


def normalise_code(raw: str) -> str:
    """A typed code without spaces or dashes, upper case, full width folded.

    Raises:
        InvalidInput: "malformed_redeem_code" when it cannot be a code of ours.
    """
    if not isinstance(raw, str) or len(raw) > 64:
        raise InvalidInput("malformed_redeem_code")
    text = unicodedata.normalize("NFKC", raw).upper()
    code = "".join(c for c in text if c not in " -_\t")
    if len(code) != CODE_CHARS or any(c not in ALPHABET for c in code):
        raise InvalidInput("malformed_redeem_code")
    return code


def _hash(settings: Settings, code: str) -> str:
    return keyed_hash(settings, _PURPOSE, code)


def create_batch(
    session: Session,
    *,
    settings: Settings,
    name: str,
    count: int,
    amount: int = 0,
    plan_id: int | None = None,
    plan_days: int = 0,
    expires_at: datetime | None = None,
    actor_id: int | None = None,
) -> tuple[RedeemBatch, list[str]]:
    """Makes `count` codes worth `amount` units and/or `plan_days` days of a plan.

    Returns the batch and the codes in clear — the only time they exist outside the holders' hands.

    Raises:
        InvalidInput: "redeem_bad_count", "redeem_bad_value", "not_found" (the plan).
    """
    if not 1 <= count <= MAX_BATCH:
        raise InvalidInput("redeem_bad_count", str(MAX_BATCH))
    if not (0 <= amount <= MAX_UNITS and 0 <= plan_days <= MAX_PLAN_DAYS):
        raise InvalidInput("redeem_bad_value")
    if amount == 0 and not (plan_id and plan_days):
        raise InvalidInput("redeem_bad_value")
    if plan_id is not None and session.get(Plan, plan_id) is None:
        raise InvalidInput("not_found")
    batch = RedeemBatch(
        name=" ".join(name.split())[:64],
        count=count,
        amount=amount,
        plan_id=plan_id if plan_days else None,
        plan_days=plan_days if plan_id else 0,
        expires_at=expires_at,
        created_by=actor_id,
    )
    session.add(batch)
    session.flush()
    assert batch.id is not None
    codes = [new_code() for _ in range(count)]
    session.add_all(
        RedeemCode(batch_id=batch.id, code_hash=_hash(settings, normalise_code(c))) for c in codes
    )
    session.flush()
    return batch, codes


def codes_csv(batch: RedeemBatch, codes: list[str]) -> str:
    """The batch as CSV (code, value, plan days, expiry), for the admin to hand out."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["code", "units", "plan_days", "expires_at", "batch"])
    expiry = batch.expires_at.isoformat() if batch.expires_at else ""
    for code in codes:
        writer.writerow([code, batch.amount, batch.plan_days, expiry, batch.name])
    return out.getvalue()


def redeem(
    session: Session,
    *,
    settings: Settings,
    user_id: int,
    raw_code: str,
    now: datetime | None = None,
) -> Credit:
    """Uses a code for `user_id`: credits its units and/or switches to its plan for its days.

    Raises:
        InvalidInput: "malformed_redeem_code"; "unknown_redeem_code" (never issued, or used);
            "expired_redeem_code".
    """
    now = now or utcnow()
    code = normalise_code(raw_code)
    row = session.exec(
        select(RedeemCode).where(RedeemCode.code_hash == _hash(settings, code))
    ).first()
    if row is None or row.used_at is not None:
        raise InvalidInput("unknown_redeem_code")
    batch = session.get(RedeemBatch, row.batch_id)
    assert batch is not None
    expires = plans.as_utc(batch.expires_at)
    if expires is not None and expires <= now:
        raise InvalidInput("expired_redeem_code")
    taken = session.execute(
        update(RedeemCode)
        .where(col(RedeemCode.id) == row.id, col(RedeemCode.used_at).is_(None))
        .values(used_at=now, used_by=user_id)
    )
    if getattr(taken, "rowcount", 0) != 1:  # redeemed meanwhile by someone else
        raise InvalidInput("unknown_redeem_code")
    return credit(
        session,
        settings=settings,
        user_id=user_id,
        kind="redeem",
        ref=f"code:{row.id}",
        amount=batch.amount,
        plan_id=batch.plan_id,
        plan_days=batch.plan_days,
        now=now,
    )


def credit(
    session: Session,
    *,
    settings: Settings,
    user_id: int,
    kind: str,
    ref: str,
    amount: int,
    plan_id: int | None = None,
    plan_days: int = 0,
    reason: str = "",
    actor_id: int | None = None,
    now: datetime | None = None,
) -> Credit:
    """Books one credit (or, with a negative `amount`, an admin's debit) exactly once.

    Raises:
        InvalidInput: "already_credited" when `(kind, ref)` was booked before.
    """
    now = now or utcnow()
    row = plans.wallet(session, settings=settings, user_id=user_id)
    try:
        with session.begin_nested():
            session.add(
                BalanceEntry(
                    user_id=user_id,
                    created_at=now,
                    kind=kind,
                    ref=ref,
                    amount=amount,
                    plan_id=plan_id,
                    plan_days=plan_days,
                    reason=reason[:200],
                    actor_id=actor_id,
                )
            )
    except IntegrityError:
        raise InvalidInput("already_credited") from None
    session.execute(
        update(Wallet)
        .where(col(Wallet.user_id) == user_id)
        .values(balance=col(Wallet.balance) + amount)
    )
    plan_name = ""
    if plan_id and plan_days:
        # Days add up: a second code of the same plan extends it, from now or from its end.
        locked = session.get(Wallet, user_id, with_for_update=True, populate_existing=True)
        assert locked is not None
        until = plans.as_utc(locked.plan_until)
        start = until if locked.plan_id == plan_id and until is not None and until > now else now
        locked.plan_id = plan_id
        locked.plan_until = start + timedelta(days=plan_days)
        session.add(locked)
        plan = session.get(Plan, plan_id)
        plan_name = plan.name if plan else ""
    session.flush()
    fresh = session.get(Wallet, user_id, populate_existing=True)
    assert row is not None and fresh is not None
    return Credit(amount=amount, plan_name=plan_name, plan_days=plan_days, balance=fresh.balance)


class RedeemGuard:
    """Counts a user's wrong codes: `WRONG_CODES_PER_HOUR`, then refused for the rest of the hour."""

    def __init__(self, settings: Settings) -> None:
        uri = storage_uri(settings)
        options = {"implementation": "redispy", "key_prefix": "REDEEM"} if "redis" in uri else {}
        self._limiter = MovingWindowRateLimiter(storage_from_string(uri, **options))  # type: ignore[arg-type]
        self._item = RateLimitItemPerHour(WRONG_CODES_PER_HOUR)

    async def check(self, user_id: int) -> None:
        """Refuses while the user has too many wrong codes this hour.

        Raises:
            InvalidInput: "redeem_locked" with the minutes to wait.
        """
        if not await self._limiter.test(self._item, "redeem", str(user_id)):
            stats = await self._limiter.get_window_stats(self._item, "redeem", str(user_id))
            minutes = max(1, math.ceil((stats.reset_time - time.time()) / 60))
            raise InvalidInput("redeem_locked", str(minutes))

    async def wrong(self, user_id: int) -> None:
        """Counts one wrong code."""
        await self._limiter.hit(self._item, "redeem", str(user_id))
