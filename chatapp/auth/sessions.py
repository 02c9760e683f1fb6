"""Session tokens (JWT HS256) and the small secret-keeping helpers derived from the JWT secret.

A token is only half of a session: every issued `jti` has an `AuthSession` row, and `verify_session`
checks both the signature/claims *and* that row (not revoked, not expired), so logout and
"log out everywhere" take effect immediately.

Keys for other purposes (login-code HMAC, sealing stored WeChat replies) are derived from the JWT
secret with HMAC-SHA256 over a purpose label, so no extra secret must be configured and one
purpose's key never equals another's.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import bindparam, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from chatapp.core.config import Settings
from chatapp.errors import AuthError
from chatapp.models import AuthSession, User, utcnow

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ["sub", "iat", "exp", "jti", "iss"]

Clock = Callable[[], datetime]


def derive_key(settings: Settings, purpose: str) -> bytes:
    """A 32-byte key for `purpose`, derived from the JWT secret (never the secret itself)."""
    return hmac.new(settings.jwt_secret.encode(), b"chatapp:" + purpose.encode(), "sha256").digest()


def seal(settings: Settings, purpose: str, plaintext: str) -> str:
    """Encrypts and authenticates `plaintext` (AES-GCM) for storing it at rest."""
    nonce = secrets.token_bytes(12)
    box = AESGCM(derive_key(settings, purpose))
    data = box.encrypt(nonce, plaintext.encode(), purpose.encode())
    return base64.urlsafe_b64encode(nonce + data).decode()


def unseal(settings: Settings, purpose: str, sealed: str) -> str | None:
    """The plaintext of `seal(...)`, or None when tampered with or sealed under another key."""
    try:
        raw = base64.urlsafe_b64decode(sealed.encode())
        box = AESGCM(derive_key(settings, purpose))
        return box.decrypt(raw[:12], raw[12:], purpose.encode()).decode()
    except Exception:  # any corruption means "not ours"
        return None


def keyed_hash(settings: Settings, purpose: str, value: str) -> str:
    """HMAC-SHA256 of `value` under the purpose key, hex (what we store instead of a secret)."""
    return hmac.new(derive_key(settings, purpose), value.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Claims:
    """The verified claims of a session token."""

    user_id: int
    jti: str
    issued_at: datetime
    expires_at: datetime


def issue_session(
    session: Session,
    *,
    settings: Settings,
    user_id: int,
    user_agent: str = "",
    ip: str = "",
    now: datetime | None = None,
) -> str:
    """Creates an `AuthSession` row and returns its signed JWT.

    Args:
        session: the database session (the caller commits).
        settings: supplies the secret, issuer and lifetime.
        user_id: who logs in.
        user_agent: recorded for the user's session list.
        ip: recorded for the user's session list.
        now: the current time (aware UTC); injectable for tests.

    Returns:
        The encoded token.
    """
    now = now or utcnow()
    expires = now + timedelta(days=settings.jwt_ttl_days)
    jti = secrets.token_urlsafe(24)
    session.add(
        AuthSession(
            jti=jti,
            user_id=user_id,
            created_at=now,
            expires_at=expires,
            user_agent=user_agent[:256],
            ip=ip[:64],
        )
    )
    session.flush()
    payload = {
        "sub": str(user_id),
        "iat": int(_epoch(now)),
        "exp": int(_epoch(expires)),
        "jti": jti,
        "iss": settings.jwt_issuer,
    }
    return jwt.encode(payload, settings.jwt_secret, algorithm=ALGORITHM)


def decode_token(token: str, *, settings: Settings, now: datetime | None = None) -> Claims:
    """Checks a token's signature and claims (not the database).

    Raises:
        AuthError: malformed, wrong signature or algorithm, expired, wrong issuer, missing claims.
    """
    if not token or len(token) > 4096:
        raise AuthError("invalid_token")
    options: dict = {"require": REQUIRED_CLAIMS}
    if now is not None:
        # pyjwt reads the wall clock; an injected clock is honoured by checking exp ourselves.
        options["verify_exp"] = False
        options["verify_iat"] = False
    try:
        payload = jwt.decode(
            token,
            settings.jwt_secret,
            algorithms=[ALGORITHM],
            issuer=settings.jwt_issuer,
            options=options,  # type: ignore[arg-type]
        )
        user_id = int(payload["sub"])
        jti = str(payload["jti"])
        iat = _from_epoch(payload["iat"])
        exp = _from_epoch(payload["exp"])
    except AuthError:
        raise
    except (jwt.PyJWTError, ValueError, TypeError, OverflowError) as exc:
        raise AuthError("invalid_token") from exc
    if now is not None and exp <= now:
        raise AuthError("invalid_token")
    return Claims(user_id=user_id, jti=jti, issued_at=iat, expires_at=exp)


# Built once: constructing the statement took as long as running it.
_SESSION_USER = (
    sa_select(
        col(AuthSession.user_id),
        col(AuthSession.revoked_at),
        col(AuthSession.expires_at),
        col(User.nickname),
        col(User.avatar),
        col(User.is_admin),
    )
    .join(User, col(User.id) == col(AuthSession.user_id))
    .where(col(AuthSession.jti) == bindparam("jti"))
)


@dataclass(frozen=True)
class SessionUser:
    """A verified session and what the page shows of its user."""

    claims: Claims
    nickname: str
    avatar: str
    is_admin: bool


def verify_session_user(
    session: Session, *, settings: Settings, token: str, now: datetime | None = None
) -> SessionUser:
    """Checks the token *and* its `AuthSession` row (exists, same user, not revoked, not
    expired), and reads the user's profile, in ONE query of plain columns.

    Every event handler runs this on the event loop: two ORM lookups (session row, then user)
    cost ~5 % of a worker's main-thread time at 300 streams (bench/README.md, "concurrency").

    Raises:
        AuthError: the token or its session is not valid any more (or its user is gone).
    """
    claims = decode_token(token, settings=settings, now=now)
    row = session.connection().execute(_SESSION_USER, {"jti": claims.jti}).first()
    current = now or utcnow()
    if (
        row is None
        or row.user_id != claims.user_id
        or row.revoked_at is not None
        or row.expires_at <= current
    ):
        raise AuthError("revoked")
    return SessionUser(claims, row.nickname, row.avatar, row.is_admin)


def verify_session(
    session: Session, *, settings: Settings, token: str, now: datetime | None = None
) -> Claims:
    """`verify_session_user` without the profile.

    Raises:
        AuthError: the token or its session is not valid any more.
    """
    return verify_session_user(session, settings=settings, token=token, now=now).claims


def revoke_session(session: Session, *, jti: str, now: datetime | None = None) -> None:
    """Revokes one session (logout in this browser)."""
    session.execute(
        update(AuthSession)
        .where(col(AuthSession.jti) == jti, col(AuthSession.revoked_at).is_(None))
        .values(revoked_at=now or utcnow())
    )


def revoke_all_sessions(session: Session, *, user_id: int, now: datetime | None = None) -> int:
    """Revokes every live session of a user ("log out everywhere"); returns how many."""
    live = session.exec(
        select(AuthSession).where(
            AuthSession.user_id == user_id, col(AuthSession.revoked_at).is_(None)
        )
    ).all()
    stamp = now or utcnow()
    for row in live:
        row.revoked_at = stamp
        session.add(row)
    session.flush()
    return len(live)


def _epoch(moment: datetime) -> float:
    return moment.timestamp()


def _from_epoch(value: object) -> datetime:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError("timestamp claim must be a number")
    return datetime.fromtimestamp(float(value), UTC)
