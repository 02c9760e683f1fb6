"""The audit log: who did what when — admin actions, logins, refusals by the rule chain.

Rows are written in the transaction of what they record (an admin's balance change and its audit
row commit together). Reading is filtered by action, actor and time, newest first, and exported
as CSV.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from chatapp.models import AuditEvent, User, utcnow

PAGE = 100
EXPORT_MAX = 100_000


def record(
    session: Session,
    *,
    action: str,
    actor_id: int | None = None,
    target: str = "",
    detail: dict[str, object] | None = None,
    now: datetime | None = None,
) -> None:
    """Adds one event (committed with the caller's transaction)."""
    session.add(
        AuditEvent(
            created_at=now or utcnow(),
            actor_id=actor_id,
            action=action[:64],
            target=target[:128],
            detail=json.dumps(detail or {}, ensure_ascii=False, default=str),
        )
    )


@dataclass(frozen=True)
class EventRow:
    """One event as the admin page lists it."""

    id: int
    at: datetime
    actor: str
    action: str
    target: str
    detail: str


def events(
    session: Session,
    *,
    action: str = "",
    actor_id: int | None = None,
    since: datetime | None = None,
    before_id: int | None = None,
    limit: int = PAGE,
) -> list[EventRow]:
    """Events newest first, filtered; `before_id` pages on."""
    query = (
        select(AuditEvent, User.nickname, User.openid)
        .join(User, col(User.id) == col(AuditEvent.actor_id), isouter=True)
        .order_by(col(AuditEvent.id).desc())
        .limit(max(1, min(limit, EXPORT_MAX)))
    )
    if action:
        query = query.where(AuditEvent.action == action)
    if actor_id is not None:
        query = query.where(AuditEvent.actor_id == actor_id)
    if since is not None:
        query = query.where(col(AuditEvent.created_at) >= since)
    if before_id is not None:
        query = query.where(col(AuditEvent.id) < before_id)
    out = []
    for event, nickname, openid in session.exec(query).all():
        assert event.id is not None
        out.append(
            EventRow(
                id=event.id,
                at=event.created_at,
                actor=nickname
                or openid
                or ("" if event.actor_id is None else f"#{event.actor_id}"),
                action=event.action,
                target=event.target,
                detail=event.detail,
            )
        )
    return out


def export_csv(rows: list[EventRow]) -> str:
    """The events as CSV (time in UTC, ISO 8601)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "time_utc", "actor", "action", "target", "detail"])
    for row in rows:
        writer.writerow([row.id, row.at.isoformat(), row.actor, row.action, row.target, row.detail])
    return out.getvalue()
