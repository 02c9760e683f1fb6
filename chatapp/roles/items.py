"""Roles as the pages show them: the display record of a role, the roles page's list, and the
choices of the two role pickers (the chat header's and the settings page's default role).

Plain data built from rows (no Reflex): the state layer assigns these to its vars as they are.
Numbers are strings here because the editor's inputs show "" for a default the role leaves unset.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from chatapp.i18n import translate
from chatapp.models import Conversation, Role
from chatapp.roles.store import all_tags, get_role, list_roles, role_input, role_tags

# The tag filter shows the most used tags only: beyond this many it stops being a shortcut.
MAX_TAGS_SHOWN = 24


@dataclass
class RoleItem:
    """A role as the roles page and its editor render it."""

    id: int = 0
    name: str = ""
    avatar: str = ""
    avatar_is_image: bool = False
    description: str = ""
    system_prompt: str = ""
    opening: list[dict[str, str]] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    language: str = "zh"
    builtin: bool = False
    model: str = ""
    temperature: str = ""
    top_p: str = ""
    max_tokens: str = ""
    context_window: str = ""
    token_budget: str = ""


def is_image(avatar: str | None) -> bool:
    """Whether a role's avatar is a picture's address (otherwise it is an emoji or text)."""
    return (avatar or "").startswith(("http://", "https://", "/"))


def _s(value: object) -> str:
    return "" if value is None else str(value)


def role_item(row: Role) -> RoleItem:
    """The display record of a role row."""
    data = role_input(row)
    return RoleItem(
        id=row.id or 0,
        name=row.name,
        avatar=row.avatar or "🤖",
        avatar_is_image=is_image(row.avatar),
        description=row.description,
        system_prompt=row.system_prompt,
        opening=[{"role": o.role, "content": o.content} for o in data.opening],
        tags=list(data.tags),
        language=row.language,
        builtin=row.user_id is None,
        model=_s(row.model),
        temperature=_s(row.temperature),
        top_p=_s(row.top_p),
        max_tokens=_s(row.max_tokens),
        context_window=_s(row.context_window),
        token_budget=_s(row.token_budget),
    )


@dataclass
class RoleList:
    """What the roles page's list shows: the roles, and the tags to filter them by."""

    items: list[RoleItem] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)


def role_list(
    session: Session, *, user_id: int, query: str = "", tag: str = "", language: str | None = None
) -> RoleList:
    """The roles page's list for a search, a tag and a language (None: every language).

    The tags offered come from the search's results before the tag filter, so picking a tag
    does not hide the other tags.
    """
    rows = list_roles(session, user_id=user_id, query=query, language=language)
    tags = all_tags(rows)[:MAX_TAGS_SHOWN]
    if tag:
        rows = [r for r in rows if tag in role_tags(r)]
    return RoleList(items=[role_item(r) for r in rows], tags=tags)


@dataclass
class RoleChoice:
    """One option of a role select: the role id as text ("0": no role) and its label."""

    value: str = "0"
    label: str = ""


def role_choices(
    session: Session, *, user_id: int, lang: str, chosen_id: int = 0
) -> list[RoleChoice]:
    """The options of a role select: "no role", then the roles in the user's language.

    Args:
        session: the database session.
        user_id: whose roles (built-ins are everyone's).
        lang: the UI language: labels are in it, and only built-ins in it are offered.
        chosen_id: the role the select shows now; kept as an option even when it is a built-in
            of the other language, so the select does not fall back to blank. Ignored when the
            user may not see it.

    Returns:
        "No role" first, then own roles (newest first), then built-ins.
    """
    rows = list_roles(session, user_id=user_id, language=lang)
    if chosen_id and all(r.id != chosen_id for r in rows):
        chosen = get_role(session, user_id=user_id, role_id=chosen_id)
        rows += [chosen] if chosen is not None else []
    return [
        RoleChoice("0", translate("roles.none", lang)),
        *(RoleChoice(str(r.id), f"{r.avatar} {r.name}") for r in rows),
    ]


def role_face(session: Session, *, user_id: int, role_id: int) -> RoleItem | None:
    """The role an open conversation is bound to, for its avatar and its opening messages; None
    when there is none or the user may not see it."""
    if not role_id:
        return None
    row = get_role(session, user_id=user_id, role_id=role_id)
    return role_item(row) if row is not None else None


def conversation_faces(
    session: Session, *, user_id: int, conversation_ids: list[str]
) -> dict[str, list[str]]:
    """The avatar of each of the user's conversations bound to a role they may see, as
    [avatar, "1" when it is an image else ""]; conversations without a role are left out (the
    list shows its default avatar for them)."""
    if not conversation_ids:
        return {}
    rows = session.exec(
        select(Conversation.id, Role.avatar)
        .join(Role, col(Role.id) == col(Conversation.role_id))
        .where(
            Conversation.user_id == user_id,
            col(Conversation.id).in_(conversation_ids),
            (col(Role.user_id) == user_id) | col(Role.user_id).is_(None),
        )
    ).all()
    return {cid: [avatar or "🤖", "1" if is_image(avatar) else ""] for cid, avatar in rows}
