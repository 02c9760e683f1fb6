"""Data functions against real SQLite and PostgreSQL: owner filtering, ordering, search, paging."""

from __future__ import annotations

from datetime import timedelta

from chatapp.chat import store
from chatapp.models import Message, User, utcnow


def _users(session):
    alice, bob = User(openid="alice"), User(openid="bob")
    session.add_all([alice, bob])
    session.commit()
    return alice.id, bob.id


def test_conversation_of_another_user_is_invisible_and_untouchable(session):
    alice, bob = _users(session)
    conv = store.create_conversation(session, user_id=alice, title="secret")
    session.commit()
    assert store.get_conversation(session, user_id=bob, conversation_id=conv.id) is None
    assert (
        store.update_conversation(session, user_id=bob, conversation_id=conv.id, title="x") is None
    )
    assert store.delete_conversation(session, user_id=bob, conversation_id=conv.id) is False
    assert (
        store.add_message(session, user_id=bob, conversation_id=conv.id, kind="user", content="hi")
        is None
    )
    assert store.list_conversations(session, user_id=bob) == []
    session.commit()
    assert store.get_conversation(session, user_id=alice, conversation_id=conv.id).title == "secret"


def test_messages_of_another_user_are_invisible(session):
    alice, bob = _users(session)
    conv = store.create_conversation(session, user_id=alice)
    msg = store.add_message(
        session, user_id=alice, conversation_id=conv.id, kind="user", content="hi"
    )
    session.commit()
    assert store.get_message(session, user_id=bob, message_id=msg.id) is None
    assert store.update_message(session, user_id=bob, message_id=msg.id, content="x") is None
    assert store.delete_messages(session, user_id=bob, message_ids=[msg.id]) == 0
    assert store.list_messages(session, user_id=bob, conversation_id=conv.id) == []
    assert (
        store.delete_messages_after(session, user_id=bob, conversation_id=conv.id, message_id=0)
        == 0
    )
    session.commit()
    assert store.get_message(session, user_id=alice, message_id=msg.id).content == "hi"


def test_list_sorted_pinned_first_then_last_activity(session):
    alice, _ = _users(session)
    a = store.create_conversation(session, user_id=alice, title="a")
    b = store.create_conversation(session, user_id=alice, title="b")
    c = store.create_conversation(session, user_id=alice, title="c")
    now = utcnow()
    a.updated_at, b.updated_at, c.updated_at = (
        now - timedelta(hours=3),
        now - timedelta(hours=1),
        now - timedelta(hours=2),
    )
    session.add_all([a, b, c])
    session.commit()
    assert [x.title for x in store.list_conversations(session, user_id=alice)] == ["b", "c", "a"]
    store.update_conversation(session, user_id=alice, conversation_id=a.id, pinned=True)
    session.commit()
    assert [x.title for x in store.list_conversations(session, user_id=alice)] == ["a", "b", "c"]


def test_search_matches_title_and_content_case_insensitive_and_literal(session):
    alice, bob = _users(session)
    t1 = store.create_conversation(session, user_id=alice, title="Python 教程")
    t2 = store.create_conversation(session, user_id=alice, title="其他")
    store.add_message(
        session, user_id=alice, conversation_id=t2.id, kind="user", content="how to use PYTHON?"
    )
    t3 = store.create_conversation(session, user_id=alice, title="100% sure")
    other = store.create_conversation(session, user_id=bob, title="python for bob")
    session.commit()
    found = {c.id for c in store.list_conversations(session, user_id=alice, query="python")}
    assert found == {t1.id, t2.id}
    assert other.id not in found
    assert [c.id for c in store.list_conversations(session, user_id=alice, query="100%")] == [t3.id]
    assert store.list_conversations(session, user_id=alice, query="_") == []


def test_paging_returns_newest_first_page_oldest_first(session):
    alice, _ = _users(session)
    conv = store.create_conversation(session, user_id=alice)
    ids = [
        store.add_message(
            session, user_id=alice, conversation_id=conv.id, kind="user", content=str(i)
        ).id
        for i in range(10)
    ]
    session.commit()
    page = store.list_messages(session, user_id=alice, conversation_id=conv.id, limit=4)
    assert [m.id for m in page] == ids[-4:]
    older = store.list_messages(
        session, user_id=alice, conversation_id=conv.id, before_id=page[0].id, limit=4
    )
    assert [m.id for m in older] == ids[2:6]
    assert store.count_messages(session, user_id=alice, conversation_id=conv.id) == 10


def test_delete_conversation_removes_its_messages(session):
    alice, _ = _users(session)
    conv = store.create_conversation(session, user_id=alice)
    store.add_message(session, user_id=alice, conversation_id=conv.id, kind="user", content="x")
    session.commit()
    assert store.delete_conversation(session, user_id=alice, conversation_id=conv.id)
    session.commit()
    assert session.query(Message).count() == 0


def test_add_message_updates_activity_and_preview(session):
    alice, _ = _users(session)
    conv = store.create_conversation(session, user_id=alice)
    before = conv.updated_at
    store.add_message(
        session, user_id=alice, conversation_id=conv.id, kind="user", content="第一行\n第二行"
    )
    session.commit()
    fresh = store.get_conversation(session, user_id=alice, conversation_id=conv.id)
    assert fresh.preview == "第一行 第二行"
    assert fresh.updated_at >= before


def test_stale_streams_are_marked_interrupted(session):
    alice, _ = _users(session)
    conv = store.create_conversation(session, user_id=alice)
    old = store.add_message(
        session,
        user_id=alice,
        conversation_id=conv.id,
        kind="assistant",
        content="part",
        status="streaming",
    )
    fresh = store.add_message(
        session, user_id=alice, conversation_id=conv.id, kind="assistant", status="streaming"
    )
    old.updated_at = utcnow() - timedelta(seconds=60)
    session.add(old)
    session.commit()
    assert store.mark_stale_streams(session, older_than=utcnow() - timedelta(seconds=10)) == 1
    session.commit()
    assert store.get_message(session, user_id=alice, message_id=old.id).status == "interrupted"
    assert store.get_message(session, user_id=alice, message_id=old.id).content == "part"
    assert store.get_message(session, user_id=alice, message_id=fresh.id).status == "streaming"


def test_a_late_checkpoint_never_overwrites_a_finished_answer(session):
    alice, _ = _users(session)
    conv = store.create_conversation(session, user_id=alice)
    msg = store.add_message(
        session, user_id=alice, conversation_id=conv.id, kind="assistant", status="streaming"
    )
    session.commit()
    store.checkpoint_messages(session, items=[(alice, msg.id, "partial", "thinking")])
    session.commit()
    session.expire_all()
    checkpointed = store.get_message(session, user_id=alice, message_id=msg.id)
    assert (checkpointed.content, checkpointed.reasoning) == ("partial", "thinking")
    store.update_message(
        session, user_id=alice, message_id=msg.id, content="final answer", status="done"
    )
    session.commit()
    # The checkpointer took its snapshot before the answer ended and writes after: a no-op.
    store.checkpoint_messages(session, items=[(alice, msg.id, "", "")])
    session.commit()
    session.expire_all()
    assert store.get_message(session, user_id=alice, message_id=msg.id).content == "final answer"
