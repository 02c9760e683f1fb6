"""The built-in role library: `role_library.json` beside this module, and syncing it into the
database on start-up.

Each shipped entry has a stable `key` and a `version`. `sync_builtin_roles` inserts entries that
are missing and updates rows whose shipped version is newer; it never reads or writes a user's
role, and an upgraded row keeps its id so conversations bound to it stay bound.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, col, select

from chatapp.models import Role
from chatapp.roles.schema import RoleInput, validate_role
from chatapp.roles.store import write_fields

LIBRARY_PATH = Path(__file__).parent / "role_library.json"


@dataclass(frozen=True)
class BuiltinRole:
    """One entry of the shipped library."""

    key: str
    version: int
    role: RoleInput


def load_library(path: Path = LIBRARY_PATH) -> list[BuiltinRole]:
    """The shipped built-in roles, validated like any other role.

    Args:
        path: the library file (tests pass their own).

    Raises:
        InvalidInput: the shipped file is broken (a test keeps this from ever shipping).
    """
    doc = json.loads(path.read_text(encoding="utf-8"))
    out: list[BuiltinRole] = []
    for entry in doc["roles"]:
        out.append(BuiltinRole(str(entry["key"]), int(entry["version"]), validate_role(entry)))
    return out


def sync_builtin_roles(session: Session, library: Iterable[BuiltinRole] | None = None) -> int:
    """Inserts missing built-in roles and upgrades those whose shipped version is newer.

    Idempotent; safe on every start.

    Args:
        session: the database session (the caller commits).
        library: the entries to sync; the shipped library when None.

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
        write_fields(row, entry.role)
        row.builtin_version = entry.version
        session.add(row)
        changed += 1
    session.flush()
    return changed
