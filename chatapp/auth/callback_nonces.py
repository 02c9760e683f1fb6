"""The ledger of signed callback URLs already used: a signed query string works for one body only.

WeChat's URL signature covers only `timestamp` and `nonce` (with the shared token), not the body.
In plain mode — and in compat mode before plaintext pushes were refused — anyone holding a signed
query string from the last 300 s (from a log, a proxy, a browser history) could post it again with
a forged body and get a login code for any openid. So every accepted push records its
`(timestamp, nonce)` with a fingerprint of what it carried; the same URL again is accepted only with
the same fingerprint (WeChat retrying the very same push gets the same, stored, reply: nothing new
is learnt from it), and refused otherwise.

Where it is recorded, so that every worker and instance sees it:
- Redis when `REDIS_URL` is set: `SET chatapp:wx:url:<ts>:<nonce> <fingerprint> NX EX 600`;
- otherwise the database, as a `WechatPush` row keyed `url:<ts>:<nonce>` (the table that already
  keeps recent pushes for an hour; its primary key makes the insert the atomic "first one wins").

The 600 s kept covers the whole window a timestamp is accepted in (±300 s around now).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy.exc import IntegrityError

from chatapp.core.config import Settings
from chatapp.core.db import session_scope
from chatapp.models import WechatPush

KEEP_S = 600
_REDIS_PREFIX = "chatapp:wx:url:"


def fingerprint(params: Mapping[str, str], body: bytes) -> str:
    """What a signed URL was used for: the body and the encryption parameters."""
    digest = hashlib.sha256()
    for name in ("encrypt_type", "msg_signature"):
        digest.update(params.get(name, "").encode() + b"\0")
    digest.update(body)
    return digest.hexdigest()


class NonceLedger(Protocol):
    """Records signed URLs; `claim` is True when this use is the first (or the same again)."""

    def claim(self, *, timestamp: str, nonce: str, fingerprint: str) -> bool: ...


class RedisLedger:
    """The ledger in Redis (several workers or instances)."""

    def __init__(self, url: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)

    def claim(self, *, timestamp: str, nonce: str, fingerprint: str) -> bool:
        """Raises redis errors when Redis is down (the callback answers 503)."""
        key = f"{_REDIS_PREFIX}{timestamp}:{nonce}"
        if self._redis.set(key, fingerprint, nx=True, ex=KEEP_S):
            return True
        seen = self._redis.get(key)
        return isinstance(seen, bytes) and seen.decode() == fingerprint


class DatabaseLedger:
    """The ledger in the app's database (no Redis)."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock

    def claim(self, *, timestamp: str, nonce: str, fingerprint: str) -> bool:
        """Raises SQLAlchemy errors when the database is down (the callback answers 503)."""
        key = f"url:{timestamp}:{nonce}"
        now = datetime.fromtimestamp(self._clock(), UTC)
        try:
            with session_scope() as session:
                # Purged with the pushes (`DEDUP_KEEP`, an hour), far past the accepted window.
                session.add(WechatPush(dedup_key=key, reply=fingerprint, created_at=now))
            return True
        except IntegrityError:
            with session_scope() as session:
                seen = session.get(WechatPush, key)
            return seen is not None and seen.reply == fingerprint


def make_ledger(settings: Settings, clock: Callable[[], float]) -> NonceLedger:
    """Redis when configured, else the database."""
    if settings.redis_url:
        return RedisLedger(settings.redis_url)
    return DatabaseLedger(clock)
