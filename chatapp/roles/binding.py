"""A conversation's role: starting a conversation with a role, switching or dropping its role,
and which conversation fields a role sets.

A role's defaults (model, temperature, …) are copied into the conversation when it is bound, so
the conversation's own parameters (the ⚙ form) are what the next answer uses; the role's prompt
and opening messages are read at request time (`chat.conversations.build_request`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlmodel import Session

from chatapp.chat import store
from chatapp.errors import NotFound
from chatapp.models import Conversation, Role
from chatapp.roles.store import get_role

# The role fields that, when set, replace the conversation's own parameter of the same name.
CONVERSATION_DEFAULTS = (
    "model",
    "temperature",
    "top_p",
    "max_tokens",
    "context_window",
    "token_budget",
)


def role_conversation_fields(
    role: Role, *, resolve_model: Callable[[str | None], str]
) -> dict[str, Any]:
    """The conversation fields a role sets: its id and whichever defaults it defines.

    Args:
        role: the role being bound.
        resolve_model: maps the role's model to one that is offered (a role may name a model this
            deployment does not have).

    Returns:
        Keyword arguments for `store.create_conversation`, or attributes to set on a
        conversation.
    """
    fields: dict[str, Any] = {"role_id": role.id}
    for name in CONVERSATION_DEFAULTS:
        value = getattr(role, name)
        if value is not None:
            fields[name] = value
    if role.model:
        fields["model"] = resolve_model(role.model)
    return fields


def start_conversation(
    session: Session,
    *,
    user_id: int,
    role_id: int,
    resolve_model: Callable[[str | None], str],
) -> Conversation:
    """Creates a conversation bound to a role, titled with the role's name, with its defaults.

    Raises:
        NotFound: the role is not visible to the user.
    """
    role = get_role(session, user_id=user_id, role_id=role_id)
    if role is None:
        raise NotFound(str(role_id))
    fields = {"model": resolve_model(None)}
    fields |= role_conversation_fields(role, resolve_model=resolve_model)
    return store.create_conversation(
        session, user_id=user_id, title=role.name, title_is_auto=False, **fields
    )


def set_conversation_role(
    session: Session,
    *,
    user_id: int,
    conversation_id: str,
    role_id: int | None,
    resolve_model: Callable[[str | None], str],
) -> Conversation:
    """Switches a conversation's role (None: no role).

    The role's defaults replace the conversation's parameters where the role defines them;
    dropping the role keeps the parameters as they are. The next answer uses the new prompt.

    Raises:
        NotFound: the conversation or the role is not the user's.
    """
    conv = store.get_conversation(session, user_id=user_id, conversation_id=conversation_id)
    if conv is None:
        raise NotFound(conversation_id)
    if role_id is None:
        conv.role_id = None
    else:
        role = get_role(session, user_id=user_id, role_id=role_id)
        if role is None:
            raise NotFound(str(role_id))
        for name, value in role_conversation_fields(role, resolve_model=resolve_model).items():
            setattr(conv, name, value)
    session.add(conv)
    session.flush()
    return conv
