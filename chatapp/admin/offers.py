"""The operator console's use cases for what is offered: plans, the 敏感词 list, redeem codes
(and a user's redeeming of a code, audited alongside).

Like `admin.console`, each takes the session first and the acting user's id, starts with
`access.require_admin`, and writes an audit row in the same transaction as the change (the
billing functions it calls leave auditing to their caller). Forms arrive as the strings the admin
typed; they are parsed here or by the billing parsers, which name what is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from chatapp.admin import access, audit
from chatapp.billing import credits, plans, sensitive
from chatapp.core.config import Settings
from chatapp.core.timefmt import zone_info
from chatapp.errors import InvalidInput, NotFound
from chatapp.models import Plan, RedeemBatch, RedeemCode, SensitiveWords

BATCHES_SHOWN = 50


@dataclass(frozen=True)
class PlanRow:
    """A plan as the 套餐 tab lists and edits it (the form's fields as text)."""

    id: int
    name: str
    daily_free: str  # "" = no quota
    models: str  # comma-separated
    multipliers: str  # model=ratio, comma-separated
    sends_per_minute: str
    max_message_chars: str
    is_default: bool


def _row(plan: Plan) -> PlanRow:
    terms = plans.terms(plan)
    return PlanRow(
        id=terms.id,
        name=plan.name,
        daily_free="" if plan.daily_free is None else str(plan.daily_free),
        models=", ".join(terms.models),
        multipliers=", ".join(f"{m}={r:g}" for m, r in terms.multipliers.items()),
        sends_per_minute=str(plan.sends_per_minute),
        max_message_chars=str(plan.max_message_chars),
        is_default=plan.is_default,
    )


def list_plans(session: Session, *, settings: Settings, actor_id: int) -> list[PlanRow]:
    """Every plan, the default first (made if none exists yet)."""
    access.require_admin(session, settings=settings, user_id=actor_id)
    plans.default_plan(session, settings=settings)
    rows = session.exec(select(Plan).order_by(col(Plan.is_default).desc(), col(Plan.id))).all()
    return [_row(p) for p in rows]


def save_plan(
    session: Session,
    *,
    settings: Settings,
    actor_id: int,
    plan_id: int | None,
    fields: dict[str, object],
) -> PlanRow:
    """Creates (no id) or edits a plan from its form.

    Raises:
        InvalidInput: `plans.parse_plan`'s and `plans.save_plan`'s reasons.
    """
    access.require_admin(session, settings=settings, user_id=actor_id)
    data = plans.parse_plan(fields)
    plan = plans.save_plan(session, plan_id=plan_id, data=data)
    session.flush()
    audit.record(
        session,
        action="plan.create" if plan_id is None else "plan.edit",
        actor_id=actor_id,
        target=f"plan:{plan.id}",
        detail={"name": data.name, "daily_free": data.daily_free, "models": list(data.models)},
    )
    return _row(plan)


def make_default(session: Session, *, settings: Settings, actor_id: int, plan_id: int) -> None:
    """Makes a plan the one new users (and wallets without a plan) get. Raises NotFound."""
    access.require_admin(session, settings=settings, user_id=actor_id)
    if session.get(Plan, plan_id) is None:
        raise NotFound("plan")
    session.execute(update(Plan).where(col(Plan.id) != plan_id).values(is_default=False))
    session.execute(update(Plan).where(col(Plan.id) == plan_id).values(is_default=True))
    audit.record(session, action="plan.default", actor_id=actor_id, target=f"plan:{plan_id}")


# ---- 敏感词 -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WordsView:
    """The stored list and its modes."""

    text: str
    count: int
    refuse_input: bool
    mask_output: bool
    version: int


def load_words(session: Session, *, settings: Settings, actor_id: int) -> WordsView:
    """The list as stored (empty, both modes on, version 0 before the first save)."""
    access.require_admin(session, settings=settings, user_id=actor_id)
    row = session.get(SensitiveWords, 1) or SensitiveWords(id=1)
    words = [w for w in row.words.splitlines() if w.strip()]
    return WordsView(row.words, len(words), row.refuse_input, row.mask_output, row.version)


def save_words(
    session: Session,
    *,
    settings: Settings,
    actor_id: int,
    text: str,
    refuse_input: bool,
    mask_output: bool,
) -> WordsView:
    """Saves the list (one word per line) and its modes; every worker reloads it.

    Raises:
        InvalidInput: "word_too_long" (the line), "words_too_many" (the limit).
    """
    access.require_admin(session, settings=settings, user_id=actor_id)
    words = sensitive.parse_words(text)
    version = sensitive.save_words(
        session,
        words=words,
        refuse_input=refuse_input,
        mask_output=mask_output,
        actor_id=actor_id,
    )
    audit.record(
        session,
        action="words.save",
        actor_id=actor_id,
        target=f"version:{version}",
        detail={"words": len(words), "refuse_input": refuse_input, "mask_output": mask_output},
    )
    return WordsView("\n".join(words), len(words), refuse_input, mask_output, version)


# ---- 兑换码 -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BatchRow:
    """A batch of codes in the 兑换码 tab."""

    id: int
    name: str
    amount: int
    plan: str
    plan_days: int
    expires: str  # YYYY-MM-DD (operator's day) or ""
    used: int
    total: int


@dataclass(frozen=True)
class NewBatch:
    """A batch just made: its codes in clear (shown once) and the CSV to download."""

    batch: BatchRow
    codes: list[str]
    csv: str


def _whole(raw: object, reason: str) -> int:
    text = str(raw or "").strip()
    if text == "":
        return 0
    try:
        return int(text)
    except ValueError:
        raise InvalidInput(reason, str(credits.MAX_BATCH)) from None


def _expiry(raw: object, settings: Settings) -> datetime | None:
    """The end of the typed day (YYYY-MM-DD) in the operator's zone, or None when empty."""
    text = str(raw or "").strip()
    if not text:
        return None
    try:
        day = datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        raise InvalidInput("redeem_bad_expiry") from None
    end = datetime.combine(day + timedelta(days=1), time(), zone_info(settings.billing_time_zone))
    if end <= datetime.now(end.tzinfo):
        raise InvalidInput("redeem_bad_expiry")
    return end


def create_codes(
    session: Session, *, settings: Settings, actor_id: int, fields: dict[str, object]
) -> NewBatch:
    """Makes a batch from the form (name, count, units, plan id + days, expiry date).

    Raises:
        InvalidInput: "redeem_bad_count", "redeem_bad_value", "redeem_bad_expiry", "not_found".
    """
    access.require_admin(session, settings=settings, user_id=actor_id)
    count = _whole(fields.get("count"), "redeem_bad_count")
    amount = _whole(fields.get("amount"), "redeem_bad_value")
    days = _whole(fields.get("plan_days"), "redeem_bad_value")
    plan_raw = str(fields.get("plan_id") or "").strip()
    plan_id = int(plan_raw) if plan_raw.isdigit() and plan_raw != "0" else None
    batch, codes = credits.create_batch(
        session,
        settings=settings,
        name=str(fields.get("name") or ""),
        count=count,
        amount=amount,
        plan_id=plan_id,
        plan_days=days,
        expires_at=_expiry(fields.get("expires"), settings),
        actor_id=actor_id,
    )
    audit.record(
        session,
        action="redeem.batch",
        actor_id=actor_id,
        target=f"batch:{batch.id}",
        detail={"count": count, "units": batch.amount, "plan_id": batch.plan_id, "days": days},
    )
    row = _batch_rows(session, settings, [batch])[0]
    return NewBatch(row, codes, credits.codes_csv(batch, codes))


def list_batches(session: Session, *, settings: Settings, actor_id: int) -> list[BatchRow]:
    """The newest batches with how many of their codes were used."""
    access.require_admin(session, settings=settings, user_id=actor_id)
    batches = session.exec(
        select(RedeemBatch).order_by(col(RedeemBatch.id).desc()).limit(BATCHES_SHOWN)
    ).all()
    return _batch_rows(session, settings, list(batches))


def _batch_rows(session: Session, settings: Settings, batches: list[RedeemBatch]) -> list[BatchRow]:
    ids = [b.id for b in batches]
    used = dict(
        session.exec(
            select(RedeemCode.batch_id, func.count())
            .where(col(RedeemCode.batch_id).in_(ids), col(RedeemCode.used_at).is_not(None))
            .group_by(col(RedeemCode.batch_id))
        ).all()
    )
    names = dict(session.exec(select(Plan.id, Plan.name)).all())
    zone = zone_info(settings.billing_time_zone)
    out = []
    for b in batches:
        assert b.id is not None
        expires = plans.as_utc(b.expires_at)
        out.append(
            BatchRow(
                id=b.id,
                name=b.name,
                amount=b.amount,
                plan=names.get(b.plan_id, "") if b.plan_id else "",
                plan_days=b.plan_days,
                # The last day it can be used (it ends at that day's midnight).
                expires=(expires - timedelta(seconds=1)).astimezone(zone).date().isoformat()
                if expires
                else "",
                used=used.get(b.id, 0),
                total=b.count,
            )
        )
    return out


def plan_choices(session: Session, *, settings: Settings, actor_id: int) -> list[tuple[str, str]]:
    """(id, name) of every plan, for the selects of the users and codes tabs."""
    return [(str(p.id), p.name) for p in list_plans(session, settings=settings, actor_id=actor_id)]


def redeem(session: Session, *, settings: Settings, user_id: int, raw_code: str) -> credits.Credit:
    """A user (any user: this is not an admin use case) redeems a code; audited as `redeem`.

    Raises:
        InvalidInput: `credits.redeem`'s reasons (malformed, unknown or used, expired).
    """
    got = credits.redeem(session, settings=settings, user_id=user_id, raw_code=raw_code)
    audit.record(
        session,
        action="redeem",
        actor_id=user_id,
        target=f"user:{user_id}",
        detail={"units": got.amount, "plan": got.plan_name, "days": got.plan_days},
    )
    return got
