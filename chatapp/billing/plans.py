"""What a plan allows and which plan a user is on.

A plan (group) sets the daily free units, the models allowed, a price ratio per model (the
multiplier: a token of a model at 2.0 costs two units), a per-minute send limit and a message
size. Every user has a wallet row naming their plan; it is made on first use, on the default plan,
so a deployment that never configures plans behaves as before: the default plan made at first
start has no quota unless `BILLING_DEFAULT_DAILY_FREE` says how many units a day are free.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Integer, bindparam
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from chatapp.core.config import Settings
from chatapp.core.timefmt import zone_info
from chatapp.errors import InvalidInput
from chatapp.models import Plan, Wallet, utcnow

DEFAULT_PLAN_NAME = "默认"
PLAN_NAME_MAX = 64
# A price ratio above this is a typo (a model 1,000 times the price of another is not sold).
MAX_MULTIPLIER = 1000.0


@dataclass(frozen=True)
class PlanTerms:
    """A plan as the rules read it."""

    id: int
    name: str
    daily_free: int | None  # None: no quota
    models: tuple[str, ...]  # empty: every model
    multipliers: dict[str, float]
    sends_per_minute: int  # 0: the server's setting
    max_message_chars: int  # 0: the server's setting
    # False for a call the user pays for themselves (their own API key): recorded, never charged.
    charged: bool = True

    def allows(self, model: str) -> bool:
        """True when the plan may use `model`."""
        return not self.models or model in self.models

    def multiplier(self, model: str) -> float:
        """Units per token of `model` (1.0 when the plan names no ratio for it)."""
        return self.multipliers.get(model, 1.0)

    def units(self, model: str, tokens: int) -> int:
        """What `tokens` of `model` cost, rounded up (a call of one token is never free)."""
        if not self.charged:
            return 0
        return math.ceil(max(0, tokens) * self.multiplier(model))


def terms(plan: Plan) -> PlanTerms:
    """The plan row as terms; a stored JSON field that no longer parses counts as empty."""
    assert plan.id is not None
    return PlanTerms(
        id=plan.id,
        name=plan.name,
        daily_free=plan.daily_free,
        models=tuple(_json_list(plan.models_json)),
        multipliers=_json_ratios(plan.multipliers_json),
        sends_per_minute=plan.sends_per_minute,
        max_message_chars=plan.max_message_chars,
    )


def as_utc(ts: datetime | None) -> datetime | None:
    """`ts` as aware UTC (SQLite hands stored datetimes back naive; they are UTC)."""
    if ts is None or ts.tzinfo is not None:
        return ts
    return ts.replace(tzinfo=UTC)


def today(settings: Settings, now: datetime | None = None) -> str:
    """The operator's day (YYYY-MM-DD in BILLING_TIME_ZONE): free units reset at its midnight."""
    return (now or utcnow()).astimezone(zone_info(settings.billing_time_zone)).date().isoformat()


def default_plan(session: Session, *, settings: Settings) -> Plan:
    """The default plan, made on first use (two workers making it at once end with one)."""
    found = session.exec(select(Plan).where(col(Plan.is_default).is_(True))).first()
    if found is not None:
        return found
    plan = Plan(name=DEFAULT_PLAN_NAME, daily_free=settings.default_daily_free, is_default=True)
    try:
        with session.begin_nested():
            session.add(plan)
    except IntegrityError:  # another worker made it first
        found = session.exec(select(Plan).where(Plan.name == DEFAULT_PLAN_NAME)).one()
        return found
    return plan


def wallet(session: Session, *, settings: Settings, user_id: int) -> Wallet:
    """The user's wallet, made on the default plan on first use."""
    found = session.get(Wallet, user_id)
    if found is not None:
        return found
    plan = default_plan(session, settings=settings)
    assert plan.id is not None
    row = Wallet(user_id=user_id, plan_id=plan.id, free_day=today(settings))
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:  # made meanwhile by a parallel send
        found = session.get(Wallet, user_id, populate_existing=True)
        assert found is not None
        return found
    return row


_WALLET_AND_PLAN = (
    select(Wallet, Plan)
    .join(Plan, col(Plan.id) == col(Wallet.plan_id), isouter=True)
    .where(col(Wallet.user_id) == bindparam("p_user", type_=Integer))
)


