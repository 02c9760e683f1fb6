"""Role use cases: the built-in library, a user's own roles, starting or switching a conversation's role,
and import/export.

A role with `user_id` None is built in: everyone sees it, nobody edits or deletes it (users duplicate
it instead). Built-ins ship in `chatapp/roles/role_library.json` with a `key` and a `version`;
`sync_builtin_roles` inserts new ones and updates rows whose shipped version is newer — it never
touches a user's role. Every query filters by owner inside the query: another user's role id
behaves exactly like one that does not exist.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select, update

from chatapp.chat import store
from chatapp.errors import InvalidInput, NotFound
from chatapp.models import Conversation, Role, UserSettings, utcnow
from chatapp.roles.schema import (
    Opening,
    RoleInput,
    export_json,
    parse_import,
    parse_opening,
    parse_tags,
    validate_role,
)

LIBRARY_PATH = Path(__file__).parent / "role_library.json"
MAX_USER_ROLES = 200
CONVERSATION_DEFAULTS = (
    "model",
    "temperature",
    "top_p",
    "max_tokens",
    "context_window",
    "token_budget",
)


# ---- the built-in library ------------------------------------------------------------------------


@dataclass(frozen=True)
class BuiltinRole:
    """One entry of the shipped library."""

    key: str
    version: int
    role: RoleInput


def load_library(path: Path = LIBRARY_PATH) -> list[BuiltinRole]:
    """The shipped built-in roles, validated like any other role.

    Raises:
        InvalidInput: the shipped file is broken (a test keeps this from ever shipping).
    """
    doc = json.loads(path.read_text(encoding="utf-8"))
    out: list[BuiltinRole] = []
    for entry in doc["roles"]:
        out.append(BuiltinRole(str(entry["key"]), int(entry["version"]), validate_role(entry)))
    return out


def _apply(row: Role, data: RoleInput) -> None:
    row.name = data.name
    row.avatar = data.avatar
    row.description = data.description
    row.system_prompt = data.system_prompt
    row.opening_json = data.opening_json()
    row.model = data.model
    row.temperature = data.temperature
    row.top_p = data.top_p
    row.max_tokens = data.max_tokens
    row.context_window = data.context_window
    row.token_budget = data.token_budget
    row.tags = data.tags_text()
    row.language = data.language
    row.updated_at = utcnow()


def sync_builtin_roles(session: Session, library: Iterable[BuiltinRole] | None = None) -> int:
    """Inserts missing built-in roles and upgrades those whose shipped version is newer.

    Idempotent; safe on every start. User-owned rows are never read or written, and a built-in
    row keeps its id, so conversations bound to it stay bound.

    Returns:
        How many rows were inserted or updated.
    """
    entries = list(load_library() if library is None else library)
    existing = {
        r.builtin_key: r
        for r in session.exec(
            select(Role).where(col(Role.user_id).is_(None), col(Role.builtin_key).is_not(None))
        ).all()
    }
    changed = 0
    for entry in entries:
        row = existing.get(entry.key)
        if row is not None and row.builtin_version >= entry.version:
            continue
        if row is None:
            row = Role(user_id=None, builtin_key=entry.key, name=entry.role.name)
        _apply(row, entry.role)
        row.builtin_version = entry.version
        session.add(row)
        changed += 1
    session.flush()
    return changed


# ---- reading -------------------------------------------------------------------------------------


def _visible(user_id: int):
    """The SQL condition "built in, or owned by `user_id`"."""
    return or_(col(Role.user_id).is_(None), col(Role.user_id) == user_id)


def get_role(session: Session, *, user_id: int, role_id: int) -> Role | None:
    """A role the user may use (built in or their own), or None."""
    return session.exec(select(Role).where(Role.id == role_id, _visible(user_id))).first()


def get_own_role(session: Session, *, user_id: int, role_id: int) -> Role | None:
    """A role the user owns (and so may edit or delete), or None."""
    return session.exec(select(Role).where(Role.id == role_id, Role.user_id == user_id)).first()


def role_tags(role: Role) -> list[str]:
    """The role's tags as a list."""
    return [t for t in (role.tags or "").split(",") if t]


def list_roles(
    session: Session, *, user_id: int, query: str = "", tag: str = "", language: str | None = None
) -> list[Role]:
    """The user's own roles (newest first), then built-ins, filtered.

    Args:
        query: case-insensitive substring of name, description or tags.
        tag: only roles carrying this tag.
        language: only built-ins in this language (the user's own roles always show).
    """
    stmt = select(Role).where(_visible(user_id))
    if language:
        stmt = stmt.where(or_(col(Role.user_id).is_not(None), col(Role.language) == language))
    rows = list(session.exec(stmt).all())
    # Own roles first, newest first; then built-ins in library order. Sorted here because NULL
    # ordering differs between SQLite and PostgreSQL.
    rows.sort(
        key=lambda r: (
            r.user_id is None,
            0 if r.user_id is None else -r.updated_at.timestamp(),
            r.id or 0,
        )
    )
    needle = query.strip().lower()
    if needle:
        rows = [
            r
            for r in rows
            if needle in r.name.lower()
            or needle in (r.description or "").lower()
            or needle in (r.tags or "").lower()
        ]
    if tag:
        rows = [r for r in rows if tag in role_tags(r)]
    return rows


def all_tags(rows: Iterable[Role]) -> list[str]:
    """Every tag used by these roles, most used first."""
    counts: dict[str, int] = {}
    for row in rows:
        for tag in role_tags(row):
            counts[tag] = counts.get(tag, 0) + 1
    return sorted(counts, key=lambda t: (-counts[t], t))


