"""What the chat pages read (chatapp.chat.screens), against the real database: rows seeded through
the session, views read back; another user's ids find nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session

from chatapp import preferences
from chatapp.chat import conversations, screens, store
from chatapp.core.crypto import box_for
from chatapp.errors import NotFound
from chatapp.models import Conversation, Message, utcnow

USER_KEY = "sk-user-own-key-1234"


def _conversation(session: Session, user_id: int, **fields) -> Conversation:
    conv = store.create_conversation(session, user_id=user_id, **fields)
    session.commit()
    return conv


def _message(session: Session, user_id: int, conv: Conversation, **fields) -> Message:
    msg = store.add_message(session, user_id=user_id, conversation_id=conv.id, **fields)
    session.commit()
    assert msg is not None and msg.id is not None
    return msg


def _count(session: Session, user_id: int, conv: Conversation) -> int:
    return store.count_messages(session, user_id=user_id, conversation_id=conv.id)


# ---- the list ------------------------------------------------------------------------------------


def test_list_page_shows_the_first_rows_and_says_whether_there_are_more(session, users):
    alice, bob = users
    for i in range(3):
        _conversation(session, alice, title=f"a{i}", model="m1")
    _conversation(session, bob, title="bob's", model="m1")
    page = screens.list_page(session, user_id=alice, query="", limit=2, lang="en")
    assert len(page.items) == 2 and page.has_more
    page = screens.list_page(session, user_id=alice, query="", limit=3, lang="en")
    assert sorted(i.title for i in page.items) == ["a0", "a1", "a2"] and not page.has_more


def test_list_page_names_untitled_rows_in_the_pages_language_and_searches(session, users):
    alice, _ = users
    _conversation(session, alice, model="m1")
    _conversation(session, alice, title="holiday plans", model="m1")
    en = screens.list_page(session, user_id=alice, query="", limit=10, lang="en")
    zh = screens.list_page(session, user_id=alice, query="", limit=10, lang="zh")
    assert "New chat" in [i.title for i in en.items]
    assert "新的对话" in [i.title for i in zh.items]
    found = screens.list_page(session, user_id=alice, query="HOLIDAY", limit=10, lang="en")
    assert [i.title for i in found.items] == ["holiday plans"]


def test_another_users_list_is_empty(session, users):
    alice, bob = users
    _conversation(session, alice, title="secret", model="m1")
    assert screens.list_page(session, user_id=bob, query="", limit=10, lang="en") == ([], False)


# ---- an open conversation ------------------------------------------------------------------------


def test_a_conversation_opens_on_its_last_page_of_messages(session, users):
    alice, _ = users
    conv = _conversation(session, alice, title="long", model="m2")
    ids = [_message(session, alice, conv, kind="user", content=f"q{i}").id for i in range(25)]
    view = screens.conversation_view(session, user_id=alice, conversation_id=conv.id, lang="en")
    assert view is not None
    assert (view.id, view.title, view.model) == (conv.id, "long", "m2")
    assert [m.id for m in view.messages] == ids[-screens.PAGE_SIZE :]
    assert view.has_earlier and view.streaming_id == -1
    earlier = screens.earlier_page(
        session, user_id=alice, conversation_id=conv.id, before_id=ids[5], lang="en"
    )
    assert [m.id for m in earlier.messages] == ids[:5] and not earlier.has_earlier


def test_a_conversation_shows_its_parameters_as_the_next_request_will_use_them(session, users):
    """Values stored above the operator's ceilings (30 messages, 1,000 reply tokens), and a model
    that is not offered, show as what the next request sends."""
    alice, _ = users
    conv = _conversation(
        session,
        alice,
        model="forged-model",
        temperature=0.2,
        top_p=None,
        max_tokens=128_000,
        context_window=200,
        role_id=None,
    )
    view = screens.conversation_view(session, user_id=alice, conversation_id=conv.id, lang="zh")
    assert view is not None
    assert (view.title, view.model, view.temperature, view.top_p) == ("新的对话", "m1", 0.2, 1.0)
    assert (view.max_tokens, view.context_window, view.role_id) == (1000, 30, 0)
    assert view.messages == [] and not view.has_earlier


def test_an_answer_still_streaming_is_the_views_streaming_id(session, users):
    alice, _ = users
    conv = _conversation(session, alice, model="m1")
    _message(session, alice, conv, kind="user", content="hi")
    live = _message(session, alice, conv, kind="assistant", status="streaming", content="Hel")
    view = screens.conversation_view(session, user_id=alice, conversation_id=conv.id, lang="en")
    assert view is not None and view.streaming_id == live.id


def test_another_users_conversation_and_messages_are_not_found(session, users):
    alice, bob = users
    conv = _conversation(session, alice, title="secret", model="m1")
    msg = _message(session, alice, conv, kind="user", content="secret text")
    assert (
        screens.conversation_view(session, user_id=bob, conversation_id=conv.id, lang="en") is None
    )
    earlier = screens.earlier_page(
        session, user_id=bob, conversation_id=conv.id, before_id=msg.id + 1, lang="en"
    )
    assert earlier == ([], False)


# ---- a turn --------------------------------------------------------------------------------------


def test_a_turn_that_adds_to_the_open_conversation_reads_only_its_bubbles(session, users):
    alice, _ = users
    conv = _conversation(session, alice, model="m2")
    started = screens.start_turn(
        lambda s: conversations.send_message(s, user_id=alice, conversation_id=conv.id, text="hi"),
        user_id=alice,
        lang="en",
        appending=True,
    )
    assert started.turn.conversation_id == conv.id
    assert started.request.model == "m2"
    assert started.request.messages[-1] == {"role": "user", "content": "hi"}
    assert started.appended is not None and started.appended.title == "hi"  # auto title
    assert [(m.kind, m.status) for m in started.appended.items] == [
        ("user", "done"),
        ("assistant", "streaming"),
    ]
    assert started.view is None and started.listing is None
    assert (started.api_key, started.base_url) == (None, None)  # the deployment's key
    session.expire_all()
    assert _count(session, alice, conv) == 2  # committed before the model is called


def test_a_turn_on_a_new_conversation_reads_the_conversation_and_the_list(session, users):
    alice, _ = users
    _conversation(session, alice, title="older", model="m1")
    conv = _conversation(session, alice, model="m1")
    started = screens.start_turn(
        lambda s: conversations.send_message(s, user_id=alice, conversation_id=conv.id, text="yo"),
        user_id=alice,
        lang="en",
        appending=False,
        list_query=("", 100),
    )
    assert started.appended is None
    assert started.view is not None and [m.kind for m in started.view.messages] == [
        "user",
        "assistant",
    ]
    assert started.view.streaming_id == started.turn.assistant_message_id
    assert started.listing is not None
    assert {i.title for i in started.listing.items} == {"older", "yo"}


def test_a_turn_carries_the_users_own_key_decrypted_and_never_shows_it(session, users, settings):
    alice, bob = users
    preferences.set_api_credentials(
        session, user_id=alice, box=box_for(settings), api_key=USER_KEY, base_url=""
    )
    session.commit()
    for user_id, expected in ((alice, USER_KEY), (bob, None)):
        conv = _conversation(session, user_id, model="m1")
        started = screens.start_turn(
            lambda s, u=user_id, c=conv.id: conversations.send_message(
                s, user_id=u, conversation_id=c, text="hi"
            ),
            user_id=user_id,
            lang="en",
            appending=True,
        )
        assert started.api_key == expected
        assert USER_KEY not in repr(started)


def test_a_refused_turn_stores_nothing(session, users):
    alice, bob = users
    conv = _conversation(session, alice, model="m1")
    with pytest.raises(NotFound):
        screens.start_turn(
            lambda s: conversations.send_message(
                s, user_id=bob, conversation_id=conv.id, text="pwned"
            ),
            user_id=bob,
            lang="en",
            appending=True,
        )
    assert _count(session, alice, conv) == 0


# ---- a finished answer ---------------------------------------------------------------------------


def test_a_finished_answer_reads_as_its_bubble_and_list_row(session, users):
    alice, bob = users
    conv = _conversation(session, alice, model="m1")
    _message(session, alice, conv, kind="user", content="q")
    answer = _message(session, alice, conv, kind="assistant", content="the answer")
    final = screens.final_answer(session, user_id=alice, message_id=answer.id, lang="en")
    assert final is not None
    assert (final.item.id, final.item.content, final.conversation_id) == (
        answer.id,
        "the answer",
        conv.id,
    )
    session.refresh(conv)
    assert final.row == [conv.preview, final.row[1]] and final.row[1]
    assert screens.final_answer(session, user_id=bob, message_id=answer.id, lang="en") is None


def test_final_view_reads_the_rows_at_hand(session, users):
    alice, _ = users
    conv = _conversation(session, alice, model="m1", preview="prev")
    answer = _message(session, alice, conv, kind="assistant", content="done text")
    final = screens.final_view(answer, conv, lang="zh")
    assert (final.item.content, final.conversation_id, final.row[0]) == (
        "done text",
        conv.id,
        "prev",
    )


# ---- checkpoints ---------------------------------------------------------------------------------


def test_a_checkpoint_reads_the_saved_text_and_whether_the_answer_ended(session, users):
    alice, bob = users
    conv = _conversation(session, alice, model="m1")
    live = _message(session, alice, conv, kind="assistant", status="streaming", content="Hel")
    assert screens.read_checkpoint(user_id=alice, message_id=live.id)[:2] == ("Hel", False)
    assert screens.read_checkpoint(user_id=bob, message_id=live.id)[:2] == ("", True)
    store.update_message(session, user_id=alice, message_id=live.id, content="Hello", status="done")
    session.commit()
    assert screens.read_checkpoint(user_id=alice, message_id=live.id)[:2] == ("Hello", True)


def test_an_answer_of_a_dead_process_reads_as_ended(session, users):
    alice, _ = users
    conv = _conversation(session, alice, model="m1")
    live = _message(session, alice, conv, kind="assistant", status="streaming", content="Hel")
    live.updated_at = utcnow() - timedelta(seconds=conversations.STALE_STREAM_S + 5)
    session.add(live)
    session.commit()
    assert screens.read_checkpoint(user_id=alice, message_id=live.id)[:2] == ("Hel", True)
    session.refresh(live)
    assert live.status == "interrupted"
