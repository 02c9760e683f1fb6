"""The door every model call goes through: gather the facts, run the rule chain, reserve.

`admit_call` runs in the caller's transaction (a chat turn stores its message and reserves in
one commit, so a refused send stores nothing), in a worker thread. A refusal is raised as
`rules.Refused`, whose `refusal` the page or the API turns into the user's language; the caller
passes it to `record_refusal` once its own transaction has rolled back (on SQLite a second
writer would wait on the first one's lock), which counts it and writes it to the audit log.

The plan's own send rate (`Plan.sends_per_minute`) is a moving window per user in Redis when
`REDIS_URL` is set (every worker counts the same sends), else in process memory; the server-wide
`CHAT_SENDS_PER_MINUTE` (`chatapp.chat.spend`) still applies before it.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import replace
from datetime import datetime

from limits import RateLimitItemPerMinute
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from sqlmodel import Session

from chatapp.billing import plans, rules, sensitive, wallet
from chatapp.billing.rules import Facts, Refusal, Refused, Request
from chatapp.billing.wallet import Hold, QuotaRefused
from chatapp.core.config import Settings
from chatapp.models import utcnow

log = logging.getLogger(__name__)


class _PlanRate:
    """Per-user sends in a one-minute window, at each plan's own limit."""

    def __init__(self, settings: Settings) -> None:
        uri = settings.redis_url or "memory://"
        options = {"key_prefix": "PLANRATE"} if uri.startswith("redis") else {}
        self._limiter = MovingWindowRateLimiter(storage_from_string(uri, **options))

    def retry_after_s(self, user_id: int, per_minute: int) -> int:
        """Counts one send; 0 when it may go, else the seconds until it may (not counted)."""
        item = RateLimitItemPerMinute(per_minute)
        try:
            if self._limiter.hit(item, "plan", str(user_id)):
                return 0
            reset = self._limiter.get_window_stats(item, "plan", str(user_id)).reset_time
        except Exception:  # storage unreachable: fail open, as the server-wide limit does
            log.warning("plan send rate not checked: its storage is unreachable")
            return 0
        return max(1, math.ceil(reset - time.time()))


_rate: _PlanRate | None = None
_rate_lock = threading.Lock()


def _plan_rate(settings: Settings) -> _PlanRate:
    global _rate
    with _rate_lock:
        if _rate is None:
            _rate = _PlanRate(settings)
        return _rate


def admit_call(
    session: Session,
    *,
    settings: Settings,
    user_id: int,
    model: str,
    text: str,
    prompt_tokens: int,
    reply_tokens: int,
    max_message_chars: int,
    source: str = "chat",
    provider: str = "",
    conversation_id: str | None = None,
    charge: bool = True,
    now: datetime | None = None,
) -> Hold:
    """Runs the rule chain for a call and reserves its estimate.

    Args:
        text: the user's new message ("" for a regenerate or a continuation).
        prompt_tokens: the estimated tokens of what is sent (history included).
        reply_tokens: the most the answer may take (the call's max_tokens).
        max_message_chars: the server's message size, used when the plan sets none.
        charge: False when the user pays the provider themselves (their own API key): every
            rule but the quota applies, and the call is recorded at no charge.

    Raises:
        Refused: the first rule that refused (give it to `record_refusal` after the rollback).
    """
    now = now or utcnow()
    row, terms = plans.plan_of(session, settings=settings, user_id=user_id, now=now)
    if not charge:
        terms = replace(terms, daily_free=None, charged=False)
    estimate = terms.units(model, prompt_tokens + reply_tokens)
    free_left = 0
    available: int | None = None
    if terms.daily_free is not None:
        used = row.free_used if row.free_day == plans.today(settings, now) else 0
        free_left = max(0, terms.daily_free - used)
        available = free_left + row.balance - row.reserved
    facts = Facts(
        status=row.status,
        terms=terms,
        words=sensitive.policy(session),
        rate_retry_after_s=0,
        rate_limit=terms.sends_per_minute,
        max_message_chars=terms.max_message_chars or max_message_chars,
        available=available,
        free_left=free_left,
    )
    req = Request(model=model, text=text, estimate=estimate)
    refusal = rules.first_refusal(facts, req, rules.CHAIN[:3])
    if refusal is None and terms.sends_per_minute:
        wait = _plan_rate(settings).retry_after_s(user_id, terms.sends_per_minute)
        refusal = rules.send_rate(_with_rate(facts, wait), req)
    refusal = refusal or rules.first_refusal(facts, req, rules.CHAIN[4:])
    if refusal is None:
        try:
            return wallet.reserve(
                session,
                settings=settings,
                user_id=user_id,
                terms=terms,
                model=model,
                units=estimate,
                source=source,
                provider=provider,
                conversation_id=conversation_id,
                now=now,
            )
        except QuotaRefused as exc:  # spent meanwhile by a parallel call
            refusal = Refusal("quota", exc.reason, {"n": exc.detail})
    raise Refused(refusal)


def _with_rate(facts: Facts, wait: int) -> Facts:
    return replace(facts, rate_retry_after_s=wait)


def record_refusal(user_id: int, refusal: Refusal) -> None:
    """Counts a refusal and writes it to the audit log, in a transaction of its own (call it
    after the refused call's transaction ended)."""
    from chatapp.admin import audit
    from chatapp.core import metrics
    from chatapp.core.db import session_scope

    metrics.REFUSALS.labels(rule=refusal.rule).inc()
    try:
        with session_scope() as own:
            audit.record(
                own,
                action="refusal",
                actor_id=user_id,
                target=refusal.rule,
                detail={"reason": refusal.reason, **refusal.params},
            )
    except Exception:  # the refusal stands even if the log cannot be written
        log.exception("refusal of user %s not audited", user_id)
