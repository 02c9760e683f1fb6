"""The usage ledger per operator day and model, from a daily rollup for finished days and live
for the rest.

Summing a month of calls (~600,000 rows on a busy server) takes about a second; the dashboard's
per-day chart and `/api/v1/admin/usage` need it in well under that. So each finished day is summed
once into `UsageDay` — calls, prompt and completion tokens and the distinct users of each model
(a count that cannot be added up from smaller rows, so it is stored as counted) — and only the
days not yet rolled up are read from the ledger.

A day is rolled up on the first read after it is *settled for good*:

- it ended (in BILLING_TIME_ZONE) more than `wallet.STALE_RESERVATION` ago — a call reserved
  just before midnight settles within that window, or is released as stale — and
- none of its rows is still "reserved" (a reservation of a process that died is settled by the
  start-up sweep; until then its day is read live).

After that no row of the day changes: settling and refunding only touch "reserved" rows, and new
rows are written at the present time. So the rollup equals the live sum exactly, and a late
settle is never lost. Rows are inserted with ON CONFLICT DO NOTHING in the caller's transaction
(`session_scope` commits it), so two workers rolling the same day agree; a read whose
transaction rolls back just rolls the day again next time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from chatapp.billing import buckets
from chatapp.billing.wallet import STALE_RESERVATION
from chatapp.core.timefmt import zone_info
from chatapp.models import UsageDay, UsageEntry


@dataclass(frozen=True, order=True)
class DayModel:
    """One operator day's calls of one model."""

    day: str  # 'YYYY-MM-DD'
    model: str
    calls: int
    prompt_tokens: int
    completion_tokens: int
    active_users: int


def per_day_and_model(
    session: Session, *, zone: str, first_day: date, now: datetime
) -> list[DayModel]:
    """Every (day, model) with calls from `first_day` to now, oldest day first, then by model."""
    tz = zone_info(zone)

    def start(d: date) -> datetime:
        return datetime.combine(d, time(), tzinfo=tz)

    today = now.astimezone(tz).date()
    last_final = today - timedelta(days=1)
    while (
        last_final >= first_day and start(last_final + timedelta(days=1)) + STALE_RESERVATION > now
    ):
        last_final -= timedelta(days=1)
    rows: list[DayModel] = []
    if last_final >= first_day:
        stored = _stored(session, zone, first_day, last_final)
        rows.extend(stored)
        rolled = {r.day for r in stored}
        wanted = (first_day + timedelta(days=i) for i in range((last_final - first_day).days + 1))
        for run in _runs(d for d in wanted if d.isoformat() not in rolled):
            fresh = from_ledger(session, zone, start(run[0]), start(run[-1] + timedelta(days=1)))
            rows.extend(fresh)
            pending = _days_with_reservations(
                session, zone, start(run[0]), start(run[-1] + timedelta(days=1))
            )
            _store(session, zone, [r for r in fresh if r.day not in pending])
    live_from = max(first_day, last_final + timedelta(days=1))
    rows.extend(from_ledger(session, zone, start(live_from), None))
    return sorted(rows)


def _runs(days: Iterable[date]) -> Iterator[list[date]]:
    """Consecutive days grouped, so each gap in the rollup is one range query."""
    run: list[date] = []
    for d in days:
        if run and d != run[-1] + timedelta(days=1):
            yield run
            run = []
        run.append(d)
    if run:
        yield run


def _stored(session: Session, zone: str, first: date, last: date) -> list[DayModel]:
    found = session.exec(
        select(UsageDay).where(
            col(UsageDay.zone) == zone,
            col(UsageDay.day) >= first.isoformat(),
            col(UsageDay.day) <= last.isoformat(),
        )
    ).all()
    return [
        DayModel(r.day, r.model, r.calls, r.prompt_tokens, r.completion_tokens, r.active_users)
        for r in found
    ]


def _range(start: datetime, end: datetime | None) -> list[Any]:
    where = [col(UsageEntry.created_at) >= start]
    if end is not None:
        where.append(col(UsageEntry.created_at) < end)
    return where


def _bucket(session: Session, zone: str) -> Any:
    dialect = session.get_bind().dialect.name
    return buckets.day(col(UsageEntry.created_at), zone=zone, dialect=dialect).label("day")


def from_ledger(
    session: Session, zone: str, start: datetime, end: datetime | None
) -> list[DayModel]:
    """The ledger's rows from `start` (to `end`) summed per operator day and model."""
    bucket = _bucket(session, zone)
    # sqlalchemy's select: sqlmodel's typed one takes at most four columns.
    found = session.execute(
        sa_select(
            bucket,
            col(UsageEntry.model),
            func.count(),
            func.coalesce(func.sum(col(UsageEntry.prompt_tokens)), 0),
            func.coalesce(func.sum(col(UsageEntry.completion_tokens)), 0),
            func.count(func.distinct(col(UsageEntry.user_id))),
        )
        .where(*_range(start, end))
        .group_by(bucket, col(UsageEntry.model))
    ).all()
    return [
        DayModel(day, model, calls, int(prompt), int(completion), users)
        for day, model, calls, prompt, completion, users in found
    ]


def _days_with_reservations(
    session: Session, zone: str, start: datetime, end: datetime
) -> set[str]:
    """The days of the range that still have an unsettled call (not rolled up yet)."""
    bucket = _bucket(session, zone)
    found = session.execute(
        sa_select(bucket)
        .where(*_range(start, end), col(UsageEntry.status) == "reserved")
        .group_by(bucket)
    ).all()
    return {day for (day,) in found}


def _store(session: Session, zone: str, rows: list[DayModel]) -> None:
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    values = [
        {
            "zone": zone,
            "day": r.day,
            "model": r.model,
            "calls": r.calls,
            "prompt_tokens": r.prompt_tokens,
            "completion_tokens": r.completion_tokens,
            "active_users": r.active_users,
        }
        for r in rows
    ]
    session.execute(insert(UsageDay).values(values).on_conflict_do_nothing())
