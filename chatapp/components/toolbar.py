"""The narrow left toolbar: the user's avatar, chat / roles / settings (and the console for admins),
and logout (with confirm)."""

from __future__ import annotations

import reflex as rx

from chatapp.components.confirm_dialog import confirm_dialog
from chatapp.components.text import t
from chatapp.state.auth import AuthState


def _nav(icon: str, href: str, label_key: str, active: bool) -> rx.Component:
    return rx.tooltip(
        rx.link(
            rx.icon(icon, size=22),
            href=href,
            class_name="active" if active else "",
            aria_label=t(label_key),
        ),
        content=t(label_key),
        side="right",
    )


def toolbar(active: str) -> rx.Component:
    """The toolbar; `active` is "chat", "roles", "settings" or "admin"."""
    return rx.el.nav(
        rx.box(
            AuthState.avatar_text,
            class_name="avatar-self",
            title=AuthState.nickname,
            # Repeated `&`: outranks the stylesheet's `.dark .toolbar .avatar-self` colour.
            style={"&&&&": {"background": AuthState.avatar_colour}},
            id="avatar-self",
        ),
        _nav("message-circle", "/", "nav.chat", active == "chat"),
        _nav("drama", "/roles", "nav.roles", active == "roles"),
        _nav("settings", "/settings", "nav.settings", active == "settings"),
        # Shown to admins only; the console itself checks on the server whoever opens it.
        rx.cond(AuthState.is_admin, _nav("shield", "/admin", "nav.admin", active == "admin")),
        rx.box(class_name="spacer"),
        confirm_dialog(
            trigger=rx.el.button(
                rx.icon("log-out", size=20),
                class_name="tool",
                aria_label=t("nav.logout"),
                id="logout-button",
            ),
            title_key="nav.logout",
            description_key="nav.logout.confirm",
            confirm_key="nav.logout",
            on_confirm=AuthState.logout,
            confirm_id="logout-confirm",
        ),
        class_name="toolbar",
    )
