"""Whether an open API call may run: the one place the web app's checks are applied to it.

`admit` is the seam the operator console's rule chain (account status → model allowed → 敏感词 →
send rate → message size → quota) will replace; until then it applies what the web app checks
today, with the same refusal texts:

1. **sends per minute** — the user's `CHAT_SENDS_PER_MINUTE` window (`chatapp.chat.spend`),
   shared with the chat page: a call is a send, whichever door it came through;
2. **answers at once** — `CHAT_MAX_CONCURRENT_ANSWERS`. The page counts its answers in the
   database (their message rows); API calls store no messages, so they are counted in this
   process, per user. With several workers a user may run this many per worker (logged as a
   limit of this stage in docs/open-api.md);
3. **parameter ceilings** — `max_tokens` above `CHAT_MAX_REPLY_TOKENS` is refused (the page
   clamps a stored value; a caller asking for more deserves to know), and an unset one becomes
   `CHAT_DEFAULT_REPLY_TOKENS` like the page's.

A refusal is `Refused`, which the routes answer in OpenAI's error shape.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

from chatapp.api.openai_frames import api_text
from chatapp.chat import spend
from chatapp.core.config import Settings


@dataclass
class Refused(Exception):
    """A call `admit` refuses: the HTTP status and OpenAI error fields, in the user's language."""

    status: int
    type_: str
    code: str
    message: str
    param: str | None = None
    retry_after_s: int = 0


# API answers streaming now in this process, per user (see rule 2).
_live: Counter[int] = Counter()


@contextlib.asynccontextmanager
async def admit(
    settings: Settings,
    *,
    user_id: int,
    params: dict[str, Any],
    lang: str,
    send_guard: spend.SendRateGuard | None = None,
) -> AsyncIterator[dict[str, Any]]:
    """Runs the checks; inside the block the call holds one of the user's answer slots.

    Args:
        settings: the validated settings (the operator's limits).
        user_id: who calls.
        params: the request's sampling parameters (`openai_request.ChatCompletionRequest.params`).
        lang: the caller's language, for the refusal's message.
        send_guard: the sends-per-minute window; the process-wide one the page uses when omitted.

    Yields:
        The parameters as they go upstream.

    Raises:
        Refused: a limit says no; nothing was counted but the send (as on the page).
    """
    sendable = _within_ceilings(settings, params, lang)
    try:
        await (send_guard or spend.get_send_guard(settings)).hit(user_id)
    except spend.SendLimited as exc:
        raise Refused(
            429,
            "requests",
            "rate_limit_exceeded",
            spend.describe(exc, lang),
            retry_after_s=exc.retry_after_s,
        ) from exc
    with _answer_slot(settings, user_id=user_id, lang=lang):
        yield sendable


@contextlib.contextmanager
def _answer_slot(settings: Settings, *, user_id: int, lang: str) -> Iterator[None]:
    limit = settings.max_concurrent_answers
    if _live[user_id] >= limit:
        exc = spend.SendLimited("too_many_answers", limit=limit)
        raise Refused(429, "requests", "too_many_answers", spend.describe(exc, lang))
    _live[user_id] += 1
    try:
        yield
    finally:
        _live[user_id] -= 1
        if _live[user_id] <= 0:
            del _live[user_id]


def _within_ceilings(settings: Settings, params: dict[str, Any], lang: str) -> dict[str, Any]:
    ceilings = settings.ceilings
    out = dict(params)
    max_tokens = out.get("max_tokens")
    if max_tokens is None:
        if ceilings.default_max_tokens is not None:
            out["max_tokens"] = ceilings.default_max_tokens
    elif max_tokens > ceilings.max_tokens:
        message = api_text("range", lang, param="max_tokens", lo="1", hi=str(ceilings.max_tokens))
        raise Refused(400, "invalid_request_error", "max_tokens_too_large", message, "max_tokens")
    return out
