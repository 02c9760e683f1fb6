"""Login use cases: a WeChat login code or a scan ticket → a user → a session token.

Codes: 8 random digits (`secrets`), valid 5 minutes, one-time, one live code per openid. Only an
HMAC of the code is searchable; the code itself is also kept *sealed* (AES-GCM, key derived from
JWT_SECRET) so that a second "登录" returns the same live code rather than silently invalidating the
one the user is typing. When the live code has less than a minute left, a fresh one is issued.

Scan tickets: a `LoginTicket` row per browser attempt; the QR code's scene is `login:<ticket id>`.
WeChat's SCAN/subscribe event confirms it with the scanner's openid; the one browser holding the id
consumes it exactly once (a conditional UPDATE, so two racing consumers cannot both win).

Data functions take the sqlmodel session first, keyword-only; the caller commits.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from chatapp import tokens
from chatapp.config import Settings
from chatapp.db import session_scope
from chatapp.errors import AuthError, InvalidInput
from chatapp.models import LoginCode, LoginTicket, User, utcnow
from chatapp.ratelimit import LoginGuard, LoginLocked
from chatapp.wechat_api import WechatApi

CODE_LENGTH = 8
CODE_TTL = timedelta(minutes=5)
# A live code with less time than this left is replaced, so the user has time to type it.
CODE_MIN_REMAINING = timedelta(seconds=60)
TICKET_TTL = timedelta(seconds=300)
SCENE_PREFIX = "login:"
_CODE_PURPOSE = "login-code"
_FULLWIDTH = str.maketrans("０１２３４５６７８９", "0123456789")

LOCAL_OPENID = "local-dev-user"


def normalise_code(raw: str) -> str:
    """The 8 digits of a submitted code (spaces and full-width digits tolerated).

    Raises:
        InvalidInput: reason "malformed_code" when it is not exactly 8 digits.
    """
    if not isinstance(raw, str) or len(raw) > 64:
        raise InvalidInput("malformed_code")
    code = "".join(raw.split()).translate(_FULLWIDTH)
    if len(code) != CODE_LENGTH or not code.isascii() or not code.isdigit():
        raise InvalidInput("malformed_code")
    return code


def _hash(settings: Settings, code: str) -> str:
    return tokens.keyed_hash(settings, _CODE_PURPOSE, code)


def issue_login_code(
    session: Session, *, settings: Settings, openid: str, now: datetime | None = None
) -> str:
    """The live login code for `openid`, creating one when there is none (or it is nearly spent).

    Returns:
        The 8-digit code, to be sent to the user in the WeChat reply.
    """
    now = now or utcnow()
    live = session.exec(
        select(LoginCode)
        .where(
            LoginCode.openid == openid,
            col(LoginCode.used_at).is_(None),
            LoginCode.expires_at > now,
        )
        .order_by(col(LoginCode.expires_at).desc())
    ).all()
    for row in live:
        code = tokens.unseal(settings, _CODE_PURPOSE, row.code_enc)
        if code is not None and row.expires_at - now >= CODE_MIN_REMAINING:
            return code
    # Retire whatever is left (nearly expired or unreadable) so only one code per openid is live.
    for row in live:
        row.expires_at = now
        session.add(row)
    session.execute(delete(LoginCode).where(col(LoginCode.expires_at) < now - timedelta(days=1)))
    for _ in range(10):
        code = f"{secrets.randbelow(10**CODE_LENGTH):0{CODE_LENGTH}d}"
        digest = _hash(settings, code)
        clash = session.exec(
            select(LoginCode.id).where(
                LoginCode.code_hash == digest,
                col(LoginCode.used_at).is_(None),
                LoginCode.expires_at > now,
            )
        ).first()
        if clash is None:
            break
    else:  # pragma: no cover - needs ~10^7 live codes
        raise RuntimeError("could not find a free login code")
    session.add(
        LoginCode(
            openid=openid,
            code_hash=digest,
            code_enc=tokens.seal(settings, _CODE_PURPOSE, code),
            created_at=now,
            expires_at=now + CODE_TTL,
        )
    )
    session.flush()
    return code


def redeem_login_code(
    session: Session, *, settings: Settings, code: str, now: datetime | None = None
) -> str:
    """Marks a code used and returns its openid.

    Args:
        code: an already normalised 8-digit code.

    Raises:
        InvalidInput: reason "expired_code" for a known code that expired or was already used.
        AuthError: reason "bad_code" for a code we never issued.
    """
    now = now or utcnow()
    rows = session.exec(select(LoginCode).where(LoginCode.code_hash == _hash(settings, code))).all()
    for row in rows:
        if row.used_at is not None or row.expires_at <= now:
            continue
        # Conditional update: of two concurrent submissions only one sees rowcount 1.
        result = session.execute(
            update(LoginCode)
            .where(col(LoginCode.id) == row.id, col(LoginCode.used_at).is_(None))
            .values(used_at=now)
        )
        if getattr(result, "rowcount", 0) == 1:
            return row.openid
    if rows:
        raise InvalidInput("expired_code")
    raise AuthError("bad_code")


def upsert_user(
    session: Session,
    *,
    settings: Settings,
    openid: str,
    nickname: str = "",
    now: datetime | None = None,
) -> User:
    """Creates or updates the user of `openid` at login (last_login_at, is_admin)."""
    now = now or utcnow()
    user = session.exec(select(User).where(User.openid == openid)).first()
    if user is None:
        user = User(
            openid=openid,
            nickname=nickname or f"微信用户{openid[-4:]}",
            created_at=now,
            last_login_at=now,
        )
    else:
        user.last_login_at = now
        if nickname:
            user.nickname = nickname
    # Re-read every login, so removing an openid from ADMIN_OPENIDS demotes it.
    user.is_admin = openid in settings.admin_openids
    session.add(user)
    session.flush()
    return user


def login_with_code(
    session: Session,
    *,
    settings: Settings,
    code: str,
    user_agent: str = "",
    ip: str = "",
    now: datetime | None = None,
) -> tuple[User, str]:
    """Redeems a code and opens a session.

    Returns:
        The user and their new session token.

    Raises:
        InvalidInput: malformed or expired code.
        AuthError: unknown code.
    """
    now = now or utcnow()
    openid = redeem_login_code(session, settings=settings, code=normalise_code(code), now=now)
    user = upsert_user(session, settings=settings, openid=openid, now=now)
    assert user.id is not None
    token = tokens.issue_session(
        session, settings=settings, user_id=user.id, user_agent=user_agent, ip=ip, now=now
    )
    return user, token


def get_user(session: Session, *, user_id: int) -> User | None:
    """The user with this id, or None."""
    return session.get(User, user_id)


def create_login_ticket(session: Session, *, now: datetime | None = None) -> LoginTicket:
    """A new scan-to-login attempt; its id is the browser's secret and the QR scene's suffix."""
    now = now or utcnow()
    session.execute(
        delete(LoginTicket).where(col(LoginTicket.expires_at) < now - timedelta(days=1))
    )
    ticket = LoginTicket(id=secrets.token_urlsafe(16), created_at=now, expires_at=now + TICKET_TTL)
    session.add(ticket)
    session.flush()
    return ticket


def set_ticket_qr(session: Session, *, ticket_id: str, qr_url: str) -> None:
    """Records the QR image URL WeChat gave us for the ticket."""
    ticket = session.get(LoginTicket, ticket_id)
    if ticket is not None:
        ticket.qr_url = qr_url[:512]
        session.add(ticket)
        session.flush()


def ticket_id_from_scene(scene: str) -> str | None:
    """The ticket id in a scene string `login:<id>` (or `qrscene_login:<id>`), else None."""
    scene = scene.removeprefix("qrscene_")
    if not scene.startswith(SCENE_PREFIX):
        return None
    ticket_id = scene[len(SCENE_PREFIX) :]
    return ticket_id if 0 < len(ticket_id) <= 64 else None


def confirm_login_ticket(
    session: Session, *, ticket_id: str, openid: str, now: datetime | None = None
) -> bool:
    """Records that `openid` scanned the ticket's QR code.

    Returns:
        True when the ticket is live and now confirmed by this openid (repeat scans by the same
        person are fine); False when it is unknown, expired, consumed or claimed by someone else.
    """
    now = now or utcnow()
    result = session.execute(
        update(LoginTicket)
        .where(
            col(LoginTicket.id) == ticket_id,
            col(LoginTicket.expires_at) > now,
            col(LoginTicket.consumed_at).is_(None),
            col(LoginTicket.openid).is_(None),
        )
        .values(openid=openid, confirmed_at=now)
    )
    if getattr(result, "rowcount", 0) == 1:
        return True
    ticket = session.get(LoginTicket, ticket_id)
    return bool(
        ticket is not None
        and ticket.openid == openid
        and ticket.consumed_at is None
        and ticket.expires_at > now
    )


def consume_login_ticket(
    session: Session,
    *,
    settings: Settings,
    ticket_id: str,
    user_agent: str = "",
    ip: str = "",
    now: datetime | None = None,
) -> tuple[User, str] | None:
    """Logs the waiting browser in once the ticket is confirmed; at most once per ticket.

    Returns:
        The user and a new session token, or None while unconfirmed (or when already consumed).
    """
    now = now or utcnow()
    ticket = session.get(LoginTicket, ticket_id)
    if ticket is None or ticket.openid is None or ticket.consumed_at is not None:
        return None
    openid = ticket.openid
    result = session.execute(
        update(LoginTicket)
        .where(
            col(LoginTicket.id) == ticket_id,
            col(LoginTicket.consumed_at).is_(None),
            col(LoginTicket.openid).is_not(None),
        )
        .values(consumed_at=now)
    )
    if getattr(result, "rowcount", 0) != 1:
        return None
    user = upsert_user(session, settings=settings, openid=openid, now=now)
    assert user.id is not None
    token = tokens.issue_session(
        session, settings=settings, user_id=user.id, user_agent=user_agent, ip=ip, now=now
    )
    return user, token


def ticket_expired(session: Session, *, ticket_id: str, now: datetime | None = None) -> bool:
    """True when the ticket is gone or past its lifetime (the waiting page stops)."""
    ticket = session.get(LoginTicket, ticket_id)
    return ticket is None or ticket.expires_at <= (now or utcnow())


def local_dev_user(session: Session) -> User:
    """A fixed local user, for tests and scripts that need *a* user without logging in."""
    user = session.exec(select(User).where(User.openid == LOCAL_OPENID)).first()
    if user is None:
        user = User(openid=LOCAL_OPENID, nickname="本地用户")
        session.add(user)
        session.flush()
    return user


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
    """The code-login use case shared by the login page and `POST /api/v1/auth/login`.

    Args:
        attempt_id: identifies one browser's login attempt (failures are counted per attempt).
        ip: the client address (failures are also counted per IP).

    Returns:
        The user and their new session token.

    Raises:
        LoginLocked: too many failures or requests (checked before the code is looked at).
        InvalidInput: malformed, expired or used code.
        AuthError: reason "bad_code" for an unknown code.
    """
    async with guard.serial(ip):
        return await _submit_code(
            settings=settings,
            guard=guard,
            code=code,
            attempt_id=attempt_id,
            ip=ip,
            user_agent=user_agent,
            now=now,
        )


async def _submit_code(
    *,
    settings: Settings,
    guard: LoginGuard,
    code: str,
    attempt_id: str,
    ip: str,
    user_agent: str,
    now: datetime | None,
) -> tuple[User, str]:
    from chatapp.metrics import LOGIN_ATTEMPTS

    try:
        await guard.check(attempt_id=attempt_id, ip=ip)
    except LoginLocked:
        LOGIN_ATTEMPTS.labels(result="rate_limited").inc()
        raise
    # A malformed code is a typo, not a guess at the code space: it counts only toward the
    # request rate (in `check`), not toward the lockout.
    try:
        normalised = normalise_code(code)
    except InvalidInput:
        LOGIN_ATTEMPTS.labels(result="bad_code").inc()
        raise
    try:
        with session_scope() as session:
            result = login_with_code(
                session,
                settings=settings,
                code=normalised,
                user_agent=user_agent,
                ip=ip,
                now=now,
            )
    except (AuthError, InvalidInput) as exc:
        LOGIN_ATTEMPTS.labels(result="bad_code" if isinstance(exc, AuthError) else "expired").inc()
        lock = await guard.failed(attempt_id=attempt_id, ip=ip)
        if lock is not None:
            raise lock from None
        raise
    except Exception:
        LOGIN_ATTEMPTS.labels(result="error").inc()
        raise
    await guard.succeeded(attempt_id=attempt_id)
    LOGIN_ATTEMPTS.labels(result="ok").inc()
    return result


async def begin_scan_login(*, api: WechatApi, now: datetime | None = None) -> tuple[str, str]:
    """Starts a scan-to-login attempt: a ticket row plus WeChat's temporary QR code.

    Returns:
        The ticket id (keep it server-side) and the QR image URL (show it).

    Raises:
        WechatApiError: the QR code could not be created (e.g. not a verified service account).
    """
    with session_scope() as session:
        ticket = create_login_ticket(session, now=now)
    ticket_id = ticket.id
    qr_url = await api.create_login_qrcode(
        SCENE_PREFIX + ticket_id, expire_seconds=int(TICKET_TTL.total_seconds())
    )
    with session_scope() as session:
        set_ticket_qr(session, ticket_id=ticket_id, qr_url=qr_url)
    return ticket_id, qr_url
