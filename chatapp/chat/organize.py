"""What a user does to their own conversation list: start a conversation, rename one (the title
rule), pin or unpin one, delete one; delete a message and undo that; find what a search matched.
Session-first; every query is filtered by the owner, so an id of another user's conversation finds
nothing and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from chatapp import preferences
from chatapp.chat import screens, store
from chatapp.chat.prompts import preview as make_preview
from chatapp.chat.providers import get_router
from chatapp.models import Message
from chatapp.roles.items import conversation_faces

# A title typed in the rename box is kept to this many characters (the column holds 200; the
# list shows about 20).
RENAME_MAX_CHARS = 100


def clean_title(text: str) -> str:
    """A title as typed in the rename box, as it is stored: every run of whitespace (newlines and
    tabs too) becomes one space, the ends are trimmed, and it is cut to RENAME_MAX_CHARS. Empty
    means "keep the old title"."""
    return " ".join(text.split())[:RENAME_MAX_CHARS]


def create_conversation(session: Session, *, user_id: int) -> str:
    """Starts a conversation with the user's default model and role (settings page).

    Returns:
        The new conversation's id.
    """
    own_key = preferences.has_own_key(session, user_id=user_id)
    fields = preferences.new_conversation_fields(
        session,
        user_id=user_id,
        resolve_model=lambda model: get_router().resolve(model, own_key=own_key),
    )
    return store.create_conversation(session, user_id=user_id, **fields).id


def rename(session: Session, *, user_id: int, conversation_id: str, title: str) -> str | None:
    """Gives the user's conversation the title they typed (cleaned by `clean_title`); an automatic
    title never replaces it afterwards.

    Returns:
        The title stored, or None when nothing changed: the cleaned title is empty, or the
        conversation is not the user's.
    """
    cleaned = clean_title(title)
    if not cleaned:
        return None
    conv = store.update_conversation(
        session,
        user_id=user_id,
        conversation_id=conversation_id,
        title=cleaned,
        title_is_auto=False,
    )
    return cleaned if conv is not None else None


def toggle_pin(session: Session, *, user_id: int, conversation_id: str) -> bool | None:
    """Pins the user's conversation to the top of their list, or unpins it if it was pinned.

    Returns:
        Whether it is pinned now; None when it is not the user's.
    """
    conv = store.get_conversation(session, user_id=user_id, conversation_id=conversation_id)
    if conv is None:
        return None
    conv.pinned = not conv.pinned
    session.add(conv)
    return conv.pinned


def delete_conversation(session: Session, *, user_id: int, conversation_id: str) -> bool:
    """Deletes the user's conversation and its messages.

    Returns:
        False when it is not the user's (nothing is deleted).
    """
    return store.delete_conversation(session, user_id=user_id, conversation_id=conversation_id)


@dataclass
class DeletedMessage:
    """A message just deleted: enough to put it back (undo) and the list row's new preview."""

    conversation_id: str
    preview: str
    # Every column of the row, its id included, so an undo puts it back in its place.
    row: dict[str, Any]


def _refresh_preview(session: Session, *, user_id: int, conversation_id: str) -> str:
    # The list's preview is the last message with text (a divider or an empty answer has none).
    conv = store.get_conversation(session, user_id=user_id, conversation_id=conversation_id)
    if conv is None:
        return ""
    recent = store.list_messages(
        session, user_id=user_id, conversation_id=conversation_id, limit=20
    )
    texts = [m.content for m in recent if m.kind != "divider" and m.content.strip()]
    conv.preview = make_preview(texts[-1]) if texts else ""
    session.add(conv)
    return conv.preview


def delete_message(session: Session, *, user_id: int, message_id: int) -> DeletedMessage | None:
    """Deletes the user's message and gives its conversation the preview of what is now last.

    Returns:
        What an undo needs, or None when the message is not the user's.
    """
    msg = store.get_message(session, user_id=user_id, message_id=message_id)
    if msg is None:
        return None
    row = msg.model_dump()
    store.delete_messages(session, user_id=user_id, message_ids=[message_id])
    session.flush()
    preview = _refresh_preview(session, user_id=user_id, conversation_id=msg.conversation_id)
    return DeletedMessage(msg.conversation_id, preview, row)


