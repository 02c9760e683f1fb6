"""Open API keys: create, list, revoke, check, and count what each one used.

A key is `ck-` + 43 URL-safe characters (32 random bytes). It is shown once, when created; the
database keeps only its SHA-256 — a key has 256 bits of entropy, so a plain hash is enough (a
slow password hash would add nothing but a delay to every API call). Checking a key is one
indexed lookup by that hash, and a revoked key is refused.

Data functions take the session first and filter by owner inside the query (a user lists and
revokes only their own keys).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import update
from sqlmodel import Session, col, select

from chatapp.errors import InvalidInput
from chatapp.models import ApiKey, utcnow

PREFIX = "ck-"
SECRET_BYTES = 32
# Characters of the key shown in lists, so keys can be told apart ("ck-AbCd…").
SHOWN_CHARS = 7
MAX_NAME_CHARS = 64
# Keys alive at once per user: enough for every tool a person uses, few enough to list on a phone.
MAX_KEYS_PER_USER = 20


@dataclass(frozen=True)
class KeyOwner:
    """Who a presented key belongs to."""

    key_id: int
    user_id: int


def hash_secret(secret: str) -> str:
    """The stored form of a key."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def looks_like_key(secret: str) -> bool:
    """True for a string of the shape we issue (cheap, before touching the database)."""
    return secret.startswith(PREFIX) and 20 <= len(secret) <= 100


def clean_name(name: str) -> str:
    """A key's name, stripped.

    Raises:
        InvalidInput: "api_key_name" when empty or longer than MAX_NAME_CHARS.
    """
    cleaned = " ".join((name or "").split())
    if not cleaned or len(cleaned) > MAX_NAME_CHARS:
        raise InvalidInput("api_key_name", str(MAX_NAME_CHARS))
    return cleaned


def create_key(session: Session, *, user_id: int, name: str) -> tuple[ApiKey, str]:
    """Issues a key for `user_id`; returns the row and the key itself (never stored).

    Raises:
        InvalidInput: "api_key_name" (a bad name) or "api_key_limit" (MAX_KEYS_PER_USER alive).
    """
    cleaned = clean_name(name)
    alive = session.exec(
        select(ApiKey.id).where(ApiKey.user_id == user_id, col(ApiKey.revoked_at).is_(None))
    ).all()
    if len(alive) >= MAX_KEYS_PER_USER:
        raise InvalidInput("api_key_limit", str(MAX_KEYS_PER_USER))
    secret = PREFIX + secrets.token_urlsafe(SECRET_BYTES)
    row = ApiKey(
        user_id=user_id,
        name=cleaned,
        secret_hash=hash_secret(secret),
        prefix=secret[:SHOWN_CHARS],
    )
    session.add(row)
    session.flush()
    return row, secret


def list_keys(session: Session, *, user_id: int) -> list[ApiKey]:
    """The user's keys that are not revoked, newest first."""
    return list(
        session.exec(
            select(ApiKey)
            .where(ApiKey.user_id == user_id, col(ApiKey.revoked_at).is_(None))
            .order_by(col(ApiKey.id).desc())
        ).all()
    )


def revoke_key(session: Session, *, user_id: int, key_id: int) -> bool:
    """Revokes one of the user's keys; False when it is not theirs or already revoked."""
    result = session.exec(  # type: ignore[call-overload]
        update(ApiKey)
        .where(
            col(ApiKey.id) == key_id,
            col(ApiKey.user_id) == user_id,
            col(ApiKey.revoked_at).is_(None),
        )
        .values(revoked_at=utcnow())
    )
    return bool(result.rowcount)


def authenticate(session: Session, *, secret: str) -> KeyOwner | None:
    """The owner of a live key, or None for anything else (unknown, revoked, malformed)."""
    if not looks_like_key(secret):
        return None
    row = session.exec(
        select(ApiKey.id, ApiKey.user_id).where(
            ApiKey.secret_hash == hash_secret(secret), col(ApiKey.revoked_at).is_(None)
        )
    ).first()
    if row is None:
        return None
    key_id, user_id = row
    assert key_id is not None
    return KeyOwner(key_id=key_id, user_id=user_id)


def record_use(
    session: Session,
    *,
    key_id: int,
    prompt_tokens: int = 0,
    completion_tokens: int = 0,
    answered: bool = True,
) -> None:
    """Notes when the key was used and, for a model call (`answered`), counts it and its tokens,
    in one UPDATE (no read: parallel calls on several workers all count)."""
    session.exec(  # type: ignore[call-overload]
        update(ApiKey)
        .where(col(ApiKey.id) == key_id)
        .values(
            last_used_at=utcnow(),
            requests=ApiKey.requests + int(answered),
            prompt_tokens=ApiKey.prompt_tokens + max(0, prompt_tokens),
            completion_tokens=ApiKey.completion_tokens + max(0, completion_tokens),
        )
    )
