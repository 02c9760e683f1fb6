# pyright: reportAttributeAccessIssue=false, reportReturnType=false
"""The settings page `/settings`: appearance, chat defaults, the user's own API key, their open
API keys, and usage."""

from __future__ import annotations

import reflex as rx

from chatapp.components.confirm_dialog import confirm_dialog
from chatapp.components.layout import shell
from chatapp.components.open_api_keys import open_api_card
from chatapp.components.text import LABEL_THUMBS, t
from chatapp.components.usage_card import usage_card
from chatapp.roles.items import RoleChoice
from chatapp.state.auth import AuthState
from chatapp.state.settings import ModelChoice, SettingsState
from chatapp.state.ui import UIState


def _row(label_key: str, control: rx.Component, hint: rx.Component | None = None) -> rx.Component:
    return rx.box(
        rx.box(rx.text(t(label_key), class_name="setting-label"), hint or rx.fragment()),
        rx.box(control, class_name="setting-control"),
        class_name="setting-row",
    )


def _card(title_key: str, *rows: rx.Component, **props) -> rx.Component:
    return rx.box(
        rx.heading(t(title_key), as_="h3", size="3", class_name="card-title"),
        *rows,
        class_name="settings-card",
        **props,
    )


def _choice(c: rx.Var[ModelChoice] | rx.Var[RoleChoice]) -> rx.Component:
    return rx.select.item(c.label, value=c.value)


def _appearance() -> rx.Component:
    return _card(
        "settings.section.appearance",
        _row(
            "settings.language",
            rx.segmented_control.root(
                rx.segmented_control.item(t("lang.zh"), value="zh"),
                rx.segmented_control.item(t("lang.en"), value="en"),
                value=UIState.lang,
                on_change=SettingsState.set_language,
                id="settings-language",
            ),
        ),
        _row(
            "settings.theme",
            rx.segmented_control.root(
                rx.segmented_control.item(t("settings.theme.light"), value="light"),
                rx.segmented_control.item(t("settings.theme.dark"), value="dark"),
                rx.segmented_control.item(t("settings.theme.system"), value="system"),
                value=SettingsState.theme,
                on_change=SettingsState.set_theme,
                id="settings-theme",
            ),
        ),
        _row(
            "settings.font_size",
            rx.hstack(
                rx.slider(
                    # Controlled, never re-keyed: a new key per value remounted the slider after
                    # each arrow-key step, and the focus fell to <body>.
                    value=[SettingsState.font_size],
                    on_change=SettingsState.preview_font_size,
                    min=12,
                    max=22,
                    step=1,
                    on_value_commit=SettingsState.set_font_size,
                    width="180px",
                    id="settings-font-size",
                    data_thumb_label=t("settings.font_size"),
                    on_mount=rx.call_script(LABEL_THUMBS),
                ),
                rx.text(SettingsState.font_px, class_name="setting-value"),
                align="center",
                spacing="3",
            ),
        ),
        rx.box(t("settings.font_size.preview"), class_name="bubble assistant font-preview"),
    )


def _chat() -> rx.Component:
    return _card(
        "settings.section.chat",
        _row(
            "settings.reasoning_open",
            rx.switch(
                checked=SettingsState.reasoning_open,
                on_change=SettingsState.set_reasoning_open,
                id="settings-reasoning-open",
                aria_label=t("settings.reasoning_open"),
                title=t("settings.reasoning_open.hint"),
            ),
        ),
        _row(
            "settings.send_key",
            rx.radio_group.root(
                rx.radio_group.item(t("settings.send_key.enter"), value="enter"),
                rx.radio_group.item(t("settings.send_key.ctrl"), value="ctrl"),
                value=SettingsState.send_key,
                on_change=SettingsState.set_send_key,
                direction="column",
                spacing="2",
                id="settings-send-key",
            ),
        ),
        _row(
            "settings.default_model",
            rx.select.root(
                rx.select.trigger(
                    id="settings-default-model",
                    width="220px",
                    aria_label=t("settings.default_model"),
                ),
                rx.select.content(rx.foreach(SettingsState.model_choices, _choice)),
                value=SettingsState.default_model,
                on_change=SettingsState.set_default_model,
            ),
        ),
        _row(
            "settings.default_role",
            rx.select.root(
                rx.select.trigger(
                    id="settings-default-role",
                    width="220px",
                    aria_label=t("settings.default_role"),
                ),
                rx.select.content(
                    rx.foreach(SettingsState.role_choices, _choice), position="popper"
                ),
                value=SettingsState.default_role_id,
                on_change=SettingsState.set_default_role,
            ),
        ),
    )


