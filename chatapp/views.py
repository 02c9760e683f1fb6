"""Plain view models the UI renders: rows turned into small display records (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from chatapp.errors import user_message
from chatapp.models import Conversation, Message
from chatapp.timefmt import bubble_label, list_label


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
    # The text is not in `content`: the tab already holds it from the stream (chat_markdown.jsx
    # keeps a finished stream's text), so the finished answer is not sent twice.
    streamed: bool = False


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


def message_item(msg: Message, *, now: datetime, lang: str) -> MessageItem:
    """The bubble for a message; error codes become user text here, never raw exception text."""
    code = msg.error_code or ""
    return MessageItem(
        id=msg.id or 0,
        kind=msg.kind,
        content=msg.content,
        status=msg.status,
        error_code=code,
        error_text=user_message(code, lang) if code and msg.status != "done" else "",
        time=bubble_label(msg.created_at, now, lang),
        model=msg.model or "",
    )
