# pyright: reportAttributeAccessIssue=false, reportReturnType=false, reportIndexIssue=false
# (Reflex resolves fields of Vars like `role.name` at runtime; pyright cannot see them.)
"""The dialog that creates or edits one of the user's own roles, with clear validation errors.

Inputs are uncontrolled (`default_value`, remounted through `key` when the dialog opens) so typing
sends no events; opening messages are kept in state on blur because rows can be added and removed.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from chatapp.components.text import t
from chatapp.state.roles import RolesState

_form = RolesState.form


def _label(key: str, control: rx.Component, *, wide: bool = False) -> rx.Component:
    return rx.el.label(
        rx.text(t(key), class_name="field-label"),
        control,
        class_name="field wide" if wide else "field",
    )


def _input(name: str, value: Any, **props: Any) -> rx.Component:
    return rx.input(
        name=name,
        default_value=value,
        key=RolesState.form_nonce + name,
        id=f"role-form-{name}",
        **props,
    )


def _number(name: str, value: Any, **props: Any) -> rx.Component:
    # No min/max/step: the browser's own validation bubble would pre-empt our bilingual errors.
    return _input(name, value, type="number", step="any", placeholder=t("roles.unset"), **props)


def _opening_row(msg: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.box(
        rx.select.root(
            rx.select.trigger(),
            rx.select.content(
                rx.select.item(t("roles.opening.user"), value="user"),
                rx.select.item(t("roles.opening.assistant"), value="assistant"),
            ),
            value=msg["role"],
            on_change=lambda v: RolesState.set_opening_role(msg["key"], v),
            size="2",
        ),
        rx.text_area(
            default_value=msg["content"],
            key=RolesState.form_nonce + msg["key"],
            on_blur=lambda v: RolesState.set_opening_content(msg["key"], v),
            rows="2",
            max_length=4000,
            class_name="opening-input",
        ),
        rx.icon_button(
            rx.icon("x", size=14),
            on_click=RolesState.remove_opening(msg["key"]),
            variant="ghost",
            color_scheme="gray",
            type="button",
            aria_label=t("roles.opening.remove"),
        ),
        class_name="opening-row",
        data_testid="opening-row",
    )


def role_editor() -> rx.Component:
    """The create / edit dialog."""
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(
                rx.cond(
                    RolesState.editing_id > 0, t("roles.form.edit_title"), t("roles.form.new_title")
                )
            ),
            rx.form(
                rx.box(
                    _label("roles.field.name", _input("name", _form.name, max_length=64)),
                    _label("roles.field.avatar", _input("avatar", _form.avatar, max_length=512)),
                    _label(
                        "roles.field.description",
                        _input("description", _form.description, max_length=500),
                        wide=True,
                    ),
                    _label(
                        "roles.field.system_prompt",
                        rx.text_area(
                            name="system_prompt",
                            default_value=_form.system_prompt,
                            key=RolesState.form_nonce + "prompt",
                            placeholder=t("roles.form.prompt_placeholder"),
                            rows="8",
                            max_length=8000,
                            id="role-form-system_prompt",
                        ),
                        wide=True,
                    ),
                    rx.box(
                        rx.text(t("roles.opening"), class_name="field-label"),
                        rx.text(t("roles.opening.hint"), class_name="hint"),
                        rx.foreach(RolesState.form_opening, _opening_row),
                        rx.button(
                            rx.icon("plus", size=14),
                            t("roles.opening.add"),
                            on_click=RolesState.add_opening,
                            type="button",
                            variant="soft",
                            color_scheme="gray",
                            size="1",
                            class_name="self-start",
                            id="role-form-add-opening",
                        ),
                        class_name="field wide",
                    ),
                    _label(
                        "roles.field.tags", _input("tags", _form.tags.join(","), max_length=200)
                    ),
                    _label(
                        "roles.field.language",
                        rx.el.select(
                            rx.el.option(t("lang.zh"), value="zh"),
                            rx.el.option(t("lang.en"), value="en"),
                            name="language",
                            default_value=_form.language,
                            key=RolesState.form_nonce + "lang",
                            class_name="native-select",
                        ),
                    ),
                    rx.box(
                        rx.text(t("roles.defaults"), class_name="field-label"),
                        rx.text(t("roles.defaults.hint"), class_name="hint"),
                        class_name="field wide",
                    ),
                    _label(
                        "roles.field.model",
                        rx.el.select(
                            rx.el.option(t("roles.unset"), value=""),
                            rx.foreach(RolesState.models, lambda m: rx.el.option(m, value=m)),
                            name="model",
                            default_value=_form.model,
                            key=RolesState.form_nonce + "model",
                            class_name="native-select",
                        ),
                    ),
                    _label(
                        "roles.field.temperature",
                        _number("temperature", _form.temperature),
                    ),
                    _label(
                        "roles.field.top_p",
                        _number("top_p", _form.top_p),
                    ),
                    _label("roles.field.max_tokens", _number("max_tokens", _form.max_tokens)),
                    _label(
                        "roles.field.context_window",
                        _number("context_window", _form.context_window),
                    ),
                    _label(
                        "roles.field.token_budget",
                        _number("token_budget", _form.token_budget),
                    ),
                    class_name="form-grid",
                ),
                rx.cond(
                    RolesState.form_error != "",
                    rx.callout(
                        RolesState.form_error,
                        icon="triangle-alert",
                        color_scheme="red",
                        size="1",
                        id="role-form-error",
                    ),
                ),
                rx.flex(
                    rx.dialog.close(
                        rx.button(
                            t("common.cancel"), variant="soft", color_scheme="gray", type="button"
                        )
                    ),
                    rx.button(
                        t("common.save"), type="submit", color_scheme="green", id="role-form-save"
                    ),
                    class_name="btn-row end",
                ),
                on_submit=RolesState.save,
                reset_on_submit=False,
                id="role-form",
            ),
            max_width="720px",
        ),
        open=RolesState.editor_open,
        on_open_change=RolesState.set_editor_open,
    )
