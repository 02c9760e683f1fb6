"""A user's roles in the database: reading, creating, changing, deleting, import and export.

A role with `user_id` None is built in (`chatapp.roles.library` ships and syncs them): everyone
sees it, nobody edits or deletes it (users duplicate it instead). Every query filters by owner
inside the query, so another user's role id behaves exactly like one that does not exist.

Import and export live here rather than in `schema`: the file format is pure and stays there,
but storing a file's roles must check the per-user limit and create them all in the caller's
transaction (all or nothing), and exporting must read only roles the user may see.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import or_
from sqlmodel import Session, col, select, update

from chatapp.errors import InvalidInput, NotFound
from chatapp.models import Conversation, Role, UserSettings, utcnow
from chatapp.roles.schema import RoleInput, export_json, parse_import, parse_opening, parse_tags

MAX_USER_ROLES = 200


def write_fields(row: Role, data: RoleInput) -> None:
    """Copies a validated role's fields onto a row (its id, owner and library key stay)."""
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
        session: the database session.
        user_id: whose roles (built-ins are everyone's).
        query: case-insensitive substring of name, description or tags.
        tag: only roles carrying this tag.
        language: only built-ins in this language (the user's own roles always show).

    Returns:
        The matching roles, in the order the roles page shows them.
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
    """A stored role as plain data (for export and duplication).

    A stored opening that no longer parses counts as none rather than failing the export.
    """
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
    write_fields(row, data)
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
    write_fields(row, data)
    session.add(row)
    session.flush()
    return row


def duplicate_role(session: Session, *, user_id: int, role_id: int, suffix: str) -> Role:
    """Copies a visible role (built in or own) into a new role the user owns.

    Args:
        session: the database session.
        user_id: the user copying (and owning the copy).
        role_id: the role to copy.
        suffix: appended to the name, e.g. " (副本)".

    Raises:
        NotFound: the role is not visible to the user.
        InvalidInput: too_many_roles.
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


# ---- import / export -----------------------------------------------------------------------------


def export_roles(session: Session, *, user_id: int, role_ids: list[int] | None = None) -> str:
    """Our versioned JSON of the given visible roles, or of all the user's own roles.

    Ids the user may not see are skipped, exactly like ids that do not exist.
    """
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
    """Imports every role in a file (ours or NextChat masks) as the user's own — all or nothing —
    except those identical to one the user already has (see `import_roles_counted`).

    Raises:
        InvalidInput: the file is invalid (see `schema.parse_import`) or would exceed the
            user's role limit; nothing is stored.
    """
    return import_roles_counted(session, user_id=user_id, text=text)[0]


def import_roles_counted(
    session: Session, *, user_id: int, text: str | bytes
) -> tuple[list[Role], int]:
    """Like `import_roles`; returns (the roles created, how many were skipped). A role identical
    in every field to one of the user's own (re-importing our own export) is skipped rather than
    stored twice (repeats inside one file are the file's business: they are kept).

    Raises:
        InvalidInput: as `import_roles`.
    """
    parsed = parse_import(text)
    have = {
        role_input(row) for row in session.exec(select(Role).where(Role.user_id == user_id)).all()
    }
    fresh = [data for data in parsed if data not in have]
    if _count_own(session, user_id) + len(fresh) > MAX_USER_ROLES:
        raise InvalidInput("too_many_roles", str(MAX_USER_ROLES))
    created = [create_role(session, user_id=user_id, data=data) for data in fresh]
    return created, len(parsed) - len(fresh)