def restore_message(session: Session, *, user_id: int, deleted: DeletedMessage) -> str | None:
    """Puts a message deleted by `delete_message` back, with its id (so in its place).

    Returns:
        The conversation's preview now, or None when nothing was restored: the row is not the
        user's, its conversation is gone, or the message exists again.
    """
    row = deleted.row
    if row.get("user_id") != user_id or row.get("conversation_id") != deleted.conversation_id:
        return None
    conv = store.get_conversation(session, user_id=user_id, conversation_id=deleted.conversation_id)
    if conv is None or session.get(Message, row.get("id")) is not None:
        return None
    session.add(Message(**row))
    session.flush()
    return _refresh_preview(session, user_id=user_id, conversation_id=deleted.conversation_id)


# How much of a matching message the list shows around the match.
SNIPPET_BEFORE = 12
SNIPPET_AFTER = 40


def split_match(text: str, query: str) -> list[str]:
    """`text` as [before, match, after] around the first case-insensitive `query` in it, or []
    when it does not contain it (pure)."""
    needle = query.strip().lower()
    at = text.lower().find(needle) if needle else -1
    if at < 0:
        return []
    return [text[:at], text[at : at + len(needle)], text[at + len(needle) :]]


def snippet(text: str, query: str) -> list[str]:
    """The part of a message a search matched, as [before, match, after]: one line, a few
    characters of context on each side (pure)."""
    flat = " ".join(text.split())
    parts = split_match(flat, query)
    if not parts:
        return []
    before, match, after = parts
    if len(before) > SNIPPET_BEFORE:
        before = "…" + before[-SNIPPET_BEFORE:]
    if len(after) > SNIPPET_AFTER:
        after = after[:SNIPPET_AFTER] + "…"
    return [before, match, after]


def search_snippets(
    session: Session, *, user_id: int, conversation_ids: list[str], query: str
) -> dict[str, list[str]]:
    """For each of the user's conversations whose messages contain `query`, the newest matching
    message's snippet (see `snippet`)."""
    needle = query.strip()
    if not needle or not conversation_ids:
        return {}
    pattern = "%" + needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    stmt = (
        select(Message.conversation_id, Message.content)
        .where(
            Message.user_id == user_id,
            col(Message.conversation_id).in_(conversation_ids),
            col(Message.content).ilike(pattern, escape="\\"),
        )
        .order_by(col(Message.id).desc())
        .limit(20 * len(conversation_ids))
    )
    found: dict[str, list[str]] = {}
    for conversation_id, content in session.exec(stmt).all():
        if conversation_id not in found and (parts := snippet(content, needle)):
            found[conversation_id] = parts
    return found


@dataclass
class ListView:
    """The conversation list as it shows: its rows, each row's role avatar, and for a search
    each row's matched text."""

    page: screens.ListPage
    # id -> [avatar, "1" if an image]; rows without a role are absent.
    faces: dict[str, list[str]]
    # id -> [before, match, after] of the matching title, and of a matching message.
    title_hits: dict[str, list[str]]
    message_hits: dict[str, list[str]]


def list_view(session: Session, *, user_id: int, query: str, limit: int, lang: str) -> ListView:
    """The user's conversation list for a search ("" for all), see `screens.list_page`."""
    page = screens.list_page(session, user_id=user_id, query=query, limit=limit, lang=lang)
    ids = [item.id for item in page.items]
    titles: dict[str, list[str]] = {}
    messages: dict[str, list[str]] = {}
    if query.strip():
        titles = {i.id: hit for i in page.items if (hit := split_match(i.title, query))}
        messages = search_snippets(session, user_id=user_id, conversation_ids=ids, query=query)
    return ListView(
        page, conversation_faces(session, user_id=user_id, conversation_ids=ids), titles, messages
    )
