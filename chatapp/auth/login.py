"""The login flows: a typed code (for the API or the page) and a scanned QR code, with the limits.

    submit_code(...)          → (user, session token)   `POST /api/v1/auth/login`
    submit_code_handoff(...)  → handoff secret           the login page (`chatapp.auth.handoff`)
    begin_scan_login(...)     → (ticket id, QR URL)      the login page's scan panel
    scan_handoff(...)         → handoff secret | None    once the scan is confirmed

A code submission runs, one per IP at a time (`LoginGuard.serial`): the attempt/IP/rate checks
(`LoginGuard.check`) → the code's shape → the code's openid (not yet used up) → the per-openid cap
→ the code used up and the result made, in one transaction. A wrong code counts toward the attempt,
IP and global failures, and toward every live code it landed near (a code aimed at too often is
retired). A database or Redis outage is not caught here: the routes and the page turn it into
"unavailable" (`chatapp.core.unavailable`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from sqlmodel import Session

from chatapp.auth import accounts, handoff, sessions
from chatapp.auth.ratelimit import LoginGuard, LoginLocked
from chatapp.auth.wechat_api import WechatApi
from chatapp.core.config import Settings
from chatapp.core.db import session_scope
from chatapp.core.metrics import LOGIN_ATTEMPTS
from chatapp.errors import AuthError, InvalidInput
from chatapp.models import User

T = TypeVar("T")


async def submit_code(
    *,
    settings: Settings,
    guard: LoginGuard,
    code: str,
    attempt_id: str,
    ip: str,
    user_agent: str = "",
    now: datetime | None = None,
) -> tuple[User, str]:
    """A code login that returns the session token itself (the HTTP API).

    Args:
        attempt_id: one client's login attempt, derived by the server (failures are counted per
            attempt, and also per IP).
        ip: the client address.

    Returns:
        The user and their new session token.

    Raises:
        LoginLocked: too many failures or requests (checked before the code is looked at).
        InvalidInput: malformed, expired or used code.
        AuthError: reason "bad_code" for an unknown code.
    """

    def finish(session: Session, openid: str) -> tuple[User, str]:
        user = accounts.upsert_user(session, settings=settings, openid=openid, now=now)
        assert user.id is not None
        token = sessions.issue_session(
            session, settings=settings, user_id=user.id, user_agent=user_agent, ip=ip, now=now
        )
        return user, token

    return await _submit(settings, guard, code, attempt_id, ip, now, finish)


async def submit_code_handoff(
    *,
    settings: Settings,
    guard: LoginGuard,
    code: str,
    attempt_id: str,
    ip: str,
    now: datetime | None = None,
) -> str:
    """A code login from the page: returns a handoff secret; the session is opened when the
    browser redeems it (`GET /api/v1/auth/session`), so that route can set an HttpOnly cookie.

    Raises:
        LoginLocked, InvalidInput, AuthError: as `submit_code`.
    """

    def finish(session: Session, openid: str) -> str:
        return handoff.create(session, settings=settings, openid=openid, now=now)

    return await _submit(settings, guard, code, attempt_id, ip, now, finish)


async def _submit(
    settings: Settings,
    guard: LoginGuard,
    code: str,
    attempt_id: str,
    ip: str,
    now: datetime | None,
    finish: Callable[[Session, str], T],
) -> T:
    async with guard.serial(ip):
        try:
            await guard.check(attempt_id=attempt_id, ip=ip)
        except LoginLocked:
            LOGIN_ATTEMPTS.labels(result="rate_limited").inc()
            raise
        # A malformed code is a typo, not a guess at the code space: it counts only toward the
        # request rate (in `check`), not toward the lockout.
        try:
            normalised = accounts.normalise_code(code)
        except InvalidInput:
            LOGIN_ATTEMPTS.labels(result="bad_code").inc()
            raise
        try:
            with session_scope() as session:
                openid = accounts.live_code_openid(
                    session, settings=settings, code=normalised, now=now
                )
                # Before the code is used up: a refused login keeps it for a later try.
                await guard.check_openid(openid=openid)
                openid = accounts.redeem_login_code(
                    session, settings=settings, code=normalised, now=now
                )
                result = finish(session, openid)
        except LoginLocked:
            LOGIN_ATTEMPTS.labels(result="rate_limited").inc()
            raise
        except (AuthError, InvalidInput) as exc:
            wrong = isinstance(exc, AuthError)
            LOGIN_ATTEMPTS.labels(result="bad_code" if wrong else "expired").inc()
            if wrong:
                await _count_near_misses(settings, guard, normalised, now)
            lock = await guard.failed(attempt_id=attempt_id, ip=ip)
            if lock is not None:
                raise lock from None
            raise
        except Exception:
            LOGIN_ATTEMPTS.labels(result="error").inc()
            raise
        await guard.succeeded(attempt_id=attempt_id, openid=openid)
        LOGIN_ATTEMPTS.labels(result="ok").inc()
        return result


async def _count_near_misses(
    settings: Settings, guard: LoginGuard, code: str, now: datetime | None
) -> None:
    with session_scope() as session:
        near = accounts.near_miss_code_ids(session, settings=settings, code=code, now=now)
    retire = [code_id for code_id in near if await guard.near_miss(code_id=code_id)]
    if retire:
        with session_scope() as session:
            for code_id in retire:
                accounts.retire_code(session, code_id=code_id, now=now)


async def begin_scan_login(*, api: WechatApi, now: datetime | None = None) -> tuple[str, str]:
    """Starts a scan-to-login attempt: a ticket row plus WeChat's temporary QR code.

    Returns:
        The ticket id (keep it server-side) and the QR image URL (show it).

    Raises:
        WechatApiError: the QR code could not be created (e.g. not a verified service account).
    """
    with session_scope() as session:
        ticket = accounts.create_login_ticket(session, now=now)
    ticket_id = ticket.id
    qr_url = await api.create_login_qrcode(
        accounts.SCENE_PREFIX + ticket_id,
        expire_seconds=int(accounts.TICKET_TTL.total_seconds()),
    )
    with session_scope() as session:
        accounts.set_ticket_qr(session, ticket_id=ticket_id, qr_url=qr_url)
    return ticket_id, qr_url


def scan_handoff(*, settings: Settings, ticket_id: str, now: datetime | None = None) -> str | None:
    """The handoff secret for a confirmed scan ticket (once); None while it waits for the scan.

    Synchronous: the page's wait loop runs it in a thread.
    """
    with session_scope() as session:
        return handoff.from_scan_ticket(session, settings=settings, ticket_id=ticket_id, now=now)
