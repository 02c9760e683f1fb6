"""Role CRUD on a real database: owner filtering, read-only built-ins, search, delete, import and
export."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from chatapp.errors import InvalidInput, NotFound
from chatapp.models import Conversation, Role, UserSettings
from chatapp.roles import binding, library, store


def test_user_roles_are_invisible_to_others(session, users, mine, resolve):
    alice, bob = users
    library.sync_builtin_roles(session)
    own = store.create_role(session, user_id=alice, data=mine)
    session.commit()
    assert own.id is not None
    assert store.get_role(session, user_id=bob, role_id=own.id) is None
    assert own.id not in {r.id for r in store.list_roles(session, user_id=bob)}
    with pytest.raises(NotFound):
        store.update_role(session, user_id=bob, role_id=own.id, data=mine)
    assert store.delete_role(session, user_id=bob, role_id=own.id) is False
    with pytest.raises(NotFound):
        store.duplicate_role(session, user_id=bob, role_id=own.id, suffix=" copy")
    with pytest.raises(NotFound):
        binding.start_conversation(session, user_id=bob, role_id=own.id, resolve_model=resolve)
    assert json.loads(store.export_roles(session, user_id=bob, role_ids=[own.id]))["roles"] == []
    session.refresh(own)
    assert own.name == "我的助手"


def test_builtins_are_read_only_but_can_be_duplicated(session, users, mine):
    alice, _ = users
    library.sync_builtin_roles(session)
    builtin = session.exec(select(Role).where(Role.builtin_key == "java-interviewer")).one()
    assert builtin.id is not None
    with pytest.raises(NotFound):
        store.update_role(session, user_id=alice, role_id=builtin.id, data=mine)
    assert store.delete_role(session, user_id=alice, role_id=builtin.id) is False
    copy = store.duplicate_role(session, user_id=alice, role_id=builtin.id, suffix=" (副本)")
    assert copy.user_id == alice and copy.builtin_key is None
    assert copy.name == "Java 面试官 (副本)"
    assert copy.system_prompt == builtin.system_prompt
    assert copy.opening_json == builtin.opening_json


def test_list_search_tag_and_language(session, users, mine):
    alice, _ = users
    library.sync_builtin_roles(session)
    store.create_role(session, user_id=alice, data=mine)
    listed = store.list_roles(session, user_id=alice, language="zh")
    assert listed[0].name == "我的助手"  # own roles first
    assert all(r.language == "zh" or r.user_id == alice for r in listed)
    assert [r.name for r in store.list_roles(session, user_id=alice, query="sql")] == [
        "SQL 助手",
        "SQL Helper",
    ]
    assert {r.name for r in store.list_roles(session, user_id=alice, tag="工作")} == {"我的助手"}
    assert "编程" in store.all_tags(listed)


def test_deleting_a_role_unbinds_conversations_and_default(session, users, mine, resolve):
    alice, _ = users
    own = store.create_role(session, user_id=alice, data=mine)
    assert own.id is not None
    conv = binding.start_conversation(session, user_id=alice, role_id=own.id, resolve_model=resolve)
    session.add(UserSettings(user_id=alice, default_role_id=own.id))
    session.commit()
    assert store.delete_role(session, user_id=alice, role_id=own.id)
    session.commit()
    assert session.get(Conversation, conv.id).role_id is None  # type: ignore[union-attr]
    assert session.get(UserSettings, alice).default_role_id is None  # type: ignore[union-attr]


def test_import_is_all_or_nothing_and_export_round_trips(session, users, mine):
    alice, _ = users
    good = {"name": "A", "system_prompt": "p"}
    bad = {"name": "", "system_prompt": "p"}
    doc = {"format": "chatapp.roles", "version": 1, "roles": [good, good, bad]}
    with pytest.raises(InvalidInput) as err:
        store.import_roles(session, user_id=alice, text=json.dumps(doc))
    assert err.value.reason == "name_required" and err.value.detail.startswith("#3")
    session.commit()
    assert session.exec(select(Role).where(Role.user_id == alice)).all() == []

    store.create_role(session, user_id=alice, data=mine)
    exported = store.export_roles(session, user_id=alice)
    _, bob = users
    imported = store.import_roles(session, user_id=bob, text=exported)
    assert [store.role_input(r) for r in imported] == [mine]
    # Re-importing one's own export duplicates nothing, and says how many it skipped.
    assert store.import_roles_counted(session, user_id=alice, text=exported) == ([], 1)


def test_role_limit(session, users, mine, monkeypatch):
    alice, _ = users
    monkeypatch.setattr(store, "MAX_USER_ROLES", 2)
    store.create_role(session, user_id=alice, data=mine)
    doc = {
        "format": "chatapp.roles",
        "version": 1,
        "roles": [{"name": "x", "system_prompt": "y"}] * 2,
    }
    with pytest.raises(InvalidInput) as err:
        store.import_roles(session, user_id=alice, text=json.dumps(doc))
    assert err.value.reason == "too_many_roles"
    assert len(session.exec(select(Role).where(Role.user_id == alice)).all()) == 1
