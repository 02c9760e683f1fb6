"""A conversation's role on a real database: starting with a role, its defaults and prompt reaching
the model request, switching and dropping it, and the owner checks."""

from __future__ import annotations

import pytest

from chatapp.chat import conversations, store
from chatapp.errors import NotFound
from chatapp.models import Role
from chatapp.roles import binding, library
from chatapp.roles import store as role_store


def test_start_conversation_copies_role_defaults(session, users, mine, resolve):
    alice, _ = users
    own = role_store.create_role(session, user_id=alice, data=mine)
    assert own.id is not None
    conv = binding.start_conversation(session, user_id=alice, role_id=own.id, resolve_model=resolve)
    assert (conv.role_id, conv.title, conv.title_is_auto) == (own.id, "我的助手", False)
    assert (conv.model, conv.temperature, conv.context_window) == ("m-2", 0.2, 6)
    assert conv.token_budget == 8000  # the role leaves it unset: the conversation default stays


def test_role_reaches_the_model_request_in_order(session, users, mine, resolve):
    alice, _ = users
    own = role_store.create_role(session, user_id=alice, data=mine)
    assert own.id is not None
    conv = binding.start_conversation(session, user_id=alice, role_id=own.id, resolve_model=resolve)
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


def test_switching_role_and_owner_checks(session, users, mine, resolve):
    alice, bob = users
    library.sync_builtin_roles(session)
    own = role_store.create_role(session, user_id=alice, data=mine)
    conv = store.create_conversation(session, user_id=alice, model="m-1")
    assert own.id is not None
    binding.set_conversation_role(
        session, user_id=alice, conversation_id=conv.id, role_id=own.id, resolve_model=resolve
    )
    assert (conv.role_id, conv.model) == (own.id, "m-2")
    with pytest.raises(NotFound):  # bob can't bind alice's conversation
        binding.set_conversation_role(
            session, user_id=bob, conversation_id=conv.id, role_id=None, resolve_model=resolve
        )
    bob_conv = store.create_conversation(session, user_id=bob, model="m-1")
    with pytest.raises(NotFound):  # nor use alice's role in his own
        binding.set_conversation_role(
            session,
            user_id=bob,
            conversation_id=bob_conv.id,
            role_id=own.id,
            resolve_model=resolve,
        )
    binding.set_conversation_role(
        session, user_id=alice, conversation_id=conv.id, role_id=None, resolve_model=resolve
    )
    assert conv.role_id is None


@pytest.mark.parametrize(
    ("defaults", "expected"),
    [
        ({}, {"role_id": 7}),
        (
            {"temperature": 0.3, "context_window": 4},
            {"role_id": 7, "temperature": 0.3, "context_window": 4},
        ),
        ({"model": "m-2"}, {"role_id": 7, "model": "m-2"}),
        ({"model": "gone-model"}, {"role_id": 7, "model": "m-1"}),  # not offered: the default
    ],
)
def test_a_role_sets_only_the_defaults_it_defines(defaults, expected, resolve):
    role = Role(id=7, user_id=None, name="r", **defaults)
    assert binding.role_conversation_fields(role, resolve_model=resolve) == expected


def test_dropping_the_role_keeps_the_conversations_parameters(session, users, mine, resolve):
    alice, _ = users
    own = role_store.create_role(session, user_id=alice, data=mine)
    assert own.id is not None
    conv = binding.start_conversation(session, user_id=alice, role_id=own.id, resolve_model=resolve)
    binding.set_conversation_role(
        session, user_id=alice, conversation_id=conv.id, role_id=None, resolve_model=resolve
    )
    assert conv.role_id is None
    assert (conv.model, conv.temperature, conv.context_window) == ("m-2", 0.2, 6)
