"""Data functions: session first, keyword-only, and every query filtered by the owner inside the query.

A conversation id that belongs to someone else behaves exactly like one that doesn't exist.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, or_
from sqlmodel import Session, col, delete, select

from chatapp.chat.prompts import preview as make_preview
from chatapp.models import Conversation, Message, utcnow


def _keep(session: Session, obj: Any) -> Any:
    """Holds `obj` for the session's life. SQLAlchemy's identity map keeps only weak references:
    a row nobody holds between two lookups is garbage and the second lookup queries it again
    (a new conversation's first message would read its conversation five times; bench/README.md)."""
    if obj is not None:
        session.info.setdefault("chatapp_rows", []).append(obj)
    return obj


def create_conversation(session: Session, *, user_id: int, **fields: Any) -> Conversation:
    """Creates a conversation owned by `user_id`."""
    conv = Conversation(user_id=user_id, **fields)
    session.add(conv)
    session.flush()
    return _keep(session, conv)


def get_conversation(
    session: Session, *, user_id: int, conversation_id: str
) -> Conversation | None:
    """The conversation if it exists and belongs to `user_id`.

    By primary key through the session's identity map: a use case that checks the same
    conversation several times in one session queries it once (bench/README.md, "concurrency")."""
    conv = _keep(session, session.get(Conversation, conversation_id))
    return conv if conv is not None and conv.user_id == user_id else None


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def list_conversations(
    session: Session, *, user_id: int, query: str = "", limit: int = 500
) -> list[Conversation]:
    """The user's conversations, pinned first, then by last activity; `query` searches titles and
    message contents (case-insensitive substring)."""
    stmt = select(Conversation).where(Conversation.user_id == user_id)
    query = query.strip()
    if query:
        pattern = f"%{_escape_like(query)}%"
        in_messages = (
            select(Message.conversation_id)
            .where(Message.user_id == user_id)
            .where(col(Message.content).ilike(pattern, escape="\\"))
        )
        stmt = stmt.where(
            or_(
                col(Conversation.title).ilike(pattern, escape="\\"),
                col(Conversation.id).in_(in_messages),
            )
        )
    stmt = stmt.order_by(col(Conversation.pinned).desc(), col(Conversation.updated_at).desc())
    return list(session.exec(stmt.limit(limit)).all())


def update_conversation(
    session: Session, *, user_id: int, conversation_id: str, **fields: Any
) -> Conversation | None:
    """Sets fields on the user's conversation; returns it, or None if not theirs."""
    conv = get_conversation(session, user_id=user_id, conversation_id=conversation_id)
    if conv is None:
        return None
    for name, value in fields.items():
        setattr(conv, name, value)
    session.add(conv)
    session.flush()
    return conv


def delete_conversation(session: Session, *, user_id: int, conversation_id: str) -> bool:
    """Deletes the user's conversation and its messages; False if it wasn't theirs."""
    conv = get_conversation(session, user_id=user_id, conversation_id=conversation_id)
    if conv is None:
        return False
    session.exec(
        delete(Message).where(
            col(Message.conversation_id) == conversation_id, col(Message.user_id) == user_id
        )
    )
    session.delete(conv)
    session.flush()
    return True


def touch_conversation(session: Session, conv: Conversation, *, preview_text: str | None) -> None:
    """Marks activity on a conversation (sort order) and updates its preview."""
    conv.updated_at = utcnow()
    if preview_text is not None:
        conv.preview = make_preview(preview_text)
    session.add(conv)


def add_message(
    session: Session,
    *,
    user_id: int,
    conversation_id: str,
    kind: str,
    content: str = "",
    status: str = "done",
    model: str | None = None,
) -> Message | None:
    """Appends a message to the user's conversation; None if the conversation isn't theirs."""
    conv = get_conversation(session, user_id=user_id, conversation_id=conversation_id)
    if conv is None:
        return None
    msg = Message(
        conversation_id=conversation_id,
        user_id=user_id,
        kind=kind,
        content=content,
        status=status,
        model=model,
    )
    session.add(msg)
    touch_conversation(session, conv, preview_text=content if kind == "user" else None)
    session.flush()
    return msg


def get_message(session: Session, *, user_id: int, message_id: int) -> Message | None:
    """The message if it belongs to `user_id` (by primary key, like `get_conversation`)."""
    msg = _keep(session, session.get(Message, message_id))
    return msg if msg is not None and msg.user_id == user_id else None


def list_messages(
    session: Session,
    *,
    user_id: int,
    conversation_id: str,
    before_id: int | None = None,
    limit: int | None = None,
) -> list[Message]:
    """The conversation's messages, oldest first; with `limit`, the newest `limit` of those before
    `before_id` (for paging back through long conversations)."""
    stmt = select(Message).where(
        Message.conversation_id == conversation_id, Message.user_id == user_id
    )
    if before_id is not None:
        stmt = stmt.where(col(Message.id) < before_id)
    if limit is None:
        return list(session.exec(stmt.order_by(col(Message.id))).all())
    rows = list(session.exec(stmt.order_by(col(Message.id).desc()).limit(limit)).all())
    rows.reverse()
    return rows


def count_messages(session: Session, *, user_id: int, conversation_id: str) -> int:
    """How many messages the user's conversation has."""
    return session.exec(
        select(func.count())
        .select_from(Message)
        .where(Message.conversation_id == conversation_id, Message.user_id == user_id)
    ).one()


def update_message(
    session: Session, *, user_id: int, message_id: int, **fields: Any
) -> Message | None:
    """Sets fields on the user's message (and its `updated_at`)."""
    msg = get_message(session, user_id=user_id, message_id=message_id)
    if msg is None:
        return None
    for name, value in fields.items():
        setattr(msg, name, value)
    msg.updated_at = utcnow()
    session.add(msg)
    session.flush()
    return msg


def checkpoint_messages(session: Session, *, items: Sequence[tuple[int, int, str, str]]) -> None:
    """Saves the text of answers being streamed: `(user_id, message_id, content, reasoning)` each,
    in one
    executemany UPDATE (one statement for every answer of the process, not one transaction each:
    separate SQLite write transactions cost a quarter of the CPU at 100 streams)."""
    if not items:
        return
    table = Message.__table__  # type: ignore[attr-defined]
    stmt = (
        table.update()
        .where(table.c.id == bindparam("b_id"), table.c.user_id == bindparam("b_user"))
        # A checkpoint taken just before an answer ended must not overwrite its final save.
        .where(table.c.status == "streaming")
        .values(
            content=bindparam("b_content"),
            reasoning=bindparam("b_reasoning"),
            updated_at=bindparam("b_at"),
        )
    )
    now = utcnow()
    rows = [
        {"b_id": m, "b_user": u, "b_content": c, "b_reasoning": r, "b_at": now}
        for u, m, c, r in items
    ]
    session.connection().execute(stmt, rows)


def delete_messages(session: Session, *, user_id: int, message_ids: Sequence[int]) -> int:
    """Deletes the user's messages with these ids; returns how many."""
    if not message_ids:
        return 0
    result = session.exec(
        delete(Message).where(
            col(Message.id).in_(list(message_ids)), col(Message.user_id) == user_id
        )
    )
    return result.rowcount or 0


def delete_messages_after(
    session: Session, *, user_id: int, conversation_id: str, message_id: int
) -> int:
    """Deletes the messages that follow `message_id` in the user's conversation."""
    result = session.exec(
        delete(Message).where(
            col(Message.conversation_id) == conversation_id,
            col(Message.user_id) == user_id,
            col(Message.id) > message_id,
        )
    )
    return result.rowcount or 0


def mark_stale_streams(session: Session, *, older_than: datetime) -> int:
    """Marks answers still 'streaming' whose last checkpoint is older than `older_than` as
    interrupted (their process died); returns how many."""
    rows = session.exec(
        select(Message).where(Message.status == "streaming", col(Message.updated_at) < older_than)
    ).all()
    for msg in rows:
        msg.status = "interrupted"
        msg.error_code = "interrupted"
        session.add(msg)
    session.flush()
    return len(rows)
