"""The admin's user list and what an admin may do to one user.

Each change writes its audit row in the same transaction. An admin sees a user's usage, sessions
and how many conversations they keep — never the conversations' contents.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, update
from sqlmodel import Session, col, select

from chatapp.admin import audit
from chatapp.auth import sessions
from chatapp.billing import credits, plans
from chatapp.core.config import Settings
from chatapp.errors import InvalidInput, NotFound
from chatapp.models import AuthSession, Conversation, Plan, UsageEntry, User, Wallet, utcnow

PAGE = 50
SORTS = ("recent", "tokens", "balance", "created")
REASON_MAX = 200


@dataclass(frozen=True)
class UserRow:
    """One user as the admin list shows them."""

    id: int
    name: str
    openid: str
    plan: str
    status: str
    balance: int
    tokens_30d: int
    last_login_at: datetime
    is_admin: bool


def list_users(
    session: Session,
    *,
    settings: Settings,
    query: str = "",
    sort: str = "recent",
    offset: int = 0,
    limit: int = PAGE,
    now: datetime | None = None,
) -> list[UserRow]:
    """Users matching `query` (name or openid), sorted, a page at a time."""
    since = (now or utcnow()) - timedelta(days=30)
    default = plans.default_plan(session, settings=settings)
    tokens = (
        select(
            UsageEntry.user_id,
            func.sum(col(UsageEntry.prompt_tokens) + col(UsageEntry.completion_tokens)).label("t"),
        )
        .where(col(UsageEntry.created_at) >= since)
        .group_by(col(UsageEntry.user_id))
        .subquery()
    )
    used = func.coalesce(tokens.c.t, 0)
    stmt = (
        select(User, Wallet, Plan.name, used)
        .join(Wallet, col(Wallet.user_id) == col(User.id), isouter=True)
        .join(Plan, col(Plan.id) == col(Wallet.plan_id), isouter=True)
        .join(tokens, tokens.c.user_id == col(User.id), isouter=True)
    )
    text = query.strip()[:64]
    if text:
        like = f"%{text}%"
        stmt = stmt.where(or_(col(User.nickname).ilike(like), col(User.openid).ilike(like)))
    order = {
        "tokens": used.desc(),
        "balance": func.coalesce(col(Wallet.balance), 0).desc(),
        "created": col(User.created_at).desc(),
    }.get(sort, col(User.last_login_at).desc())
    stmt = stmt.order_by(order, col(User.id).desc()).offset(max(0, offset)).limit(min(limit, 200))
    out = []
    for user, wallet, plan_name, total in session.exec(stmt).all():
        assert user.id is not None
        out.append(
            UserRow(
                id=user.id,
                name=user.nickname,
                openid=user.openid,
                plan=plan_name or default.name,
                status=wallet.status if wallet else "active",
                balance=wallet.balance if wallet else 0,
                tokens_30d=int(total or 0),
                last_login_at=user.last_login_at,
                is_admin=user.is_admin,
            )
        )
    return out


@dataclass(frozen=True)
class UserDetail:
    """One user as the admin's detail view shows them (no conversation contents)."""

    row: UserRow
    conversations: int
    live_sessions: int
    free_used_today: int
    plan_until: datetime | None


def user_detail(session: Session, *, settings: Settings, user_id: int) -> UserDetail:
    """Raises NotFound for an unknown user."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("user")
    wallet, _ = plans.plan_of(session, settings=settings, user_id=user_id)
    rows = list_users(session, settings=settings, query=user.openid, limit=5)
    row = next((r for r in rows if r.id == user_id), None)
    assert row is not None
    conversations = session.exec(
        select(func.count()).select_from(Conversation).where(Conversation.user_id == user_id)
    ).one()
    live = session.exec(
        select(func.count())
        .select_from(AuthSession)
        .where(
            AuthSession.user_id == user_id,
            col(AuthSession.revoked_at).is_(None),
            col(AuthSession.expires_at) > utcnow(),
        )
    ).one()
    today = plans.today(settings)
    return UserDetail(
        row=row,
        conversations=conversations,
        live_sessions=live,
        free_used_today=wallet.free_used if wallet.free_day == today else 0,
        plan_until=plans.as_utc(wallet.plan_until),
    )


def set_status(
    session: Session, *, settings: Settings, actor_id: int, user_id: int, frozen: bool
) -> None:
    """Freezes (no more model calls) or unfreezes a user."""
    _user(session, user_id)
    plans.wallet(session, settings=settings, user_id=user_id)
    status = "frozen" if frozen else "active"
    session.execute(update(Wallet).where(col(Wallet.user_id) == user_id).values(status=status))
    audit.record(
        session,
        action=f"user.{'freeze' if frozen else 'unfreeze'}",
        actor_id=actor_id,
        target=f"user:{user_id}",
    )


def set_plan(
    session: Session, *, settings: Settings, actor_id: int, user_id: int, plan_id: int
) -> None:
    """Puts a user on a plan with no end date.

    Raises:
        NotFound: the user or the plan does not exist.
    """
    _user(session, user_id)
    if session.get(Plan, plan_id) is None:
        raise NotFound("plan")
    plans.wallet(session, settings=settings, user_id=user_id)
    session.execute(
        update(Wallet)
        .where(col(Wallet.user_id) == user_id)
        .values(plan_id=plan_id, plan_until=None)
    )
    audit.record(
        session,
        action="user.plan",
        actor_id=actor_id,
        target=f"user:{user_id}",
        detail={"plan_id": plan_id},
    )


def adjust_balance(
    session: Session, *, settings: Settings, actor_id: int, user_id: int, amount: int, reason: str
) -> int:
    """Adds (or with a negative amount removes) balance, with a reason; returns the new balance.

    Raises:
        InvalidInput: "reason_required", "bad_amount".
    """
    _user(session, user_id)
    reason = " ".join(reason.split())[:REASON_MAX]
    if not reason:
        raise InvalidInput("reason_required")
    if amount == 0 or abs(amount) > credits.MAX_UNITS:
        raise InvalidInput("bad_amount")
    got = credits.credit(
        session,
        settings=settings,
        user_id=user_id,
        kind="admin",
        ref=uuid.uuid4().hex,
        amount=amount,
        reason=reason,
        actor_id=actor_id,
    )
    audit.record(
        session,
        action="user.balance",
        actor_id=actor_id,
        target=f"user:{user_id}",
        detail={"amount": amount, "reason": reason, "balance": got.balance},
    )
    return got.balance


def revoke_sessions(session: Session, *, actor_id: int, user_id: int) -> int:
    """Logs the user out everywhere; returns how many sessions ended."""
    _user(session, user_id)
    n = sessions.revoke_all_sessions(session, user_id=user_id)
    audit.record(
        session,
        action="user.logout_all",
        actor_id=actor_id,
        target=f"user:{user_id}",
        detail={"sessions": n},
    )
    return n


def _user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("user")
    return user
