"""Per-user spending limits: sends per minute and answers streaming at once.

Every send, regenerate and edit-and-resend starts a model call on the operator's key, so all
three pass both checks, and both hold across tabs and worker processes:

- **sends per minute** (`CHAT_SENDS_PER_MINUTE`): a moving window per user on the `limits`
  library, in Redis when `REDIS_URL` is set (every worker counts the same sends) and in process
  memory otherwise (one process). Test-and-count is one atomic step in either storage. If Redis is
  unreachable the check lets the send through (and says so in the log, at most once a minute):
  the state manager lives there too, and the answer cap below still holds.
- **answers at once** (`CHAT_MAX_CONCURRENT_ANSWERS`): counted in the database, where the answers
  are — the user's assistant messages with status 'streaming' whose last checkpoint is recent. A
  process killed mid-answer leaves its rows 'streaming' but stops checkpointing them: they stop
  counting after `STALE_STREAM_S` (and are marked interrupted by the next start-up or follower),
  so no counter is left behind by a kill. Deleting a streaming answer's row (another tab's
  regenerate, edit or delete) frees its slot: its job then stops within a checkpoint interval
  (`answers._Checkpointer`), so its model call does not run on uncounted. The count runs
  in the transaction that opens the new answer, after locking the user's row (PostgreSQL
  `FOR NO KEY UPDATE`; SQLite lets one writer at a time, and every turn writes before it
  counts), so two tabs sending at once cannot both take the last slot.

A refusal is `SendLimited` (an `InvalidInput`), turned into the user's language by `describe`.
"""

from __future__ import annotations

import logging
import math
import time
from datetime import datetime, timedelta

from limits import RateLimitItem, RateLimitItemPerMinute
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string
from sqlmodel import Session, col, func, select

from chatapp.auth.ratelimit import storage_uri
from chatapp.core.config import Settings
from chatapp.errors import InvalidInput
from chatapp.models import Message, User, utcnow

log = logging.getLogger(__name__)

# A broken rate-limit storage is logged at most this often (every send would log otherwise).
STORAGE_ERROR_LOG_S = 60.0


class SendLimited(InvalidInput):
    """A send refused by a per-user limit: reason "send_rate_limited" (with `retry_after_s`) or
    "too_many_answers"; `limit` is the operator's number."""

    def __init__(self, reason: str, *, limit: int, retry_after_s: int = 0) -> None:
        super().__init__(reason, str(limit))
        self.limit = limit
        self.retry_after_s = max(1, retry_after_s) if retry_after_s else 0


class SendRateGuard:
    """Counts a user's sends in a one-minute moving window; refuses past `per_minute`."""

    def __init__(self, storage: Storage, per_minute: int) -> None:
        self._limiter = MovingWindowRateLimiter(storage)
        self._item: RateLimitItem = RateLimitItemPerMinute(per_minute)
        self.per_minute = per_minute
        self._last_error_log = -math.inf

    async def hit(self, user_id: int) -> None:
        """Counts one send of `user_id`, or refuses it.

        Raises:
            SendLimited: reason "send_rate_limited"; nothing was counted.
        """
        key = str(user_id)
        try:
            if await self._limiter.hit(self._item, "send", key):
                return
            stats = await self._limiter.get_window_stats(self._item, "send", key)
        except Exception:  # storage unreachable: fail open, see the module docstring
            now = time.monotonic()
            if now - self._last_error_log >= STORAGE_ERROR_LOG_S:
                self._last_error_log = now
                log.warning("send rate limit not checked: its storage is unreachable")
            return
        raise SendLimited(
            "send_rate_limited",
            limit=self.per_minute,
            retry_after_s=math.ceil(stats.reset_time - time.time()),
        )


def make_send_guard(settings: Settings, *, key_prefix: str = "LIMITS") -> SendRateGuard:
    """A guard on the storage the settings choose (Redis with `REDIS_URL`, else memory)."""
    uri = storage_uri(settings)
    options: dict[str, str] = (
        {"implementation": "redispy", "key_prefix": key_prefix}
        if uri.startswith("async+redis")
        else {}
    )
    storage = storage_from_string(uri, **options)
    return SendRateGuard(storage, settings.sends_per_minute)  # type: ignore[arg-type]


_guard: SendRateGuard | None = None


def get_send_guard(settings: Settings) -> SendRateGuard:
    """The process-wide guard every send handler uses."""
    global _guard
    if _guard is None:
        _guard = make_send_guard(settings)
    return _guard


def live_answers(session: Session, *, user_id: int, fresh_since: datetime) -> int:
    """How many answers of the user are streaming now: status 'streaming' and checkpointed since
    `fresh_since` (older ones belong to a process that died)."""
    return session.exec(
        select(func.count())
        .select_from(Message)
        .where(
            Message.user_id == user_id,
            Message.kind == "assistant",
            Message.status == "streaming",
            col(Message.updated_at) >= fresh_since,
        )
    ).one()


def check_answers(
    session: Session, *, user_id: int, limit: int, stale_after_s: float, now: datetime | None = None
) -> None:
    """Refuses a new answer when `limit` of the user's answers are streaming already.

    Call it in the transaction that then opens the answer: it locks the user's row until that
    transaction ends, so concurrent sends of one user are counted one after the other.

    Raises:
        SendLimited: reason "too_many_answers".
    """
    # NO KEY UPDATE: the turn's inserts already hold KEY SHARE on this row (their foreign keys);
    # a plain FOR UPDATE would wait on the other sender's KEY SHARE while it waits on ours.
    session.exec(select(User.id).where(User.id == user_id).with_for_update(key_share=True)).first()
    since = (now or utcnow()) - timedelta(seconds=stale_after_s)
    if live_answers(session, user_id=user_id, fresh_since=since) >= limit:
        raise SendLimited("too_many_answers", limit=limit)


def describe(exc: SendLimited, lang: str) -> str:
    """What the user reads for a refused send, in their language."""
    from chatapp.i18n import translate

    key = "chat.limit.rate" if exc.reason == "send_rate_limited" else "chat.limit.answers"
    return (
        translate(key, lang)
        .replace("{n}", str(exc.limit))
        .replace("{s}", str(exc.retry_after_s or 1))
    )
