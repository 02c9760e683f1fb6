"""Role use cases on a real database: library sync, CRUD with owner filtering, conversations."""

from __future__ import annotations

import json

import pytest
from sqlmodel import Session, select

from chatapp.chat import conversations, store
from chatapp.errors import InvalidInput, NotFound
from chatapp.models import Conversation, Role, User, UserSettings
from chatapp.roles import store as role_store
from chatapp.roles.schema import Opening, RoleInput


def _user(session: Session, openid: str) -> int:
    user = User(openid=openid)
    session.add(user)
    session.flush()
    assert user.id is not None
    return user.id


@pytest.fixture
def users(session) -> tuple[int, int]:
    ids = _user(session, "alice"), _user(session, "bob")
    session.commit()
    return ids


def _resolve(model: str | None) -> str:
    return model if model in {"m-1", "m-2"} else "m-1"


MINE = RoleInput(
    name="我的助手",
    system_prompt="你是我的助手。",
    opening=(Opening("user", "你好"), Opening("assistant", "你好！")),
    model="m-2",
    temperature=0.2,
    context_window=6,
    tags=("工作",),
)


def test_shipped_library_is_valid_and_large_enough():
    library = role_store.load_library()
    keys = [entry.key for entry in library]
    assert len(keys) == len(set(keys)) >= 20
    names = {entry.role.name for entry in library}
    for original in ("Java 面试官", "文案写手", "心理咨询", "法务法律", "创业点子王", "中英互译"):
        assert original in names
    assert {entry.role.language for entry in library} == {"zh", "en"}
    assert all(len(entry.role.system_prompt) > 80 for entry in library)


def test_builtin_sync_is_idempotent_and_upgrades_only_builtins(session, users):
    alice, _ = users
    first = role_store.sync_builtin_roles(session)
    assert first == len(role_store.load_library())
    assert role_store.sync_builtin_roles(session) == 0
    own = role_store.create_role(session, user_id=alice, data=MINE)
    session.commit()
    before = {r.builtin_key: r.id for r in session.exec(select(Role)).all() if r.builtin_key}

    library = role_store.load_library()
    bumped = [
        role_store.BuiltinRole(
            e.key, e.version + 1, RoleInput(**{**e.role.__dict__, "name": "新名字"})
        )
        if e.key == "translator"
        else e
        for e in library
    ]
    assert role_store.sync_builtin_roles(session, bumped) == 1
    session.commit()
    rows = {r.builtin_key: r for r in session.exec(select(Role)).all() if r.builtin_key}
    assert rows["translator"].name == "新名字"
    assert rows["translator"].builtin_version == 2
    assert {k: r.id for k, r in rows.items()} == before  # ids kept: bound chats stay bound
    session.refresh(own)
    assert own.name == "我的助手" and own.builtin_key is None


def test_user_roles_are_invisible_to_others(session, users):
    alice, bob = users
    role_store.sync_builtin_roles(session)
    own = role_store.create_role(session, user_id=alice, data=MINE)
    session.commit()
    assert own.id is not None
    assert role_store.get_role(session, user_id=bob, role_id=own.id) is None
    assert own.id not in {r.id for r in role_store.list_roles(session, user_id=bob)}
    with pytest.raises(NotFound):
        role_store.update_role(session, user_id=bob, role_id=own.id, data=MINE)
    assert role_store.delete_role(session, user_id=bob, role_id=own.id) is False
    with pytest.raises(NotFound):
        role_store.duplicate_role(session, user_id=bob, role_id=own.id, suffix=" copy")
    with pytest.raises(NotFound):
        role_store.start_conversation(session, user_id=bob, role_id=own.id, resolve_model=_resolve)
    assert (
        json.loads(role_store.export_roles(session, user_id=bob, role_ids=[own.id]))["roles"] == []
    )
    session.refresh(own)
    assert own.name == "我的助手"


def test_builtins_are_read_only_but_can_be_duplicated(session, users):
    alice, _ = users
    role_store.sync_builtin_roles(session)
    builtin = session.exec(select(Role).where(Role.builtin_key == "java-interviewer")).one()
    assert builtin.id is not None
    with pytest.raises(NotFound):
        role_store.update_role(session, user_id=alice, role_id=builtin.id, data=MINE)
    assert role_store.delete_role(session, user_id=alice, role_id=builtin.id) is False
    copy = role_store.duplicate_role(session, user_id=alice, role_id=builtin.id, suffix=" (副本)")
    assert copy.user_id == alice and copy.builtin_key is None
    assert copy.name == "Java 面试官 (副本)"
    assert copy.system_prompt == builtin.system_prompt
    assert copy.opening_json == builtin.opening_json


def test_list_search_tag_and_language(session, users):
    alice, _ = users
    role_store.sync_builtin_roles(session)
    role_store.create_role(session, user_id=alice, data=MINE)
    listed = role_store.list_roles(session, user_id=alice, language="zh")
    assert listed[0].name == "我的助手"  # own roles first
    assert all(r.language == "zh" or r.user_id == alice for r in listed)
    assert [r.name for r in role_store.list_roles(session, user_id=alice, query="sql")] == [
        "SQL 助手",
        "SQL Helper",
    ]
    assert {r.name for r in role_store.list_roles(session, user_id=alice, tag="工作")} == {
        "我的助手"
    }
    assert "编程" in role_store.all_tags(listed)


