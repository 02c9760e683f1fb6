# pyright: reportAttributeAccessIssue=false, reportReturnType=false, reportIndexIssue=false
# (Reflex resolves fields of Vars like `role.name` at runtime; pyright cannot see them.)
"""The roles page's main pane: a role's avatar, description, full prompt, opening messages and
defaults, with start / duplicate / edit / delete / export."""

from __future__ import annotations

from typing import Any

import reflex as rx

from chatapp.components.confirm_dialog import confirm_dialog
from chatapp.components.role_avatar import role_avatar
from chatapp.components.text import t
from chatapp.state.roles import RolesState

_role = RolesState.selected


def _opening(msg: rx.Var[dict[str, str]]) -> rx.Component:
    is_user = msg["role"] == "user"
    return rx.box(
        rx.text(
            rx.cond(is_user, t("roles.opening.user"), t("roles.opening.assistant")),
            class_name="who",
        ),
        rx.box(msg["content"], class_name=rx.cond(is_user, "bubble user", "bubble assistant")),
        class_name=rx.cond(is_user, "opening-msg user", "opening-msg"),
    )


def _default(label_key: str, value: Any) -> rx.Component:
    return rx.box(
        rx.text(t(label_key), class_name="k"),
        rx.text(rx.cond(value != "", value, t("roles.unset")), class_name="v"),
        class_name="kv",
    )


def _delete_dialog() -> rx.Component:
    return confirm_dialog(
        title_key="roles.delete",
        description_key="roles.delete.confirm",
        confirm_key="common.delete",
        on_confirm=RolesState.confirm_delete,
        confirm_id="role-delete-confirm",
        open=RolesState.delete_open,
        on_open_change=RolesState.set_delete_open,
    )


def _actions() -> rx.Component:
    return rx.flex(
        rx.button(
            rx.icon("message-circle", size=16),
            t("roles.start"),
            on_click=RolesState.start_chat(_role.id),
            color_scheme="green",
            size="3",
            id="role-start",
        ),
        rx.button(
            rx.icon("copy", size=16),
            t("roles.duplicate"),
            on_click=RolesState.duplicate(_role.id),
            variant="soft",
            color_scheme="gray",
            size="3",
            id="role-duplicate",
        ),
        rx.cond(
            ~_role.builtin,
            rx.fragment(
                rx.button(
                    rx.icon("pencil", size=16),
                    t("common.edit"),
                    on_click=RolesState.open_edit,
                    variant="soft",
                    color_scheme="gray",
                    size="3",
                    id="role-edit",
                ),
                rx.button(
                    rx.icon("trash-2", size=16),
                    t("common.delete"),
                    on_click=RolesState.ask_delete,
                    variant="soft",
                    color_scheme="red",
                    size="3",
                    id="role-delete",
                ),
            ),
        ),
        rx.tooltip(
            rx.icon_button(
                rx.icon("download", size=18),
                on_click=RolesState.export_selected,
                variant="soft",
                color_scheme="gray",
                size="3",
                aria_label=t("roles.export"),
                id="role-export",
            ),
            content=t("roles.export"),
        ),
        class_name="btn-row",
    )


def _detail() -> rx.Component:
    return rx.box(
        rx.box(
            role_avatar(_role.avatar, _role.avatar_is_image, "lg"),
            rx.box(
                rx.heading(_role.name, as_="h2", size="6", id="role-name"),
                rx.text(_role.description, class_name="role-desc"),
                rx.box(
                    rx.cond(
                        _role.builtin,
                        rx.box(t("roles.builtin"), class_name="role-badge"),
                        rx.box(t("roles.mine"), class_name="role-badge mine"),
                    ),
                    rx.foreach(_role.tags, lambda tag: rx.box(tag, class_name="tag-chip static")),
                    class_name="tag-line",
                ),
                class_name="role-head-text",
            ),
            class_name="role-head",
        ),
        _actions(),
        rx.cond(_role.builtin, rx.text(t("roles.builtin.readonly"), class_name="hint")),
        rx.box(
            rx.heading(t("roles.prompt"), as_="h3", size="3"),
            rx.box(
                rx.cond(_role.system_prompt != "", _role.system_prompt, "—"),
                class_name="prompt-box",
                id="role-prompt",
            ),
            class_name="section",
        ),
        rx.box(
            rx.heading(t("roles.opening"), as_="h3", size="3"),
            rx.cond(
                _role.opening.length() > 0,
                rx.box(rx.foreach(_role.opening, _opening), class_name="opening-list"),
                rx.text(t("roles.opening.none"), class_name="hint"),
            ),
            class_name="section",
        ),
        rx.box(
            rx.heading(t("roles.defaults"), as_="h3", size="3"),
            rx.box(
                _default("roles.field.model", _role.model),
                _default("roles.field.temperature", _role.temperature),
                _default("roles.field.top_p", _role.top_p),
                _default("roles.field.max_tokens", _role.max_tokens),
                _default("roles.field.context_window", _role.context_window),
                _default("roles.field.token_budget", _role.token_budget),
                class_name="kv-grid",
            ),
            class_name="section",
        ),
        class_name="role-detail",
    )


def role_detail() -> rx.Component:
    """The main pane of /roles."""
    return rx.box(
        rx.box(
            rx.el.button(
                rx.icon("chevron-left", size=22),
                class_name="mobile-back",
                on_click=RolesState.close_detail,
                aria_label=t("nav.back"),
                type="button",
            ),
            rx.text(t("roles.title"), class_name="title"),
            rx.cond(
                RolesState.notice != "",
                rx.box(RolesState.notice, class_name="page-notice", id="roles-notice"),
            ),
            class_name="dialog-head",
        ),
        rx.box(
            rx.cond(
                RolesState.has_selection,
                _detail(),
                rx.box(
                    rx.icon("drama", size=48, color="var(--muted)"),
                    rx.heading(t("roles.pick"), as_="h2"),
                    rx.text(t("roles.pick.hint")),
                    class_name="welcome",
                ),
            ),
            class_name="page-pane",
        ),
        _delete_dialog(),
        class_name="dialog",
    )
