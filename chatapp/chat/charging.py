"""What a chat turn owes: admitted by the rule chain before the model is called, settled after.

`admit_turn` runs in the turn's transaction (`screens.start_turn`), so a refused send stores
nothing and the user's text goes back to the composer. It estimates the call — the prompt's
tokens plus the most the reply may take — and reserves that (`billing.gate`). On a plan with a
quota the reply is capped at what was reserved (`max_tokens`), so parallel answers can never
together spend more than the wallet holds; a cut answer offers 「继续」.

`settle` runs in the answer job's final save: the provider's usage when it sent one, else our
count of the text (marked estimated — llama.cpp sends none when streaming); a call that failed
before any text is refunded. An image model's turn reserves `images.IMAGE_UNITS` per picture
(times the plan's multiplier for the model) instead of tokens, and is settled per picture drawn
(`images=` in the ledger); one that drew nothing is refunded. A user's own API key pays for itself: its calls are recorded in the
ledger, pass every rule but the quota, and are never charged.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from chatapp.billing import gate, sensitive, wallet
from chatapp.billing.sensitive import WordList
from chatapp.billing.wallet import Hold, Usage
from chatapp.chat import store
from chatapp.chat.conversations import MAX_MESSAGE_CHARS, AnswerRequest, Turn
from chatapp.chat.images import IMAGE_UNITS
from chatapp.chat.prompts import estimate_tokens
from chatapp.chat.providers import get_router
from chatapp.core.config import Settings

# What a reply may take when neither the conversation nor the operator set a maximum.
DEFAULT_REPLY_RESERVE = 4096


@dataclass(frozen=True)
class Charge:
    """A turn's reservation and what its answer job needs to settle it and mask its text."""

    hold: Hold
    prompt_tokens: int
    # The operator's 敏感词 when model output is masked; None: shown as it comes.
    mask: WordList | None
    # Pictures asked for (an image model's turn); 0 for a chat turn.
    images: int = 0


def admit_turn(
    session: Session,
    *,
    settings: Settings,
    user_id: int,
    turn: Turn,
    request: AnswerRequest,
    provider: str,
    own_key: bool,
) -> tuple[AnswerRequest, Charge]:
    """Runs the rule chain for the turn and reserves its estimate.

    Returns:
        The request (its reply capped at the reservation on a plan with a quota) and the charge.

    Raises:
        billing.rules.Refused: a rule refused (audited); the caller's transaction rolls back.
    """
    text = ""
    if not turn.continues:
        msg = store.get_message(session, user_id=user_id, message_id=turn.user_message_id)
        text = msg.content if msg is not None else ""
    images = 1 if get_router().is_image_model(request.model) else 0
    prompt_tokens = sum(estimate_tokens(str(m.get("content") or "")) for m in request.messages)
    reply = int(request.params.get("max_tokens") or DEFAULT_REPLY_RESERVE)
    if images:  # a price per picture, not per token
        prompt_tokens, reply = 0, images * IMAGE_UNITS
    hold = gate.admit_call(
        session,
        settings=settings,
        user_id=user_id,
        model=request.model,
        text=text,
        prompt_tokens=prompt_tokens,
        reply_tokens=0 if own_key and not images else reply,
        max_message_chars=MAX_MESSAGE_CHARS,
        provider=provider,
        conversation_id=turn.conversation_id,
        charge=not own_key,
    )
    if hold.units and not images and "max_tokens" not in request.params:
        request = dataclasses.replace(request, params={**request.params, "max_tokens": reply})
    words = sensitive.policy(session)
    mask = words.words if words.mask_output and words.words.size else None
    return request, Charge(hold=hold, prompt_tokens=prompt_tokens, mask=mask, images=images)


def settle(
    session: Session,
    charge: Charge,
    *,
    usage: Any,
    text: str,
    reasoning: str,
    failed: bool,
    first_token_ms: int | None,
    error_code: str | None,
    images: int = 0,
) -> int:
    """Books the answer's real cost (or our count of it); refunds a call that produced nothing.

    `images`: the pictures an image model's answer drew (charged per picture)."""
    if charge.images:
        drawn = Usage(images=images, first_token_ms=first_token_ms, error_code=error_code)
        if not images:
            wallet.refund(session, hold=charge.hold, usage=drawn)
            return 0
        return wallet.settle(
            session, hold=charge.hold, usage=drawn, flat_units=images * IMAGE_UNITS
        )
    prompt = getattr(usage, "prompt_tokens", None)
    completion = getattr(usage, "completion_tokens", None)
    estimated = prompt is None or completion is None
    used = Usage(
        prompt_tokens=int(prompt if prompt is not None else charge.prompt_tokens),
        completion_tokens=int(
            completion if completion is not None else estimate_tokens(text + reasoning)
        ),
        reasoning_tokens=int(getattr(usage, "reasoning_tokens", None) or 0),
        estimated=estimated,
        first_token_ms=first_token_ms,
        error_code=error_code,
    )
    if failed and not text and not reasoning:
        wallet.refund(session, hold=charge.hold, usage=used)
        return 0
    return wallet.settle(session, hold=charge.hold, usage=used)
