"""The conversation list's rules (chatapp.chat.organize): the title rule, pinning, creating and
deleting, against the real database; another user's ids change nothing."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from chatapp.chat import organize, store
from chatapp.models import Conversation, UserSettings


def _conversation(session: Session, user_id: int, **fields) -> Conversation:
    conv = store.create_conversation(session, user_id=user_id, model="m1", **fields)
    session.commit()
    return conv


def _reread(session: Session, conv: Conversation) -> Conversation:
    session.expire_all()
    found = session.get(Conversation, conv.id)
    assert found is not None
    return found


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Trip to Lisbon", "Trip to Lisbon"),
        ("  padded  ", "padded"),
        ("two\nlines\tand   spaces", "two lines and spaces"),
        ("旅行　计划", "旅行 计划"),  # an ideographic space is whitespace too
        ("x" * 150, "x" * organize.RENAME_MAX_CHARS),
        ("   \n\t ", ""),
        ("", ""),
    ],
)
def test_clean_title(typed, stored):
    assert organize.clean_title(typed) == stored


def test_rename_stores_the_cleaned_title_and_stops_automatic_titles(session, users):
    alice, _ = users
    conv = _conversation(session, alice, title="auto")
    stored = organize.rename(session, user_id=alice, conversation_id=conv.id, title="  my\ntitle ")
    session.commit()
    assert stored == "my title"
    row = _reread(session, conv)
    assert (row.title, row.title_is_auto) == ("my title", False)


def test_rename_to_nothing_or_of_another_users_conversation_changes_nothing(session, users):
    alice, bob = users
    conv = _conversation(session, alice, title="mine")
    assert organize.rename(session, user_id=alice, conversation_id=conv.id, title=" \n ") is None
    assert organize.rename(session, user_id=bob, conversation_id=conv.id, title="pwned") is None
    session.commit()
    row = _reread(session, conv)
    assert (row.title, row.title_is_auto) == ("mine", True)


def test_toggle_pin_pins_then_unpins(session, users):
    alice, _ = users
    conv = _conversation(session, alice)
    assert organize.toggle_pin(session, user_id=alice, conversation_id=conv.id) is True
    session.commit()
    assert _reread(session, conv).pinned
    assert organize.toggle_pin(session, user_id=alice, conversation_id=conv.id) is False
    session.commit()
    assert not _reread(session, conv).pinned


def test_another_user_cannot_pin(session, users):
    alice, bob = users
    conv = _conversation(session, alice)
    assert organize.toggle_pin(session, user_id=bob, conversation_id=conv.id) is None
    session.commit()
    assert not _reread(session, conv).pinned


def test_a_new_conversation_starts_with_the_users_default_model(session, users):
    alice, bob = users
    session.add(UserSettings(user_id=alice, default_model="m2"))
    session.commit()
    mine = organize.create_conversation(session, user_id=alice)
    # No preference, or one for a model no longer offered: the deployment's default.
    session.add(UserSettings(user_id=bob, default_model="gone"))
    theirs = organize.create_conversation(session, user_id=bob)
    session.commit()
    assert [
        (c.user_id, c.model) for c in (_reread_id(session, mine), _reread_id(session, theirs))
    ] == [
        (alice, "m2"),
        (bob, "m1"),
    ]


def _reread_id(session: Session, conversation_id: str) -> Conversation:
    found = session.get(Conversation, conversation_id)
    assert found is not None
    return found


def test_delete_removes_only_the_owners_conversation(session, users):
    alice, bob = users
    conv = _conversation(session, alice)
    assert organize.delete_conversation(session, user_id=bob, conversation_id=conv.id) is False
    session.commit()
    assert _reread(session, conv).id == conv.id
    assert organize.delete_conversation(session, user_id=alice, conversation_id=conv.id) is True
    session.commit()
    session.expire_all()
    assert session.get(Conversation, conv.id) is None
