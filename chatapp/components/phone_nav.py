"""The phones' bottom tab bar (WeChat's): chat, roles, settings and logout, under the list panes.

The desktop toolbar is hidden below 768 px; this bar shows there instead (chat.css), on the
pages' top level (the list, the settings page), not inside a conversation or a role.
"""

from __future__ import annotations

import reflex as rx

from chatapp.components.confirm_dialog import confirm_dialog
from chatapp.components.text import t
from chatapp.state.auth import AuthState


def _tab(icon: str, href: str, label_key: str, active: bool, tab_id: str) -> rx.Component:
    return rx.link(
        rx.icon(icon, size=22),
        rx.el.span(t(label_key)),
        href=href,
        class_name="phone-tab active" if active else "phone-tab",
        aria_current="page" if active else None,
        underline="none",
        id=tab_id,
    )


def phone_nav(active: str) -> rx.Component:
    """The tab bar; `active` is "chat", "roles", "settings" or "admin"."""
    return rx.el.nav(
        _tab("message-circle", "/", "nav.chat", active == "chat", "phone-tab-chat"),
        _tab("drama", "/roles", "nav.roles", active == "roles", "phone-tab-roles"),
        _tab("settings", "/settings", "nav.settings", active == "settings", "phone-tab-settings"),
        # Admins only (cosmetic: the console checks on the server).
        rx.cond(
            AuthState.is_admin,
            _tab("shield", "/admin", "nav.admin", active == "admin", "phone-tab-admin"),
        ),
        confirm_dialog(
            trigger=rx.el.button(
                rx.icon("log-out", size=22),
                rx.el.span(t("nav.logout")),
                type="button",
                class_name="phone-tab",
                id="phone-logout",
            ),
            title_key="nav.logout",
            description_key="nav.logout.confirm",
            confirm_key="nav.logout",
            on_confirm=AuthState.logout,
            confirm_id="phone-logout-confirm",
        ),
        class_name="phone-nav",
        aria_label=t("nav.menu"),
    )
