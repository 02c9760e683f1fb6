"""Chat use cases: send, regenerate, edit-and-resend, continue an answer cut at the length limit,
clear context, and the model request of a turn. Streaming the answer is `chatapp.chat.answers`'s
job.

Rules kept here (not in the UI):
- the user's message is committed before the model is called;
- every turn opens its answer only within the user's limit of answers at once
  (`chatapp.chat.spend`), and the request carries the conversation's parameters clamped to the
  operator's ceilings (`chatapp.core.parameters`), whatever was stored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from chatapp.chat import spend, store
from chatapp.chat.answers import STALE_STREAM_S, AnswerRequest
from chatapp.chat.prompts import (
    CONTINUE_PROMPT,
    HistoryItem,
    RolePrompt,
    auto_title,
    build_messages,
)
from chatapp.core.config import DEFAULT_MAX_CONCURRENT_ANSWERS
from chatapp.core.parameters import Ceilings, effective
from chatapp.errors import InvalidInput, NotFound
from chatapp.models import Conversation, Message, Role

MAX_MESSAGE_CHARS = 32_000


@dataclass(frozen=True)
class Turn:
    """A user message and the assistant answer slot created for it."""

    conversation_id: str
    user_message_id: int
    assistant_message_id: int
    # The answer goes on in its own row after the text it has ("继续"), instead of a fresh one.
    continues: bool = False


def validate_text(text: str) -> str:
    """Checks a user message; returns it with trailing whitespace trimmed.

    Raises:
        InvalidInput: empty, or longer than MAX_MESSAGE_CHARS.
    """
    cleaned = text.rstrip()
    if not cleaned.strip():
        raise InvalidInput("empty_message")
    if len(cleaned) > MAX_MESSAGE_CHARS:
        raise InvalidInput("message_too_long", str(MAX_MESSAGE_CHARS))
    return cleaned


def _conversation(session: Session, *, user_id: int, conversation_id: str) -> Conversation:
    conv = store.get_conversation(session, user_id=user_id, conversation_id=conversation_id)
    if conv is None:
        raise NotFound(conversation_id)
    return conv


def _question_of(session: Session, conv: Conversation, *, user_id: int, answer_id: int) -> int:
    """The id of the user message an answer replied to: the last one before it.

    Raises:
        NotFound: there is none (the answer is not one the user can act on).
    """
    prev_user = session.exec(
        select(Message)
        .where(
            Message.conversation_id == conv.id,
            Message.user_id == user_id,
            Message.kind == "user",
            col(Message.id) < answer_id,
        )
        .order_by(col(Message.id).desc())
    ).first()
    if prev_user is None or prev_user.id is None:
        raise NotFound(str(answer_id))
    return prev_user.id


def _open_answer(
    session: Session, conv: Conversation, *, user_id: int, user_msg_id: int, max_answers: int
) -> Turn:
    # Last, after this turn's own writes: a refusal rolls them back with the caller's scope.
    spend.check_answers(session, user_id=user_id, limit=max_answers, stale_after_s=STALE_STREAM_S)
    answer = store.add_message(
        session,
        user_id=user_id,
        conversation_id=conv.id,
        kind="assistant",
        status="streaming",
        model=conv.model,
    )
    assert answer is not None and answer.id is not None
    return Turn(conv.id, user_msg_id, answer.id)


def send_message(
    session: Session,
    *,
    user_id: int,
    conversation_id: str,
    text: str,
    max_answers: int = DEFAULT_MAX_CONCURRENT_ANSWERS,
) -> Turn:
    """Stores the user's message (committed by the caller's scope before any model call) and opens
    an answer slot. Titles an untitled conversation from its first message.

    Raises:
        InvalidInput: a bad message; `spend.SendLimited` when `max_answers` of the user's answers
            are streaming already (nothing is stored then, once the caller's scope rolls back).
        NotFound: the conversation is not the user's.
    """
    text = validate_text(text)
    conv = _conversation(session, user_id=user_id, conversation_id=conversation_id)
    user_msg = store.add_message(
        session, user_id=user_id, conversation_id=conv.id, kind="user", content=text
    )
    assert user_msg is not None and user_msg.id is not None
    if conv.title_is_auto and not conv.title:
        conv.title = auto_title(text)
        session.add(conv)
    return _open_answer(
        session, conv, user_id=user_id, user_msg_id=user_msg.id, max_answers=max_answers
    )


def regenerate(
    session: Session,
    *,
    user_id: int,
    message_id: int,
    max_answers: int = DEFAULT_MAX_CONCURRENT_ANSWERS,
) -> Turn:
    """Replaces an assistant answer (and everything after it) with a fresh answer slot (refused
    like `send_message`)."""
    msg = store.get_message(session, user_id=user_id, message_id=message_id)
    if msg is None or msg.kind != "assistant":
        raise NotFound(str(message_id))
    conv = _conversation(session, user_id=user_id, conversation_id=msg.conversation_id)
    question_id = _question_of(session, conv, user_id=user_id, answer_id=message_id)
    store.delete_messages_after(
        session, user_id=user_id, conversation_id=conv.id, message_id=question_id
    )
    return _open_answer(
        session, conv, user_id=user_id, user_msg_id=question_id, max_answers=max_answers
    )


def edit_and_resend(
    session: Session,
    *,
    user_id: int,
    message_id: int,
    text: str,
    max_answers: int = DEFAULT_MAX_CONCURRENT_ANSWERS,
) -> Turn:
    """Changes a sent user message, drops what followed it, and opens a new answer slot (refused
    like `send_message`)."""
    text = validate_text(text)
    msg = store.get_message(session, user_id=user_id, message_id=message_id)
    if msg is None or msg.kind != "user" or msg.id is None:
        raise NotFound(str(message_id))
    conv = _conversation(session, user_id=user_id, conversation_id=msg.conversation_id)
    store.delete_messages_after(
        session, user_id=user_id, conversation_id=conv.id, message_id=msg.id
    )
    store.update_message(session, user_id=user_id, message_id=msg.id, content=text)
    return _open_answer(session, conv, user_id=user_id, user_msg_id=msg.id, max_answers=max_answers)


def continue_answer(
    session: Session,
    *,
    user_id: int,
    message_id: int,
    max_answers: int = DEFAULT_MAX_CONCURRENT_ANSWERS,
) -> Turn:
    """Asks the model to go on with an answer cut at the length limit, in the same row: the new
    text follows the old (refused like `send_message`).

    The model sees the conversation up to that answer (an earlier answer can go on too; what
    followed it is not sent).

    Raises:
        NotFound: not the user's answer, or not cut at the length limit (only a cut answer can
            go on).
    """
    msg = store.get_message(session, user_id=user_id, message_id=message_id)
    if msg is None or msg.kind != "assistant" or msg.ending != "length" or msg.id is None:
        raise NotFound(str(message_id))
    conv = _conversation(session, user_id=user_id, conversation_id=msg.conversation_id)
    question_id = _question_of(session, conv, user_id=user_id, answer_id=message_id)
    spend.check_answers(session, user_id=user_id, limit=max_answers, stale_after_s=STALE_STREAM_S)
    store.update_message(
        session,
        user_id=user_id,
        message_id=msg.id,
        status="streaming",
        ending=None,
        error_code=None,
        finish_reason=None,
    )
    return Turn(conv.id, question_id, msg.id, continues=True)


def clear_context(session: Session, *, user_id: int, conversation_id: str) -> Message | None:
    """Adds a "清除上下文" divider: later answers don't see what came before it.

    Only when there is something to clear: in an empty conversation, or with nothing after the
    last divider (a second click), nothing is added and None is returned."""
    conv = _conversation(session, user_id=user_id, conversation_id=conversation_id)
    last = store.list_messages(session, user_id=user_id, conversation_id=conv.id, limit=1)
    if not last or last[-1].kind == "divider":
        return None
    msg = store.add_message(session, user_id=user_id, conversation_id=conv.id, kind="divider")
    assert msg is not None
    return msg


def role_prompt(role: Role | None) -> RolePrompt | None:
    """The prompt parts of a role row."""
    if role is None:
        return None
    try:
        opening_raw = json.loads(role.opening_json or "[]")
    except ValueError:
        opening_raw = []
    opening = tuple(
        (str(item.get("role")), str(item.get("content", "")))
        for item in opening_raw
        if isinstance(item, dict) and item.get("role") in {"user", "assistant"}
    )
    return RolePrompt(system_prompt=role.system_prompt or "", opening=opening)


def build_request(
    session: Session, *, user_id: int, turn: Turn, ceilings: Ceilings | None = None
) -> AnswerRequest:
    """The model request for the answer slot of `turn`: history up to its user message, with the
    conversation's parameters clamped to `ceilings` (the operator's; the documented defaults when
    None) — a value stored before a ceiling was lowered never goes upstream."""
    conv = _conversation(session, user_id=user_id, conversation_id=turn.conversation_id)
    # A continuation also sends the answer so far, then asks for the rest.
    last_id = turn.assistant_message_id if turn.continues else turn.user_message_id
    rows = session.exec(
        select(Message)
        .where(
            Message.conversation_id == conv.id,
            Message.user_id == user_id,
            col(Message.id) <= last_id,
        )
        .order_by(col(Message.id))
    ).all()
    # Reasoning is never sent back: only `content` goes into the history.
    history = [HistoryItem(m.kind, m.content, m.status) for m in rows]
    if turn.continues:
        history.append(HistoryItem("user", CONTINUE_PROMPT))
    prefix = rows[-1] if turn.continues and rows else None
    role = None
    if conv.role_id is not None:
        role = session.exec(
            select(Role).where(
                Role.id == conv.role_id,
                (col(Role.user_id).is_(None)) | (col(Role.user_id) == user_id),
            )
        ).first()
    values = effective(conv, ceilings or Ceilings())
    messages = build_messages(
        history,
        role=role_prompt(role),
        window=values["context_window"],
        token_budget=values["token_budget"],
    )
    params: dict[str, Any] = {"temperature": values["temperature"]}
    for name in ("top_p", "max_tokens"):
        if values[name] is not None:
            params[name] = values[name]
    return AnswerRequest(
        messages=messages,
        model=conv.model,
        params=params,
        prefix=prefix.content if prefix is not None else "",
        prefix_reasoning=prefix.reasoning if prefix is not None else "",
    )
