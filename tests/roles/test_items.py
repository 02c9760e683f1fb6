"""Roles as the pages show them, on a real database: the display record, the roles page's list
with its tags, and the options of the two role pickers (chat header, settings page)."""

from __future__ import annotations

from sqlmodel import col, select

from chatapp.models import Role
from chatapp.roles import items, library, store
from chatapp.roles.schema import RoleInput


def test_role_choices_offer_no_role_then_own_then_builtins_in_the_language(session, users, mine):
    alice, _ = users
    library.sync_builtin_roles(session)
    own = store.create_role(session, user_id=alice, data=mine)
    choices = items.role_choices(session, user_id=alice, lang="zh")
    assert choices[0] == items.RoleChoice("0", "无角色")
    assert choices[1] == items.RoleChoice(str(own.id), "🤖 我的助手")
    builtins = {r.id: r for r in session.exec(select(Role).where(col(Role.user_id).is_(None)))}
    offered = [builtins[int(c.value)] for c in choices[2:]]
    assert offered and all(r.language == "zh" for r in offered)
    assert items.role_choices(session, user_id=alice, lang="en")[0].label == "No role"


def test_role_choices_keep_the_chosen_role_of_the_other_language(session, users):
    alice, _ = users
    library.sync_builtin_roles(session)
    english = session.exec(select(Role).where(Role.language == "en")).first()
    assert english is not None and english.id is not None
    plain = items.role_choices(session, user_id=alice, lang="zh")
    assert str(english.id) not in {c.value for c in plain}
    kept = items.role_choices(session, user_id=alice, lang="zh", chosen_id=english.id)
    assert kept[-1] == items.RoleChoice(str(english.id), f"{english.avatar} {english.name}")
    assert len(kept) == len(plain) + 1
    chosen_twice = items.role_choices(session, user_id=alice, lang="en", chosen_id=english.id)
    assert [c.value for c in chosen_twice].count(str(english.id)) == 1


def test_role_choices_never_offer_another_users_role(session, users, mine):
    alice, bob = users
    own = store.create_role(session, user_id=alice, data=mine)
    assert own.id is not None
    choices = items.role_choices(session, user_id=bob, lang="zh", chosen_id=own.id)
    assert str(own.id) not in {c.value for c in choices}
    assert all("我的助手" not in c.label for c in choices)


def test_role_list_filters_by_tag_but_keeps_offering_every_tag(session, users, mine):
    alice, _ = users
    library.sync_builtin_roles(session)
    store.create_role(session, user_id=alice, data=mine)
    everything = items.role_list(session, user_id=alice, language="zh")
    tagged = items.role_list(session, user_id=alice, tag="工作", language="zh")
    assert [i.name for i in tagged.items] == ["我的助手"]
    assert tagged.tags == everything.tags and "工作" in tagged.tags
    assert len(everything.tags) <= items.MAX_TAGS_SHOWN
    assert {i.language for i in items.role_list(session, user_id=alice).items} == {"zh", "en"}


def test_role_item_shows_unset_defaults_as_empty_and_marks_builtins(session, users):
    alice, _ = users
    library.sync_builtin_roles(session)
    row = store.create_role(
        session,
        user_id=alice,
        data=RoleInput(name="图", avatar="https://example.com/a.png", system_prompt="p", top_p=0.5),
    )
    item = items.role_item(row)
    assert item.avatar_is_image and not item.builtin
    assert (item.top_p, item.temperature, item.opening) == ("0.5", "", [])
    builtin = items.role_item(
        session.exec(select(Role).where(Role.builtin_key == "java-interviewer")).one()
    )
    assert builtin.builtin and not builtin.avatar_is_image


def test_role_face_has_the_avatar_and_opening_only_for_a_role_the_user_sees(session, users, mine):
    alice, bob = users
    own = store.create_role(session, user_id=alice, data=mine)
    assert own.id is not None
    face = items.role_face(session, user_id=alice, role_id=own.id)
    assert face is not None and face.avatar == "🤖"
    assert face.opening == [
        {"role": "user", "content": "你好"},
        {"role": "assistant", "content": "你好！"},
    ]
    assert items.role_face(session, user_id=bob, role_id=own.id) is None
    assert items.role_face(session, user_id=alice, role_id=0) is None


def test_conversation_faces_show_the_bound_roles_avatar(session, users, mine):
    from chatapp.chat import store as chat_store

    alice, bob = users
    own = store.create_role(session, user_id=alice, data=mine)
    own.avatar = "https://img.example/a.png"
    session.add(own)
    with_role = chat_store.create_conversation(session, user_id=alice, model="m", role_id=own.id)
    plain = chat_store.create_conversation(session, user_id=alice, model="m")
    session.commit()
    ids = [with_role.id, plain.id]
    assert items.conversation_faces(session, user_id=alice, conversation_ids=ids) == {
        with_role.id: ["https://img.example/a.png", "1"]
    }
    assert items.conversation_faces(session, user_id=bob, conversation_ids=ids) == {}
