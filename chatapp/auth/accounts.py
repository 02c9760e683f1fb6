"""Login use cases: a WeChat login code or a scan ticket → a user → a session token.

Codes: 8 random digits (`secrets`), valid 5 minutes, one-time, one live code per openid. Only an
HMAC of the code is searchable; the code itself is also kept *sealed* (AES-GCM, key derived from
JWT_SECRET) so that a second "登录" returns the same live code rather than silently invalidating the
one the user is typing. When the live code has less than a minute left, a fresh one is issued.

Scan tickets: a `LoginTicket` row per browser attempt; the QR code's scene is `login:<ticket id>`.
WeChat's SCAN/subscribe event confirms it with the scanner's openid; the one browser holding the id
consumes it exactly once (a conditional UPDATE, so two racing consumers cannot both win).

Data functions take the sqlmodel session first, keyword-only; the caller commits. The flows that
combine them with the rate limits (code login, scan login) are in `chatapp.auth.login`.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from chatapp.auth import sessions
from chatapp.core.config import Settings
from chatapp.errors import AuthError, InvalidInput
from chatapp.models import LoginCode, LoginTicket, User, utcnow

CODE_LENGTH = 8
CODE_TTL = timedelta(minutes=5)
# A live code with less time than this left is replaced, so the user has time to type it.
CODE_MIN_REMAINING = timedelta(seconds=60)
TICKET_TTL = timedelta(seconds=300)
SCENE_PREFIX = "login:"
# A wrong code sharing this many leading digits with a live code counts as aimed at it.
NEAR_MISS_DIGITS = 3
_CODE_PURPOSE = "login-code"
_FULLWIDTH = str.maketrans("０１２３４５６７８９", "0123456789")


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
    return sessions.keyed_hash(settings, _CODE_PURPOSE, code)


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
        code = sessions.unseal(settings, _CODE_PURPOSE, row.code_enc)
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
            code_enc=sessions.seal(settings, _CODE_PURPOSE, code),
            created_at=now,
            expires_at=now + CODE_TTL,
        )
    )
    session.flush()
    return code


def _live_codes(
    session: Session, *, settings: Settings, code: str, now: datetime | None
) -> list[LoginCode]:
    """The unused, unexpired rows issued for `code` (at least one), or why there is none.

    Raises:
        InvalidInput: reason "expired_code" for a known code that expired or was already used.
        AuthError: reason "bad_code" for a code we never issued.
    """
    now = now or utcnow()
    rows = session.exec(select(LoginCode).where(LoginCode.code_hash == _hash(settings, code))).all()
    live = [row for row in rows if row.used_at is None and row.expires_at > now]
    if live:
        return live
    if rows:
        raise InvalidInput("expired_code")
    raise AuthError("bad_code")


def live_code_openid(
    session: Session, *, settings: Settings, code: str, now: datetime | None = None
) -> str:
    """The openid a live code was issued to, without using the code up.

    Raises:
        InvalidInput: reason "expired_code" for a known code that expired or was already used.
        AuthError: reason "bad_code" for a code we never issued.
    """
    return _live_codes(session, settings=settings, code=code, now=now)[0].openid


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
    for row in _live_codes(session, settings=settings, code=code, now=now):
        # Conditional update: of two concurrent submissions only one sees rowcount 1.
        result = session.execute(
            update(LoginCode)
            .where(col(LoginCode.id) == row.id, col(LoginCode.used_at).is_(None))
            .values(used_at=now)
        )
        if getattr(result, "rowcount", 0) == 1:
            return row.openid
    # Every live row was taken by a concurrent submission between the read and the update.
    raise InvalidInput("expired_code")


def near_miss_code_ids(
    session: Session, *, settings: Settings, code: str, now: datetime | None = None
) -> list[int]:
    """The live codes a wrong `code` landed near: same first `NEAR_MISS_DIGITS` digits.

    A wrong guess cannot be tied to the code it was aimed at, except this way: a guesser spraying
    the code space lands near each live code once per 10^NEAR_MISS_DIGITS guesses, so counting
    those per code (and retiring a code after a few, `chatapp.auth.login`) bounds the chance of
    any one code being guessed, however many addresses the guesses come from. Live codes are few
    (one per openid that asked in the last five minutes); each is unsealed to compare.
    """
    now = now or utcnow()
    rows = session.exec(
        select(LoginCode.id, LoginCode.code_enc).where(
            col(LoginCode.used_at).is_(None), LoginCode.expires_at > now
        )
    ).all()
    prefix = code[:NEAR_MISS_DIGITS]
    near: list[int] = []
    for code_id, sealed in rows:
        live = sessions.unseal(settings, _CODE_PURPOSE, sealed)
        if live is not None and live != code and live[:NEAR_MISS_DIGITS] == prefix:
            near.append(code_id)  # type: ignore[arg-type]
    return near


def retire_code(session: Session, *, code_id: int, now: datetime | None = None) -> None:
    """Ends a live code now (it was aimed at too often); its owner asks WeChat for a new one."""
    session.execute(
        update(LoginCode)
        .where(col(LoginCode.id) == code_id, col(LoginCode.used_at).is_(None))
        .values(expires_at=now or utcnow())
    )


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
    # Re-read every login, so removing an openid from ADMIN_OPENIDS demotes it (unless the CLI
    # granted it: chatapp.admin.access).
    user.is_admin = openid in settings.admin_openids or user.admin_granted
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
    return _log_in(
        session, settings=settings, openid=openid, via="code", ua=user_agent, ip=ip, now=now
    )


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


def claim_login_ticket(session: Session, *, ticket_id: str, now: datetime) -> str | None:
    """Marks a confirmed, live ticket consumed, atomically (a conditional update, so two requests
    racing for one ticket cannot both win); the openid that confirmed it, or None."""
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
            col(LoginTicket.expires_at) > now,
        )
        .values(consumed_at=now)
    )
    return openid if getattr(result, "rowcount", 0) == 1 else None


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
    openid = claim_login_ticket(session, ticket_id=ticket_id, now=now)
    if openid is None:
        return None
    return _log_in(
        session, settings=settings, openid=openid, via="scan", ua=user_agent, ip=ip, now=now
    )


def _log_in(
    session: Session, *, settings: Settings, openid: str, via: str, ua: str, ip: str, now: datetime
) -> tuple[User, str]:
    """The user of `openid` and a new session token, with the login in the audit log."""
    from chatapp.admin import audit

    user = upsert_user(session, settings=settings, openid=openid, now=now)
    assert user.id is not None
    token = sessions.issue_session(
        session, settings=settings, user_id=user.id, user_agent=ua, ip=ip, now=now
    )
    audit.record(
        session,
        action="login",
        actor_id=user.id,
        target=f"user:{user.id}",
        detail={"via": via},
        now=now,
    )
    return user, token


def ticket_expired(session: Session, *, ticket_id: str, now: datetime | None = None) -> bool:
    """True when the ticket is gone or past its lifetime (the waiting page stops)."""
    ticket = session.get(LoginTicket, ticket_id)
    return ticket is None or ticket.expires_at <= (now or utcnow())
