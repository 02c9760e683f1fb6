"""Plain view models the UI renders: rows turned into small display records (pure)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from chatapp.core.timefmt import bubble_label, list_label
from chatapp.errors import user_message
from chatapp.models import Conversation, Message


@dataclass
class ConversationItem:
    """One row of the conversation list."""

    id: str = ""
    title: str = ""
    preview: str = ""
    time: str = ""
    pinned: bool = False


@dataclass
class MessageItem:
    """One message bubble."""

    id: int = 0
    kind: str = "user"
    content: str = ""
    status: str = "done"
    error_code: str = ""
    error_text: str = ""
    time: str = ""
    model: str = ""
    # The text is not in `content`: the tab already holds it from the stream (assets/stream_store.js
    # keeps a finished stream's text), so the finished answer is not sent twice. Its reasoning
    # neither.
    streamed: bool = False
    # The model's reasoning, shown folded above the answer; how long it took (-1: not known).
    reasoning: str = ""
    reasoning_s: int = -1
    # How the answer ended (Message.ending), named under the bubble.
    ending: str = ""
    # The pictures an image model drew (chat/images.py), their ids space-separated: a string,
    # not a list, so the row memo (one level deep) sees an unchanged row as unchanged.
    image_ids: str = ""
    # The row's React key: its id, except for a message sent during this visit, whose row keeps
    # the key of the bubble shown before it was stored (`pending_items`), so the stored message
    # updates that row instead of mounting a new one.
    key: str = ""


def conversation_item(
    conv: Conversation, *, now: datetime, lang: str, untitled: str
) -> ConversationItem:
    """The list row for a conversation."""
    return ConversationItem(
        id=conv.id,
        title=conv.title or untitled,
        preview=conv.preview,
        time=list_label(conv.updated_at, now, lang),
        pinned=conv.pinned,
    )


def message_item(
    msg: Message, *, now: datetime, lang: str, image_ids: Sequence[str] = ()
) -> MessageItem:
    """The bubble for a message; error codes become user text here, never raw exception text.

    `image_ids`: the pictures the answer drew (`images.image_ids`)."""
    code = msg.error_code or ""
    retry_at = retry_at_ms(msg)
    return MessageItem(
        id=msg.id or 0,
        kind=msg.kind,
        content=msg.content,
        status=msg.status,
        # A rate limit's wait becomes the time to retry at (epoch ms), for the bubble's countdown:
        # in the code the item carries anyway, not in a field every message would carry.
        error_code=f"rate_limit:{retry_at}" if retry_at else code,
        error_text=user_message(code, lang) if code and msg.status != "done" else "",
        time=bubble_label(msg.created_at, now, lang),
        model=msg.model or "",
        key=str(msg.id or 0),
        reasoning=msg.reasoning or "",
        reasoning_s=round(msg.reasoning_ms / 1000) if msg.reasoning_ms is not None else -1,
        ending=msg.ending or "",
        image_ids=" ".join(image_ids),
    )


def retry_at_ms(msg: Message) -> int:
    """When a rate-limited answer may be retried (epoch ms), from the wait the provider asked for
    (`rate_limit:30`, see chat/answers.py) counted from the answer's end; 0 when none."""
    base, _, wait = (msg.error_code or "").partition(":")
    if base != "rate_limit" or not wait.isdigit() or msg.status != "error":
        return 0
    return int(msg.updated_at.timestamp() * 1000) + int(wait) * 1000


# Ids of the bubbles shown while a sent message is being stored (real ids are positive).
PENDING_USER_ID = -2
PENDING_ANSWER_ID = -3


def pending_items(text: str, model: str, *, now: datetime, lang: str) -> list[MessageItem]:
    """The user's message and a typing placeholder, shown the moment they press send (before the
    message is stored and the model is called); the stored bubbles replace them."""
    label = bubble_label(now, now, lang)
    tag = f"p{now.timestamp():.6f}"
    return [
        MessageItem(id=PENDING_USER_ID, kind="user", content=text, time=label, key=tag + "u"),
        MessageItem(
            id=PENDING_ANSWER_ID,
            kind="assistant",
            status="streaming",
            time=label,
            model=model,
            key=tag + "a",
        ),
    ]


def keep_keys(old: list[MessageItem], new: list[MessageItem]) -> list[MessageItem]:
    """`new` bubbles taking over the row keys of the `old` ones they replace, in order."""
    return [
        replace(item, key=prev.key) if prev.key else item
        for item, prev in zip(new, old, strict=False)
    ] + new[len(old) :]
