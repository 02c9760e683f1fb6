# pyright: reportAttributeAccessIssue=false, reportReturnType=false
# (Reflex resolves fields of Vars like `role.name` at runtime; pyright cannot see them.)
"""The roles page's middle pane: search, tag filter, new / import / export, and the role list."""

from __future__ import annotations

import reflex as rx

from chatapp.components.role_avatar import role_avatar
from chatapp.components.text import t
from chatapp.roles.items import RoleItem
from chatapp.state.roles import RolesState


def _row(role: rx.Var[RoleItem]) -> rx.Component:
    return rx.box(
        role_avatar(role.avatar, role.avatar_is_image, "md"),
        rx.box(
            rx.box(
                rx.text(role.name, class_name="title"),
                rx.cond(
                    role.builtin,
                    rx.box(t("roles.builtin"), class_name="role-badge"),
                    rx.box(t("roles.mine"), class_name="role-badge mine"),
                ),
                class_name="row1",
            ),
            rx.text(role.description, class_name="preview"),
            class_name="role-row-text",
        ),
        class_name=rx.cond(RolesState.selected.id == role.id, "role-row active", "role-row"),
        on_click=RolesState.select(role.id),
        data_testid="role-item",
        role="button",
    )


def _tag(tag: rx.Var[str]) -> rx.Component:
    return rx.el.button(
        tag,
        class_name=rx.cond(RolesState.tag == tag, "tag-chip active", "tag-chip"),
        on_click=RolesState.set_tag(tag),
        type="button",
    )


def _menu() -> rx.Component:
    return rx.dropdown_menu.root(
        rx.dropdown_menu.trigger(
            rx.icon_button(
                rx.icon("ellipsis", size=18),
                variant="soft",
                color_scheme="gray",
                aria_label=t("roles.more"),
                id="roles-menu",
            ),
        ),
        rx.dropdown_menu.content(
            rx.dropdown_menu.item(
                rx.icon("upload", size=14),
                t("roles.import"),
                on_click=RolesState.set_import_open(True),
                id="roles-import",
            ),
            rx.dropdown_menu.item(
                rx.icon("download", size=14),
                t("roles.export_mine"),
                on_click=RolesState.export_mine,
                id="roles-export",
            ),
            size="2",
        ),
    )


def role_list() -> rx.Component:
    """The middle pane of /roles."""
    return rx.box(
        rx.box(
            rx.input(
                rx.input.slot(rx.icon("search", size=14)),
                placeholder=t("roles.search"),
                on_change=RolesState.search.debounce(300),
                max_length=100,  # what the server reads of a query
                class_name="search",
                size="2",
                id="role-search",
            ),
            rx.tooltip(
                rx.icon_button(
                    rx.icon("plus", size=18),
                    on_click=RolesState.open_new,
                    variant="soft",
                    color_scheme="gray",
                    aria_label=t("roles.new"),
                    id="role-new",
                ),
                content=t("roles.new"),
            ),
            _menu(),
            class_name="sidebar-head",
        ),
        rx.box(
            rx.el.button(
                t("roles.all_tags"),
                class_name=rx.cond(RolesState.tag == "", "tag-chip active", "tag-chip"),
                on_click=RolesState.set_tag(""),
                type="button",
            ),
            rx.foreach(RolesState.tags, _tag),
            class_name="tag-bar",
        ),
        rx.box(
            rx.foreach(RolesState.items, _row),
            rx.cond(
                RolesState.items.length() == 0,
                rx.box(
                    rx.cond(RolesState.loaded, t("roles.empty"), t("common.loading")),
                    class_name="conv-empty",
                ),
            ),
            class_name="conv-list",
            id="role-list",
            # Scrollable: reachable by keyboard, named for screen readers.
            tab_index=0,
            role="region",
            aria_label=t("a11y.roles_heading"),
        ),
        rx.el.label(
            rx.checkbox(
                checked=RolesState.all_languages,
                on_change=RolesState.set_all_languages,
                size="1",
                id="roles-all-languages",
                aria_label=t("roles.all_languages"),
            ),
            t("roles.all_languages"),
            class_name="list-foot",
        ),
        class_name="sidebar",
    )
