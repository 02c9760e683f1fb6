"""The roles page `/roles`: the role list in the middle, the selected role on the right."""

from __future__ import annotations

import reflex as rx

from chatapp.components.layout import shell
from chatapp.components.role_detail import role_detail
from chatapp.components.role_editor import role_editor
from chatapp.components.role_import import role_import
from chatapp.components.role_list import role_list
from chatapp.state.roles import RolesState


def roles_page() -> rx.Component:
    """The whole roles page."""
    return rx.fragment(
        shell("roles", role_list(), role_detail(), has_detail=RolesState.has_selection),
        role_editor(),
        role_import(),
    )
