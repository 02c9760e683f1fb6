"""The operator console's use cases for the dashboard, the users and the audit log.

Each one takes the session first and the acting user's id, and starts with
`access.require_admin`: the `/admin` page only hides its links from others, so a hand-made event
or a stale tab of a demoted admin is refused here, before anything is read. Changes write their
audit row in the same transaction (the `users` functions do it themselves).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from chatapp.admin import access, audit, dashboard, users
from chatapp.billing import plans, usage
from chatapp.core.config import Settings
from chatapp.errors import InvalidInput

CHART_DAYS = 30
AUDIT_PAGE = 50


@dataclass(frozen=True)
class Dashboard:
    """What the 概览 tab draws: headline figures and the series of each chart."""

    summary: dashboard.Summary
    # One row per day: {"day": "MM-DD", <model>: tokens, …}, every model on every row.
    tokens_by_day: list[dict[str, object]]
    models: list[str]
    calls_by_hour: list[dict[str, object]]
    top_users: list[dict[str, object]]
    refusals: list[dict[str, object]]
    errors: list[dict[str, object]]


def check_admin(session: Session, *, settings: Settings, actor_id: int) -> None:
    """Raises Forbidden unless `actor_id` is an admin (the page asks once before showing itself)."""
    access.require_admin(session, settings=settings, user_id=actor_id)


def stacked_by_model(
    rows: list[dict[str, object]], *, days: list[str]
) -> tuple[list[dict[str, object]], list[str]]:
    """`tokens_by_day_and_model` rows pivoted for a stacked bar chart: one row per day of `days`
    (YYYY-MM-DD, oldest first) labelled MM-DD, a tokens column per model (0 where none)."""
    models = sorted({str(r["model"]) or "-" for r in rows})
    totals: dict[tuple[str, str], int] = {}
    for r in rows:
        key = (str(r["day"]), str(r["model"]) or "-")
        tokens = int(str(r["prompt_tokens"])) + int(str(r["completion_tokens"]))
        totals[key] = totals.get(key, 0) + tokens
    table = [{"day": d[5:], **{m: totals.get((d, m), 0) for m in models}} for d in days]
    return table, models


def load_dashboard(
    session: Session, *, settings: Settings, actor_id: int, now: datetime | None = None
) -> Dashboard:
    """The dashboard's figures and series (30 days; calls per hour over 7)."""
    access.require_admin(session, settings=settings, user_id=actor_id)
    rows = dashboard.tokens_by_day_and_model(session, settings=settings, days=CHART_DAYS, now=now)
    table, models = stacked_by_model(rows, days=_chart_days(settings, now))
    return Dashboard(
        summary=dashboard.summary(session, settings=settings, now=now),
        tokens_by_day=table,
        models=models,
        calls_by_hour=dashboard.calls_by_hour(session, settings=settings, now=now),
        top_users=dashboard.top_users(session, now=now),
        refusals=dashboard.refusals_by_rule(session, now=now),
        errors=[
            {"label": f"{r['provider']} · {r['error']}", "count": r["count"]}
            for r in dashboard.errors_by_provider(session, now=now)
        ],
    )


def _chart_days(settings: Settings, now: datetime | None) -> list[str]:
    """The chart's operator days, oldest first, ending today."""
    last = datetime.fromisoformat(plans.today(settings, now))
    return [
        (last - timedelta(days=CHART_DAYS - 1 - i)).date().isoformat() for i in range(CHART_DAYS)
    ]


def usage_json(
    session: Session, *, settings: Settings, actor_id: int, days: int
) -> list[dict[str, object]]:
    """`GET /api/v1/admin/usage`'s rows: per day and model (see `dashboard`)."""
    access.require_admin(session, settings=settings, user_id=actor_id)
    return dashboard.tokens_by_day_and_model(session, settings=settings, days=days)


# ---- users -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UserView:
    """One user opened in the 用户 tab: the row, counts, and this month's use by model."""

    detail: users.UserDetail
    usage: usage.MyUsage


def find_users(
    session: Session, *, settings: Settings, actor_id: int, query: str, sort: str, offset: int
) -> list[users.UserRow]:
    """A page of the user list."""
    access.require_admin(session, settings=settings, user_id=actor_id)
    return users.list_users(
        session,
        settings=settings,
        query=query,
        sort=sort if sort in users.SORTS else "recent",
        offset=offset,
    )


def open_user(session: Session, *, settings: Settings, actor_id: int, user_id: int) -> UserView:
    """One user's detail (never their conversations' contents). Raises NotFound."""
    access.require_admin(session, settings=settings, user_id=actor_id)
    detail = users.user_detail(session, settings=settings, user_id=user_id)
    return UserView(detail, usage.my_usage(session, settings=settings, user_id=user_id))


def freeze_user(
    session: Session, *, settings: Settings, actor_id: int, user_id: int, frozen: bool
) -> None:
    """Freezes or unfreezes a user (audited)."""
    access.require_admin(session, settings=settings, user_id=actor_id)
    users.set_status(session, settings=settings, actor_id=actor_id, user_id=user_id, frozen=frozen)


def move_user(
    session: Session, *, settings: Settings, actor_id: int, user_id: int, plan_id: int
) -> None:
    """Puts a user on a plan (audited). Raises NotFound."""
    access.require_admin(session, settings=settings, user_id=actor_id)
    users.set_plan(session, settings=settings, actor_id=actor_id, user_id=user_id, plan_id=plan_id)


def credit_user(
    session: Session, *, settings: Settings, actor_id: int, user_id: int, amount: str, reason: str
) -> int:
    """Adds or removes balance as typed ("500", "-200"); returns the new balance (audited).

    Raises:
        InvalidInput: "bad_amount" (not a whole number, or 0), "reason_required".
    """
    access.require_admin(session, settings=settings, user_id=actor_id)
    try:
        units = int(amount.strip().replace(",", "").replace("+", ""))
    except ValueError:
        raise InvalidInput("bad_amount") from None
    return users.adjust_balance(
        session, settings=settings, actor_id=actor_id, user_id=user_id, amount=units, reason=reason
    )


def log_user_out(session: Session, *, settings: Settings, actor_id: int, user_id: int) -> int:
    """Revokes every session of a user (audited); returns how many ended."""
    access.require_admin(session, settings=settings, user_id=actor_id)
    return users.revoke_sessions(session, actor_id=actor_id, user_id=user_id)


# ---- audit log ---------------------------------------------------------------------------------


def audit_page(
    session: Session, *, settings: Settings, actor_id: int, action: str, before_id: int | None
) -> list[audit.EventRow]:
    """A page of the audit log, newest first, filtered by action."""
    access.require_admin(session, settings=settings, user_id=actor_id)
    return audit.events(session, action=action.strip()[:64], before_id=before_id, limit=AUDIT_PAGE)


def audit_export(session: Session, *, settings: Settings, actor_id: int, action: str) -> str:
    """The filtered log as CSV (at most `audit.EXPORT_MAX` rows); the export is itself audited."""
    access.require_admin(session, settings=settings, user_id=actor_id)
    rows = audit.events(session, action=action.strip()[:64], limit=audit.EXPORT_MAX)
    audit.record(session, action="audit.export", actor_id=actor_id, detail={"rows": len(rows)})
    return audit.export_csv(rows)
