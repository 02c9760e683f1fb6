"""The admin dashboard's figures and series, each one grouped query on the usage ledger.

Everything counts model calls from `UsageEntry` (one row per answer, image or API call), grouped
in the database by the operator's day (`billing.buckets`); the per-day series reads finished days
from a daily rollup (`billing.rollup`), so the charts stay fast on a large ledger (see
bench/README.md, "Dashboard queries"). Refusals come from the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from chatapp.billing import buckets, rollup
from chatapp.core.config import Settings
from chatapp.models import AuditEvent, UsageEntry, User, utcnow

TOP_USERS = 10
MAX_DAYS = 366


@dataclass(frozen=True)
class Summary:
    """The dashboard's headline figures."""

    active_today: int
    active_7d: int
    calls_today: int
    tokens_today: int
    errors_today: int
    first_token_p50_ms: int | None
    first_token_p95_ms: int | None


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _start_of_today(settings: Settings, now: datetime) -> datetime:
    from chatapp.core.timefmt import zone_info

    local = now.astimezone(zone_info(settings.billing_time_zone))
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def summary(session: Session, *, settings: Settings, now: datetime | None = None) -> Summary:
    """Active users today and over 7 days, calls, tokens and errors today, first-token times."""
    now = now or utcnow()
    today = _start_of_today(settings, now)
    week = today - timedelta(days=6)
    entry = UsageEntry

    def distinct_users(since: datetime) -> int:
        return session.exec(
            select(func.count(func.distinct(entry.user_id))).where(col(entry.created_at) >= since)
        ).one()

    calls, tokens, errors = session.exec(
        select(
            func.count(),
            func.coalesce(func.sum(col(entry.prompt_tokens) + col(entry.completion_tokens)), 0),
            func.count(col(entry.error_code)),
        ).where(col(entry.created_at) >= today)
    ).one()
    return Summary(
        active_today=distinct_users(today),
        active_7d=distinct_users(week),
        calls_today=calls,
        tokens_today=int(tokens),
        errors_today=errors,
        first_token_p50_ms=_percentile(session, today, 0.5),
        first_token_p95_ms=_percentile(session, today, 0.95),
    )


def _percentile(session: Session, since: datetime, q: float) -> int | None:
    timed = col(UsageEntry.first_token_ms)
    where = (col(UsageEntry.created_at) >= since, timed.is_not(None))
    n = session.exec(select(func.count()).select_from(UsageEntry).where(*where)).one()
    if not n:
        return None
    at = min(n - 1, int(q * n))
    return session.exec(select(timed).where(*where).order_by(timed).offset(at).limit(1)).one()


def tokens_by_day_and_model(
    session: Session, *, settings: Settings, days: int = 30, now: datetime | None = None
) -> list[dict[str, object]]:
    """Per day and model: calls, prompt and completion tokens, active users (oldest day first).

    The JSON of `/api/v1/admin/usage` and the stacked chart's data. Finished days come from the
    daily rollup (`billing.rollup`), today from the ledger.
    """
    now = now or utcnow()
    days = max(1, min(days, MAX_DAYS))
    first_day = (_start_of_today(settings, now) - timedelta(days=days - 1)).date()
    rows = rollup.per_day_and_model(
        session, zone=settings.billing_time_zone, first_day=first_day, now=now
    )
    return [
        {
            "day": r.day,
            "model": r.model,
            "messages": r.calls,
            "prompt_tokens": r.prompt_tokens,
            "completion_tokens": r.completion_tokens,
            "active_users": r.active_users,
        }
        for r in rows
    ]


def calls_by_hour(
    session: Session, *, settings: Settings, days: int = 7, now: datetime | None = None
) -> list[dict[str, object]]:
    """Calls per hour of the day over the last `days` (24 rows, hours without calls as 0)."""
    since = (now or utcnow()) - timedelta(days=max(1, min(days, MAX_DAYS)))
    bucket = buckets.hour(
        col(UsageEntry.created_at), zone=settings.billing_time_zone, dialect=_dialect(session)
    ).label("hour")
    counts = dict(
        session.exec(
            select(bucket, func.count()).where(col(UsageEntry.created_at) >= since).group_by(bucket)
        ).all()
    )
    return [{"hour": f"{h:02d}", "messages": counts.get(f"{h:02d}", 0)} for h in range(24)]


def top_users(
    session: Session, *, days: int = 30, now: datetime | None = None, limit: int = TOP_USERS
) -> list[dict[str, object]]:
    """The users who used the most tokens over the last `days`."""
    since = (now or utcnow()) - timedelta(days=max(1, min(days, MAX_DAYS)))
    tokens = func.sum(col(UsageEntry.prompt_tokens) + col(UsageEntry.completion_tokens))
    rows = session.exec(
        select(UsageEntry.user_id, User.nickname, tokens.label("tokens"), func.count())
        .join(User, col(User.id) == col(UsageEntry.user_id))
        .where(col(UsageEntry.created_at) >= since)
        .group_by(col(UsageEntry.user_id), col(User.nickname))
        .order_by(tokens.desc())
        .limit(limit)
    ).all()
    return [
        {"user_id": uid, "name": name, "tokens": int(total or 0), "messages": calls}
        for uid, name, total, calls in rows
    ]


def refusals_by_rule(
    session: Session, *, days: int = 30, now: datetime | None = None
) -> list[dict[str, object]]:
    """How often each rule of the chain refused a call over the last `days`."""
    since = (now or utcnow()) - timedelta(days=max(1, min(days, MAX_DAYS)))
    rows = session.exec(
        select(col(AuditEvent.target), func.count())
        .where(AuditEvent.action == "refusal", col(AuditEvent.created_at) >= since)
        .group_by(col(AuditEvent.target))
        .order_by(func.count().desc())
    ).all()
    return [{"rule": rule, "count": n} for rule, n in rows]


def errors_by_provider(
    session: Session, *, days: int = 30, now: datetime | None = None
) -> list[dict[str, object]]:
    """Failed calls per provider and error over the last `days`."""
    since = (now or utcnow()) - timedelta(days=max(1, min(days, MAX_DAYS)))
    rows = session.exec(
        select(col(UsageEntry.provider), col(UsageEntry.error_code), func.count())
        .where(col(UsageEntry.created_at) >= since, col(UsageEntry.error_code).is_not(None))
        .group_by(col(UsageEntry.provider), col(UsageEntry.error_code))
        .order_by(func.count().desc())
    ).all()
    return [
        {"provider": provider or "-", "error": error, "count": n} for provider, error, n in rows
    ]
