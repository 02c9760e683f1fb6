"""What a user does to their own conversation list: start a conversation, rename one (the title
rule), pin or unpin one, delete one. Session-first; every query is filtered by the owner, so an id
of another user's conversation finds nothing and changes nothing.
"""

from __future__ import annotations

from sqlmodel import Session

from chatapp import preferences
from chatapp.chat import store
from chatapp.chat.providers import get_router

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
