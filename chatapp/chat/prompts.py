"""Pure prompt building: role + history + settings → the messages sent to the model.

Context rules (documented in the README):
1. The role's system prompt goes first, then the role's opening messages (few-shot pairs).
2. History starts after the last "清除上下文" divider.
3. Only finished parts of history are sent: error/empty assistant messages are skipped; a stopped or
   interrupted answer is sent as far as it got (the user saw it). An answer's reasoning is never
   sent (it is not in `content`): models are told not to get their reasoning back, and it would
   cost the budget.
4. At most `window` history messages, newest kept, and at most `token_budget` estimated tokens for
   the whole prompt: the role's system prompt and opening messages count toward it first (they
   are always sent; their size is capped by `roles.schema`). The newest user message is always
   kept, even when it alone exceeds the budget. Callers pass window and budget already clamped
   to the operator's ceilings (`chatapp.core.parameters`), so this bounds what one request sends.

Token estimate: ~1 token per CJK character and ~1 token per 4 other characters, plus 4 per message.
It errs high for English and is close for Chinese, which is what a budget needs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

MESSAGE_OVERHEAD_TOKENS = 4
TITLE_MAX_CHARS = 30
# What "继续" sends after an answer cut at the length limit: the model sees its own partial
# answer, then this, and its reply is shown after the partial text in the same bubble.
CONTINUE_PROMPT = (
    "请从你上一条回答中断的地方直接接着写，不要重复已经写过的内容。"
    " (Continue exactly where your previous answer stopped, without repeating anything.)"
)

_CJK = re.compile(r"[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]")


@dataclass(frozen=True)
class HistoryItem:
    """One stored message as the prompt builder sees it."""

    kind: str  # user | assistant | divider
    content: str
    status: str = "done"


@dataclass(frozen=True)
class RolePrompt:
    """What a role contributes to the prompt."""

    system_prompt: str = ""
    opening: tuple[tuple[str, str], ...] = ()  # (role, content) pairs


def estimate_tokens(text: str) -> int:
    """A fast, slightly pessimistic token estimate for mixed Chinese/English text."""
    cjk = len(_CJK.findall(text))
    other = len(text) - cjk
    return cjk + (other + 3) // 4


def message_tokens(content: str) -> int:
    """Estimated tokens of one chat message, including per-message overhead."""
    return estimate_tokens(content) + MESSAGE_OVERHEAD_TOKENS


def _usable(item: HistoryItem) -> bool:
    if item.kind == "user":
        return bool(item.content.strip())
    if item.kind == "assistant":
        return item.status != "error" and bool(item.content.strip())
    return False


def build_messages(
    history: Sequence[HistoryItem],
    *,
    role: RolePrompt | None = None,
    window: int = 20,
    token_budget: int = 8000,
) -> list[dict[str, str]]:
    """Builds the API messages for the next answer.

    Args:
        history: the conversation's messages, oldest first, ending with the new user message.
        role: the conversation's role, if any.
        window: the most history messages to send (at least the newest one is always sent).
        token_budget: the most estimated tokens to send, the role's included.

    Returns:
        OpenAI-style `{"role", "content"}` dicts.
    """
    start = 0
    for index, item in enumerate(history):
        if item.kind == "divider":
            start = index + 1
    usable = [item for item in history[start:] if _usable(item)]

    messages: list[dict[str, str]] = []
    if role is not None:
        if role.system_prompt.strip():
            messages.append({"role": "system", "content": role.system_prompt})
        messages.extend({"role": r, "content": c} for r, c in role.opening if c.strip())

    picked: list[HistoryItem] = []
    used = sum(message_tokens(m["content"]) for m in messages)
    for item in reversed(usable):
        cost = message_tokens(item.content)
        if picked and (len(picked) >= max(window, 1) or used + cost > token_budget):
            break
        picked.append(item)
        used += cost
    picked.reverse()
    # A model expects the conversation to start with a user turn.
    while len(picked) > 1 and picked[0].kind != "user":
        picked.pop(0)

    messages.extend({"role": item.kind, "content": item.content} for item in picked)
    return messages


def auto_title(first_user_message: str, max_chars: int = TITLE_MAX_CHARS) -> str:
    """A conversation title from the first user message: first line, markdown stripped, shortened."""
    text = re.sub(r"```.*?```", " ", first_user_message, flags=re.S)
    text = re.sub(r"[`*_#>\[\]()!~|]", "", text)
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    line = re.sub(r"\s+", " ", line)
    if len(line) > max_chars:
        line = line[: max_chars - 1].rstrip() + "…"
    return line


def preview(text: str, max_chars: int = 60) -> str:
    """A one-line preview of a message for the conversation list."""
    flat = re.sub(r"\s+", " ", re.sub(r"[`*_#>]", "", text)).strip()
    return flat if len(flat) <= max_chars else flat[: max_chars - 1] + "…"
