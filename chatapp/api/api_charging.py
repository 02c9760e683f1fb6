"""The open API's calls pass the same rule chain, quotas and usage ledger as the chat page.

`admit` runs `billing.gate.admit_call` for a call (source "api") in a worker thread and turns a
refusal into OpenAI's error shape with a status a client acts on (429 `insufficient_quota` for
a spent quota, as OpenAI answers; 403 for a frozen account or a model the plan excludes; 400 for
敏感词 or a message too long). `settle` books what the call used once it ended — the provider's
usage, else the estimate the reply's usage object carries — and refunds a call that failed
before any text. A call on the user's own provider key is recorded and never charged.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from chatapp.billing import gate, rules, wallet
from chatapp.billing.rules import Refused
from chatapp.billing.wallet import Hold, Usage
from chatapp.chat.charging import DEFAULT_REPLY_RESERVE
from chatapp.chat.conversations import MAX_MESSAGE_CHARS
from chatapp.chat.prompts import estimate_tokens
from chatapp.chat.providers import get_router
from chatapp.core.config import Settings
from chatapp.core.db import session_scope

# rule -> (HTTP status, OpenAI error type, code)
_STATUS = {
    "account_status": (403, "permission_error", "account_frozen"),
    "model_allowed": (403, "permission_error", "model_not_allowed"),
    "sensitive_words": (400, "invalid_request_error", "content_policy_violation"),
    "send_rate": (429, "requests", "rate_limit_exceeded"),
    "message_size": (400, "invalid_request_error", "message_too_long"),
    "quota": (429, "insufficient_quota", "insufficient_quota"),
}


@dataclass(frozen=True)
class Refusal:
    """A refused call, ready for `error_response`."""

    status: int
    type_: str
    code: str
    message: str
    retry_after_s: int = 0


def _admit(
    settings: Settings,
    *,
    user_id: int,
    messages: list[dict[str, Any]],
    model: str,
    params: dict[str, Any],
    own_key: bool,
) -> tuple[Hold, dict[str, Any]]:
    last_user = next(
        (str(m.get("content") or "") for m in reversed(messages) if m.get("role") == "user"), ""
    )
    prompt = sum(estimate_tokens(str(m.get("content") or "")) for m in messages)
    reply = int(params.get("max_tokens") or DEFAULT_REPLY_RESERVE)
    with session_scope() as session:
        hold = gate.admit_call(
            session,
            settings=settings,
            user_id=user_id,
            model=model,
            text=last_user,
            prompt_tokens=prompt,
            reply_tokens=0 if own_key else reply,
            max_message_chars=MAX_MESSAGE_CHARS,
            source="api",
            provider=get_router().provider_name(model, own_key=own_key),
            charge=not own_key,
        )
    if hold.units and "max_tokens" not in params:
        # On a plan with a quota the reply is capped at what was reserved (see chat/charging.py).
        params = {**params, "max_tokens": reply}
    return hold, params


async def admit(
    settings: Settings,
    *,
    user_id: int,
    messages: list[dict[str, Any]],
    model: str,
    params: dict[str, Any],
    own_key: bool,
    lang: str,
) -> tuple[Hold, dict[str, Any]] | Refusal:
    """The call's reservation and the parameters it goes upstream with, or why it may not run."""
    try:
        return await asyncio.to_thread(
            _admit,
            settings,
            user_id=user_id,
            messages=messages,
            model=model,
            params=params,
            own_key=own_key,
        )
    except Refused as exc:
        await asyncio.to_thread(gate.record_refusal, user_id, exc.refusal)
        status, type_, code = _STATUS.get(
            exc.refusal.rule, (400, "invalid_request_error", exc.refusal.reason)
        )
        wait = int(exc.refusal.params.get("s", "0") or 0)
        return Refusal(status, type_, code, rules.describe(exc.refusal, lang), wait)


def _settle(hold: Hold, usage: dict[str, int] | None, failed: bool) -> None:
    used = Usage(
        prompt_tokens=int((usage or {}).get("prompt_tokens", 0)),
        completion_tokens=int((usage or {}).get("completion_tokens", 0)),
        estimated=bool((usage or {}).get("estimated", False)),
    )
    with session_scope() as session:
        if failed:
            wallet.refund(session, hold=hold, usage=used)
        else:
            wallet.settle(session, hold=hold, usage=used)


async def settle(hold: Hold | None, usage: dict[str, int] | None, *, failed: bool) -> None:
    """Books the call (survives the caller going away)."""
    if hold is None:
        return
    work = asyncio.to_thread(_settle, hold, usage, failed)
    await asyncio.shield(asyncio.ensure_future(work))
