"""The shipped role library: valid, large enough, and synced without touching users' roles."""

from __future__ import annotations

from sqlmodel import select

from chatapp.models import Role
from chatapp.roles import library, store
from chatapp.roles.schema import RoleInput


def test_shipped_library_is_valid_and_large_enough():
    entries = library.load_library()
    keys = [entry.key for entry in entries]
    assert len(keys) == len(set(keys)) >= 20
    names = {entry.role.name for entry in entries}
    for original in ("Java 面试官", "文案写手", "心理咨询", "法务法律", "创业点子王", "中英互译"):
        assert original in names
    assert {entry.role.language for entry in entries} == {"zh", "en"}
    assert all(len(entry.role.system_prompt) > 80 for entry in entries)


def test_builtin_sync_is_idempotent_and_upgrades_only_builtins(session, users, mine):
    alice, _ = users
    first = library.sync_builtin_roles(session)
    assert first == len(library.load_library())
    assert library.sync_builtin_roles(session) == 0
    own = store.create_role(session, user_id=alice, data=mine)
    session.commit()
    before = {r.builtin_key: r.id for r in session.exec(select(Role)).all() if r.builtin_key}

    bumped = [
        library.BuiltinRole(
            e.key, e.version + 1, RoleInput(**{**e.role.__dict__, "name": "新名字"})
        )
        if e.key == "translator"
        else e
        for e in library.load_library()
    ]
    assert library.sync_builtin_roles(session, bumped) == 1
    session.commit()
    rows = {r.builtin_key: r for r in session.exec(select(Role)).all() if r.builtin_key}
    assert rows["translator"].name == "新名字"
    assert rows["translator"].builtin_version == 2
    assert {k: r.id for k, r in rows.items()} == before  # ids kept: bound chats stay bound
    session.refresh(own)
    assert own.name == "我的助手" and own.builtin_key is None