def plan_of(
    session: Session, *, settings: Settings, user_id: int, now: datetime | None = None
) -> tuple[Wallet, PlanTerms]:
    """The user's wallet and the plan in force now (a plan bought for some days ends, and the
    default plan takes over)."""
    # The wallet and its plan in one round trip (every send asks); a first send makes the wallet.
    found = session.exec(_WALLET_AND_PLAN, params={"p_user": user_id}).first()
    if found is None:
        row = wallet(session, settings=settings, user_id=user_id)
        plan = session.get(Plan, row.plan_id)
    else:
        row, plan = found
    until = as_utc(row.plan_until)
    if plan is None or (until is not None and until <= (now or utcnow())):
        plan = default_plan(session, settings=settings)
    return row, terms(plan)


@dataclass(frozen=True)
class PlanInput:
    """A plan as an admin submits it, validated by `parse_plan`."""

    name: str
    daily_free: int | None
    models: tuple[str, ...]
    multipliers: dict[str, float]
    sends_per_minute: int
    max_message_chars: int


def parse_plan(fields: dict[str, object]) -> PlanInput:
    """Validates an admin's plan form.

    Raises:
        InvalidInput: "plan_name_required", "plan_bad_number" (with the field), "plan_bad_ratio"
            (with the model).
    """
    name = " ".join(str(fields.get("name") or "").split())[:PLAN_NAME_MAX]
    if not name:
        raise InvalidInput("plan_name_required")
    raw_free = str(fields.get("daily_free") or "").strip()
    daily_free = None if raw_free == "" else _count(raw_free, "daily_free")
    models = tuple(
        dict.fromkeys(m.strip() for m in str(fields.get("models") or "").split(",") if m.strip())
    )
    ratios: dict[str, float] = {}
    for pair in str(fields.get("multipliers") or "").split(","):
        if not pair.strip():
            continue
        model, _, value = pair.partition("=")
        try:
            ratio = float(value)
        except ValueError:
            raise InvalidInput("plan_bad_ratio", model.strip()) from None
        if not model.strip() or not 0 < ratio <= MAX_MULTIPLIER or math.isnan(ratio):
            raise InvalidInput("plan_bad_ratio", model.strip())
        ratios[model.strip()] = ratio
    return PlanInput(
        name=name,
        daily_free=daily_free,
        models=models,
        multipliers=ratios,
        sends_per_minute=_count(str(fields.get("sends_per_minute") or "0"), "sends_per_minute"),
        max_message_chars=_count(str(fields.get("max_message_chars") or "0"), "max_message_chars"),
    )


def save_plan(session: Session, *, plan_id: int | None, data: PlanInput) -> Plan:
    """Creates (no id) or updates a plan.

    Raises:
        InvalidInput: "plan_name_taken"; "not_found" for an unknown id.
    """
    plan = Plan(name=data.name) if plan_id is None else session.get(Plan, plan_id)
    if plan is None:
        raise InvalidInput("not_found")
    plan.name = data.name
    plan.daily_free = data.daily_free
    plan.models_json = json.dumps(list(data.models), ensure_ascii=False)
    plan.multipliers_json = json.dumps(data.multipliers, ensure_ascii=False)
    plan.sends_per_minute = data.sends_per_minute
    plan.max_message_chars = data.max_message_chars
    try:
        with session.begin_nested():
            session.add(plan)
    except IntegrityError:
        raise InvalidInput("plan_name_taken", data.name) from None
    return plan


def _count(raw: str, field: str) -> int:
    try:
        value = int(raw.strip())
    except ValueError:
        raise InvalidInput("plan_bad_number", field) from None
    if not 0 <= value <= 10**12:
        raise InvalidInput("plan_bad_number", field)
    return value


def _json_list(raw: str) -> list[str]:
    try:
        value = json.loads(raw or "[]")
    except ValueError:
        return []
    return [str(v) for v in value] if isinstance(value, list) else []


def _json_ratios(raw: str) -> dict[str, float]:
    try:
        value = json.loads(raw or "{}")
    except ValueError:
        return {}
    if not isinstance(value, dict):
        return {}
    out: dict[str, float] = {}
    for model, ratio in value.items():
        if isinstance(ratio, int | float) and 0 < ratio <= MAX_MULTIPLIER:
            out[str(model)] = float(ratio)
    return out
