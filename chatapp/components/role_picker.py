# pyright: reportAttributeAccessIssue=false, reportReturnType=false
"""The chat header's role picker: shows the conversation's role (avatar and name) and switches it."""

from __future__ import annotations

import reflex as rx

from chatapp.components.text import t
from chatapp.roles.items import RoleChoice
from chatapp.state.chat import ChatState
from chatapp.state.chat_role import ChatRoleState
from chatapp.state.thread import ThreadState


def _option(opt: rx.Var[RoleChoice]) -> rx.Component:
    return rx.select.item(opt.label, value=opt.value)


def role_picker() -> rx.Component:
    """A compact select bound to the open conversation's role."""
    # The hint is the box's native title, not a Radix tooltip: an open tooltip took the first Esc,
    # so closing the open list took two.
    return rx.box(
        rx.select.root(
            rx.select.trigger(
                placeholder=t("roles.none"),
                variant="soft",
                color="var(--gray-11)",
                id="role-picker",
                aria_label=t("a11y.role_picker"),
            ),
            rx.select.content(rx.foreach(ChatRoleState.options, _option), position="popper"),
            value=ChatState.current_role_id.to_string(),
            on_change=ChatRoleState.switch,
            size="1",
            disabled=ThreadState.is_streaming,
        ),
        class_name="role-picker",
        title=t("roles.switch"),
    )