def role_input(row: Role) -> RoleInput:
    """A stored role as plain data (for export and duplication)."""
    try:
        opening = parse_opening(row.opening_json or "[]")
    except InvalidInput:
        opening = ()
    return RoleInput(
        name=row.name,
        avatar=row.avatar,
        description=row.description,
        system_prompt=row.system_prompt,
        opening=opening,
        model=row.model,
        temperature=row.temperature,
        top_p=row.top_p,
        max_tokens=row.max_tokens,
        context_window=row.context_window,
        token_budget=row.token_budget,
        tags=parse_tags(row.tags),
        language=row.language,
    )


# ---- changing ------------------------------------------------------------------------------------


def _count_own(session: Session, user_id: int) -> int:
    return len(session.exec(select(Role.id).where(Role.user_id == user_id)).all())


def create_role(session: Session, *, user_id: int, data: RoleInput) -> Role:
    """Creates a role owned by `user_id`.

    Raises:
        InvalidInput: too_many_roles when the user already has MAX_USER_ROLES.
    """
    if _count_own(session, user_id) >= MAX_USER_ROLES:
        raise InvalidInput("too_many_roles", str(MAX_USER_ROLES))
    row = Role(user_id=user_id, name=data.name)
    _apply(row, data)
    session.add(row)
    session.flush()
    return row


def update_role(session: Session, *, user_id: int, role_id: int, data: RoleInput) -> Role:
    """Replaces the fields of the user's own role.

    Raises:
        NotFound: not the user's role (built-ins included: they are read-only).
    """
    row = get_own_role(session, user_id=user_id, role_id=role_id)
    if row is None:
        raise NotFound(str(role_id))
    _apply(row, data)
    session.add(row)
    session.flush()
    return row


def duplicate_role(session: Session, *, user_id: int, role_id: int, suffix: str) -> Role:
    """Copies a visible role (built in or own) into a new role the user owns.

    Args:
        suffix: appended to the name, e.g. " (副本)".

    Raises:
        NotFound: the role is not visible to the user.
    """
    row = get_role(session, user_id=user_id, role_id=role_id)
    if row is None:
        raise NotFound(str(role_id))
    data = role_input(row)
    name = (data.name + suffix)[:64]
    return create_role(session, user_id=user_id, data=RoleInput(**{**data.__dict__, "name": name}))


def delete_role(session: Session, *, user_id: int, role_id: int) -> bool:
    """Deletes the user's own role; their conversations using it fall back to no role.

    Returns:
        False when the role is not theirs (built-ins included).
    """
    row = get_own_role(session, user_id=user_id, role_id=role_id)
    if row is None:
        return False
    session.exec(
        update(Conversation)
        .where(col(Conversation.user_id) == user_id, col(Conversation.role_id) == role_id)
        .values(role_id=None)
    )
    session.exec(
        update(UserSettings)
        .where(col(UserSettings.user_id) == user_id, col(UserSettings.default_role_id) == role_id)
        .values(default_role_id=None)
    )
    session.delete(row)
    session.flush()
    return True


def role_conversation_fields(
    role: Role, *, resolve_model: Callable[[str | None], str]
) -> dict[str, Any]:
    """The conversation fields a role sets: its id and whichever defaults it defines.

    Args:
        resolve_model: maps the role's model to one that is offered (a role may name a model this
            deployment does not have).
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
    """Switches a conversation's role (None: no role). The role's defaults replace the
    conversation's settings where the role defines them; the next answer uses the new prompt.

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


# ---- import / export -----------------------------------------------------------------------------


def export_roles(session: Session, *, user_id: int, role_ids: list[int] | None = None) -> str:
    """Our versioned JSON of the given visible roles, or of all the user's own roles."""
    if role_ids is None:
        rows = list(session.exec(select(Role).where(Role.user_id == user_id)).all())
    else:
        rows = [
            r
            for rid in role_ids
            if (r := get_role(session, user_id=user_id, role_id=rid)) is not None
        ]
    return export_json([role_input(r) for r in rows])


def import_roles(session: Session, *, user_id: int, text: str | bytes) -> list[Role]:
    """Imports every role in a file (ours or NextChat masks) as the user's own — all or nothing.

    Raises:
        InvalidInput: the file is invalid (see `role_schema.parse_import`) or would exceed the
            user's role limit; nothing is stored.
    """
    parsed = parse_import(text)
    if _count_own(session, user_id) + len(parsed) > MAX_USER_ROLES:
        raise InvalidInput("too_many_roles", str(MAX_USER_ROLES))
    return [create_role(session, user_id=user_id, data=data) for data in parsed]


# ---- view models ---------------------------------------------------------------------------------


@dataclass
class RoleItem:
    """A role as the roles page and pickers render it."""

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


def _s(value: object) -> str:
    return "" if value is None else str(value)


def role_item(row: Role) -> RoleItem:
    """The display record of a role row."""
    data = role_input(row)
    return RoleItem(
        id=row.id or 0,
        name=row.name,
        avatar=row.avatar or "🤖",
        avatar_is_image=(row.avatar or "").startswith(("http://", "https://", "/")),
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


__all__ = [
    "BuiltinRole",
    "Opening",
    "RoleInput",
    "RoleItem",
    "create_role",
    "delete_role",
    "duplicate_role",
    "export_roles",
    "get_role",
    "import_roles",
    "list_roles",
    "role_item",
    "set_conversation_role",
    "start_conversation",
    "sync_builtin_roles",
    "validate_role",
]
