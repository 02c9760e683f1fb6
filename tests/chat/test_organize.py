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


def _said(session: Session, user_id: int, conv: Conversation, *texts: str) -> list[int]:
    ids = []
    for i, text in enumerate(texts):
        kind = "user" if i % 2 == 0 else "assistant"
        msg = store.add_message(
            session, user_id=user_id, conversation_id=conv.id, kind=kind, content=text
        )
        assert msg is not None and msg.id is not None
        ids.append(msg.id)
    session.commit()
    return ids


def test_deleting_the_last_message_gives_the_row_the_previous_preview(session, users):
    alice, _ = users
    conv = _conversation(session, alice)
    ids = _said(session, alice, conv, "问题一", "回答一", "问题二")
    deleted = organize.delete_message(session, user_id=alice, message_id=ids[2])
    session.commit()
    assert deleted is not None and deleted.preview == "回答一"
    assert _reread(session, conv).preview == "回答一"
    assert organize.restore_message(session, user_id=alice, deleted=deleted) == "问题二"
    session.commit()
    shown = store.list_messages(session, user_id=alice, conversation_id=conv.id)
    assert [m.id for m in shown] == ids and shown[2].content == "问题二"
    # Undone once: a second undo restores nothing.
    assert organize.restore_message(session, user_id=alice, deleted=deleted) is None


def test_another_users_message_is_neither_deleted_nor_restored(session, users):
    alice, bob = users
    conv = _conversation(session, alice)
    ids = _said(session, alice, conv, "只属于 alice")
    assert organize.delete_message(session, user_id=bob, message_id=ids[0]) is None
    deleted = organize.delete_message(session, user_id=alice, message_id=ids[0])
    session.commit()
    assert deleted is not None and deleted.preview == ""
    assert organize.restore_message(session, user_id=bob, deleted=deleted) is None
    session.commit()
    assert store.list_messages(session, user_id=alice, conversation_id=conv.id) == []


@pytest.mark.parametrize(
    ("text", "query", "parts"),
    [
        ("Hello World", "world", ["Hello ", "World", ""]),
        ("abc", "x", []),
        ("去杭州西湖看看", "西湖", ["去杭州", "西湖", "看看"]),
        ("a" * 30 + "KEY" + "b" * 60, "key", ["…" + "a" * 12, "KEY", "b" * 40 + "…"]),
        ("two\nlines  here", "lines", ["two ", "lines", " here"]),
    ],
)
def test_snippet_cuts_around_the_first_match(text, query, parts):
    assert organize.snippet(text, query) == parts


def test_search_snippets_show_the_newest_match_of_own_messages(session, users):
    alice, bob = users
    mine = _conversation(session, alice)
    _said(session, alice, mine, "老的 50% 折扣", "新的 50% 折扣！")
    theirs = _conversation(session, bob)
    _said(session, bob, theirs, "bob 的 50% 折扣")
    found = organize.search_snippets(
        session, user_id=alice, conversation_ids=[mine.id, theirs.id], query="50%"
    )
    assert found == {mine.id: ["新的 ", "50%", " 折扣！"]}
    assert (
        organize.search_snippets(session, user_id=alice, conversation_ids=[mine.id], query="_")
        == {}
    )