def _api() -> rx.Component:
    return _card(
        "settings.section.api",
        rx.text(t("settings.api.hint"), class_name="hint"),
        rx.box(
            rx.text(t("settings.api.saved_key"), class_name="setting-label"),
            rx.cond(
                SettingsState.api_key_hint != "",
                rx.code(SettingsState.api_key_hint, id="settings-api-hint"),
                rx.text(t("settings.api.none"), class_name="hint"),
            ),
            class_name="setting-row",
        ),
        rx.form(
            rx.box(
                rx.el.label(
                    rx.text(t("settings.api.key"), class_name="field-label"),
                    rx.input(
                        name="api_key",
                        type="password",
                        auto_complete="off",
                        placeholder=t("settings.api.key.placeholder"),
                        max_length=256,
                        id="settings-api-key",
                    ),
                    class_name="field",
                ),
                rx.el.label(
                    rx.text(t("settings.api.base_url"), class_name="field-label"),
                    rx.input(
                        name="api_base_url",
                        default_value=SettingsState.api_base_url,
                        key=SettingsState.api_base_url,
                        placeholder="https://api.openai.com/v1",
                        max_length=512,
                        id="settings-api-base",
                    ),
                    class_name="field",
                ),
                class_name="form-grid",
            ),
            rx.cond(
                SettingsState.api_error != "",
                rx.callout(
                    SettingsState.api_error,
                    icon="triangle-alert",
                    color_scheme="red",
                    size="1",
                    id="settings-api-error",
                ),
            ),
            rx.flex(
                rx.cond(
                    SettingsState.api_key_hint != "",
                    rx.button(
                        t("settings.api.clear"),
                        type="button",
                        variant="soft",
                        color_scheme="red",
                        on_click=SettingsState.clear_api,
                        id="settings-api-clear",
                    ),
                ),
                rx.button(
                    t("common.save"), type="submit", color_scheme="green", id="settings-api-save"
                ),
                class_name="btn-row end",
            ),
            on_submit=SettingsState.save_api,
            # A refused save keeps what was typed; a saved one empties the key field itself.
            reset_on_submit=False,
        ),
    )


def _sessions() -> rx.Component:
    """Log out of every browser and device (revokes all of the user's sessions)."""
    return confirm_dialog(
        trigger=rx.button(
            t("login.logout_everywhere"),
            variant="soft",
            color_scheme="red",
            id="logout-everywhere",
            margin_top="8px",
        ),
        title_key="login.logout_everywhere",
        description_key="login.logout_everywhere.confirm",
        confirm_key="login.logout_everywhere",
        on_confirm=AuthState.logout_everywhere,
        confirm_id="logout-everywhere-confirm",
    )


def _main() -> rx.Component:
    return rx.box(
        rx.box(
            rx.text(t("settings.title"), class_name="title"),
            rx.cond(
                SettingsState.notice != "",
                rx.box(SettingsState.notice, class_name="page-notice", id="settings-notice"),
            ),
            class_name="dialog-head",
        ),
        rx.box(
            rx.box(
                rx.text(t("settings.subtitle"), class_name="hint"),
                rx.cond(
                    SettingsState.error != "",
                    rx.callout(
                        SettingsState.error, icon="triangle-alert", color_scheme="red", size="1"
                    ),
                ),
                _appearance(),
                _chat(),
                _api(),
                open_api_card(),
                usage_card(),
                _sessions(),
                class_name="settings-inner",
            ),
            class_name="page-pane",
        ),
        class_name="dialog",
    )


def settings_page() -> rx.Component:
    """The whole settings page."""
    return shell("settings", None, _main(), has_detail=True)