def test_start_conversation_copies_role_defaults(session, users):
    alice, _ = users
    own = role_store.create_role(session, user_id=alice, data=MINE)
    assert own.id is not None
    conv = role_store.start_conversation(
        session, user_id=alice, role_id=own.id, resolve_model=_resolve
    )
    assert (conv.role_id, conv.title, conv.title_is_auto) == (own.id, "我的助手", False)
    assert (conv.model, conv.temperature, conv.context_window) == ("m-2", 0.2, 6)
    assert conv.token_budget == 8000  # the role leaves it unset: the conversation default stays


def test_role_reaches_the_model_request_in_order(session, users):
    alice, _ = users
    own = role_store.create_role(session, user_id=alice, data=MINE)
    assert own.id is not None
    conv = role_store.start_conversation(
        session, user_id=alice, role_id=own.id, resolve_model=_resolve
    )
    for text in ("一", "二"):
        turn = conversations.send_message(
            session, user_id=alice, conversation_id=conv.id, text=text
        )
        store.update_message(
            session,
            user_id=alice,
            message_id=turn.assistant_message_id,
            content="答" + text,
            status="done",  # finished: a new send needs a free answer slot (chatapp.chat.spend)
        )
    conversations.clear_context(session, user_id=alice, conversation_id=conv.id)
    for text in ("三", "四", "五"):
        turn = conversations.send_message(
            session, user_id=alice, conversation_id=conv.id, text=text
        )
        store.update_message(
            session,
            user_id=alice,
            message_id=turn.assistant_message_id,
            content="答" + text,
            status="done",  # finished: a new send needs a free answer slot (chatapp.chat.spend)
        )
    turn = conversations.send_message(session, user_id=alice, conversation_id=conv.id, text="六")
    request = conversations.build_request(session, user_id=alice, turn=turn)
    # system, then the opening pair, then history after the divider cut to the window (6) and
    # made to start with a user turn.
    assert request.messages[:3] == [
        {"role": "system", "content": "你是我的助手。"},
        {"role": "user", "content": "你好"},
        {"role": "assistant", "content": "你好！"},
    ]
    history = [m["content"] for m in request.messages[3:]]
    assert history == ["四", "答四", "五", "答五", "六"]
    assert request.model == "m-2" and request.params["temperature"] == 0.2


def test_switching_role_and_owner_checks(session, users):
    alice, bob = users
    role_store.sync_builtin_roles(session)
    own = role_store.create_role(session, user_id=alice, data=MINE)
    conv = store.create_conversation(session, user_id=alice, model="m-1")
    assert own.id is not None
    role_store.set_conversation_role(
        session, user_id=alice, conversation_id=conv.id, role_id=own.id, resolve_model=_resolve
    )
    assert (conv.role_id, conv.model) == (own.id, "m-2")
    with pytest.raises(NotFound):  # bob can't bind alice's conversation
        role_store.set_conversation_role(
            session, user_id=bob, conversation_id=conv.id, role_id=None, resolve_model=_resolve
        )
    bob_conv = store.create_conversation(session, user_id=bob, model="m-1")
    with pytest.raises(NotFound):  # nor use alice's role in his own
        role_store.set_conversation_role(
            session,
            user_id=bob,
            conversation_id=bob_conv.id,
            role_id=own.id,
            resolve_model=_resolve,
        )
    role_store.set_conversation_role(
        session, user_id=alice, conversation_id=conv.id, role_id=None, resolve_model=_resolve
    )
    assert conv.role_id is None


def test_deleting_a_role_unbinds_conversations_and_default(session, users):
    alice, _ = users
    own = role_store.create_role(session, user_id=alice, data=MINE)
    assert own.id is not None
    conv = role_store.start_conversation(
        session, user_id=alice, role_id=own.id, resolve_model=_resolve
    )
    session.add(UserSettings(user_id=alice, default_role_id=own.id))
    session.commit()
    assert role_store.delete_role(session, user_id=alice, role_id=own.id)
    session.commit()
    assert session.get(Conversation, conv.id).role_id is None  # type: ignore[union-attr]
    assert session.get(UserSettings, alice).default_role_id is None  # type: ignore[union-attr]


def test_import_is_all_or_nothing_and_export_round_trips(session, users):
    alice, _ = users
    good = {"name": "A", "system_prompt": "p"}
    bad = {"name": "", "system_prompt": "p"}
    doc = {"format": "chatapp.roles", "version": 1, "roles": [good, good, bad]}
    with pytest.raises(InvalidInput) as err:
        role_store.import_roles(session, user_id=alice, text=json.dumps(doc))
    assert err.value.reason == "name_required" and err.value.detail.startswith("#3")
    session.commit()
    assert session.exec(select(Role).where(Role.user_id == alice)).all() == []

    role_store.create_role(session, user_id=alice, data=MINE)
    exported = role_store.export_roles(session, user_id=alice)
    imported = role_store.import_roles(session, user_id=alice, text=exported)
    assert [role_store.role_input(r) for r in imported] == [MINE]


def test_role_limit(session, users, monkeypatch):
    alice, _ = users
    monkeypatch.setattr(role_store, "MAX_USER_ROLES", 2)
    role_store.create_role(session, user_id=alice, data=MINE)
    doc = {
        "format": "chatapp.roles",
        "version": 1,
        "roles": [{"name": "x", "system_prompt": "y"}] * 2,
    }
    with pytest.raises(InvalidInput) as err:
        role_store.import_roles(session, user_id=alice, text=json.dumps(doc))
    assert err.value.reason == "too_many_roles"
    assert len(session.exec(select(Role).where(Role.user_id == alice)).all()) == 1
