"""One-time login handoffs: how a login finished over the websocket becomes an HttpOnly cookie.

A Reflex handler cannot set an HttpOnly cookie (`rx.Cookie` is written by the page's JavaScript),
so the login page never holds the session token. When a code is accepted or a scan confirmed, the
handler creates a *handoff* — a random secret, redeemable once within `HANDOFF_TTL`, for the openid
that logged in — and sends the browser to `GET /api/v1/auth/session?ticket=<secret>&next=<path>`.
That route redeems it, opens the session (JWT + `AuthSession` row, with the browser's own user
agent and address), sets the cookie (`chatapp.auth.session_cookie`) and redirects to `next`.

A handoff is a `LoginTicket` row created already confirmed; its id is the secret's keyed hash, so
the table never holds a usable secret. Redemption is the tickets' conditional UPDATE: exactly once,
across workers and instances. A scan ticket (whose id doubles as the QR scene and is therefore not
a browser secret) is exchanged for a fresh handoff the same way (`from_scan_ticket`).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from urllib.parse import urlencode

from sqlmodel import Session

from chatapp.auth import accounts, sessions
from chatapp.core.config import Settings
from chatapp.models import LoginTicket, User, utcnow

HANDOFF_TTL = timedelta(seconds=60)
PATH = "/api/v1/auth/session"
CLEAR_PATH = "/api/v1/auth/session/clear"
_PURPOSE = "login-handoff"
_MAX_SECRET = 128


def safe_next(path: str) -> str:
    """A local path to go to after login (never another site: `//evil`, `https://…`)."""
    if (
        not isinstance(path, str)
        or not path.startswith("/")
        or path.startswith("//")
        or "\\" in path
        or path == "/login"
        or path.startswith("/api/")
    ):
        return "/"
    return path[:512]


def _row_id(settings: Settings, secret: str) -> str:
    return sessions.keyed_hash(settings, _PURPOSE, secret)


def create(
    session: Session, *, settings: Settings, openid: str, now: datetime | None = None
) -> str:
    """A handoff for `openid`; returns the secret to put in the browser's URL."""
    now = now or utcnow()
    secret = secrets.token_urlsafe(32)
    session.add(
        LoginTicket(
            id=_row_id(settings, secret),
            created_at=now,
            expires_at=now + HANDOFF_TTL,
            openid=openid,
            confirmed_at=now,
        )
    )
    session.flush()
    return secret


def from_scan_ticket(
    session: Session, *, settings: Settings, ticket_id: str, now: datetime | None = None
) -> str | None:
    """Consumes a confirmed scan ticket (once) and returns a handoff secret for its scanner.

    Returns:
        The secret, or None while the ticket is unconfirmed, or when it expired or was consumed.
    """
    now = now or utcnow()
    openid = accounts.claim_login_ticket(session, ticket_id=ticket_id, now=now)
    if openid is None:
        return None
    return create(session, settings=settings, openid=openid, now=now)


def redeem(
    session: Session,
    *,
    settings: Settings,
    secret: str,
    user_agent: str = "",
    ip: str = "",
    now: datetime | None = None,
) -> tuple[User, str] | None:
    """Opens the session of a handoff, at most once.

    Returns:
        The user and their new session token; None for an unknown, used or expired secret.
    """
    if not secret or len(secret) > _MAX_SECRET:
        return None
    return accounts.consume_login_ticket(
        session,
        settings=settings,
        ticket_id=_row_id(settings, secret),
        user_agent=user_agent,
        ip=ip,
        now=now,
    )


def url(secret: str, next_path: str) -> str:
    """Where the browser goes to finish the login (relative: the site's own origin)."""
    return PATH + "?" + urlencode({"ticket": secret, "next": safe_next(next_path)})
