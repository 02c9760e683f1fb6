"""A user's own usage, for Settings → 用量 / Usage: balance, today, this month, by model, 30 days.

Read from the usage ledger (`UsageEntry`), grouped in the database by the operator's day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from chatapp.billing import buckets, plans
from chatapp.core.config import Settings
from chatapp.core.timefmt import zone_info
from chatapp.models import UsageEntry, utcnow

CHART_DAYS = 30


@dataclass(frozen=True)
class ModelUse:
    """One model's use this month."""

    model: str
    calls: int
    tokens: int
    charge: int


@dataclass(frozen=True)
class MyUsage:
    """What the usage page shows."""

    plan: str
    quota: bool  # False: the plan has no quota (nothing is refused for lack of units)
    balance: int
    free_daily: int
    free_left: int
    today_tokens: int
    today_charge: int
    month_tokens: int
    month_charge: int
    by_model: list[ModelUse]
    days: list[dict[str, object]]  # {"day": "MM-DD", "tokens": n} for the last 30 days
    estimated: bool  # some of the figures were counted by us (the provider sent no usage)


def my_usage(
    session: Session, *, settings: Settings, user_id: int, now: datetime | None = None
) -> MyUsage:
    """The user's usage figures (their wallet is made if they have none yet)."""
    now = now or utcnow()
    wallet, terms = plans.plan_of(session, settings=settings, user_id=user_id, now=now)
    zone = settings.billing_time_zone
    local = now.astimezone(zone_info(zone))
    start_today = local.replace(hour=0, minute=0, second=0, microsecond=0)
    start_month = start_today.replace(day=1)
    start_chart = start_today - timedelta(days=CHART_DAYS - 1)
    tokens = col(UsageEntry.prompt_tokens) + col(UsageEntry.completion_tokens)
    mine = (col(UsageEntry.user_id) == user_id, col(UsageEntry.created_at) >= start_chart)

    bucket = buckets.day(
        col(UsageEntry.created_at), zone=zone, dialect=session.get_bind().dialect.name
    ).label("day")
    per_day = dict(
        session.exec(
            select(bucket, func.coalesce(func.sum(tokens), 0)).where(*mine).group_by(bucket)
        ).all()
    )
    by_model = [
        ModelUse(model=m, calls=n, tokens=int(t), charge=int(c))
        for m, n, t, c in session.exec(
            select(
                col(UsageEntry.model),
                func.count(),
                func.coalesce(func.sum(tokens), 0),
                func.coalesce(func.sum(col(UsageEntry.charge)), 0),
            )
            .where(col(UsageEntry.user_id) == user_id, col(UsageEntry.created_at) >= start_month)
            .group_by(col(UsageEntry.model))
            .order_by(func.sum(tokens).desc())
        ).all()
    ]

    def total(since: datetime) -> tuple[int, int]:
        t, c = session.exec(
            select(
                func.coalesce(func.sum(tokens), 0),
                func.coalesce(func.sum(col(UsageEntry.charge)), 0),
            ).where(col(UsageEntry.user_id) == user_id, col(UsageEntry.created_at) >= since)
        ).one()
        return int(t), int(c)

    estimated = session.exec(
        select(func.count()).where(*mine, col(UsageEntry.estimated).is_(True))
    ).one()
    today_tokens, today_charge = total(start_today)
    month_tokens, month_charge = total(start_month)
    daily = terms.daily_free or 0
    used = wallet.free_used if wallet.free_day == plans.today(settings, now) else 0
    days = []
    for i in range(CHART_DAYS):
        day = (start_chart + timedelta(days=i)).date()
        days.append({"day": day.strftime("%m-%d"), "tokens": int(per_day.get(day.isoformat(), 0))})
    return MyUsage(
        plan=terms.name,
        quota=terms.daily_free is not None,
        balance=wallet.balance,
        free_daily=daily,
        free_left=max(0, daily - used),
        today_tokens=today_tokens,
        today_charge=today_charge,
        month_tokens=month_tokens,
        month_charge=month_charge,
        by_model=by_model,
        days=days,
        estimated=estimated > 0,
    )
