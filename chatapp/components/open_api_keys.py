# pyright: reportAttributeAccessIssue=false, reportReturnType=false
"""The settings page's 「开放 API」 card: the base URL for tools, creating a key (shown once in a
dialog with a copy button), and the list of keys with when each was last used and a revoke."""

from __future__ import annotations

import reflex as rx

from chatapp.components.confirm_dialog import confirm_dialog
from chatapp.components.text import t
from chatapp.state.api_keys import ApiKeysState, KeyRow


def _key_line(key: rx.Var[KeyRow]) -> rx.Component:
    return rx.box(
        rx.box(
            rx.text(key.name, class_name="setting-label"),
            rx.flex(
                rx.code(key.prefix, color_scheme="gray"),
                rx.text(key.details, class_name="hint"),
                spacing="2",
                wrap="wrap",
                align="center",
            ),
        ),
        confirm_dialog(
            trigger=rx.button(
                t("settings.open_api.revoke"),
                variant="soft",
                color_scheme="red",
                size="1",
                class_name="open-api-revoke",
            ),
            title_key="settings.open_api.revoke_title",
            description_key="settings.open_api.revoke_body",
            confirm_key="settings.open_api.revoke",
            on_confirm=ApiKeysState.revoke(key.id),
            confirm_id="open-api-revoke-confirm",
        ),
        class_name="setting-row open-api-key",
    )


def _created_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(t("settings.open_api.created_title")),
            rx.dialog.description(t("settings.open_api.created_hint")),
            rx.text(ApiKeysState.created_name, class_name="setting-label", margin_top="12px"),
            rx.code(
                ApiKeysState.created_key,
                color_scheme="gray",
                id="open-api-created-key",
                class_name="open-api-secret",
            ),
            rx.flex(
                rx.button(
                    t("settings.open_api.copy"),
                    variant="soft",
                    color_scheme="gray",
                    on_click=[
                        rx.set_clipboard(ApiKeysState.created_key),
                        rx.toast.success(t("settings.open_api.copied")),
                    ],
                    id="open-api-copy",
                ),
                rx.button(
                    t("settings.open_api.done"),
                    color_scheme="green",
                    on_click=ApiKeysState.dismiss,
                    id="open-api-done",
                ),
                spacing="3",
                justify="end",
                margin_top="16px",
            ),
            max_width="460px",
            id="open-api-created",
        ),
        open=ApiKeysState.created_key != "",
    )


def open_api_card() -> rx.Component:
    """The whole card."""
    return rx.box(
        rx.heading(t("settings.section.open_api"), as_="h3", size="3", class_name="card-title"),
        rx.text(t("settings.open_api.hint"), class_name="hint"),
        rx.box(
            rx.text(t("settings.open_api.base_url"), class_name="setting-label"),
            rx.code(ApiKeysState.base_url, color_scheme="gray", id="open-api-base-url"),
            class_name="setting-row",
        ),
        rx.form(
            rx.flex(
                rx.el.label(
                    rx.text(t("settings.open_api.name"), class_name="field-label"),
                    rx.input(
                        name="name",
                        placeholder=t("settings.open_api.name_placeholder"),
                        max_length=64,
                        id="open-api-name",
                    ),
                    class_name="field",
                    flex="1",
                ),
                rx.button(
                    t("settings.open_api.create"),
                    type="submit",
                    color_scheme="green",
                    id="open-api-create",
                ),
                spacing="3",
                align="end",
                margin="12px 0",
            ),
            rx.cond(
                ApiKeysState.error != "",
                rx.callout(
                    ApiKeysState.error,
                    icon="triangle-alert",
                    color_scheme="red",
                    size="1",
                    id="open-api-error",
                ),
            ),
            on_submit=ApiKeysState.create,
            reset_on_submit=False,
        ),
        rx.cond(
            ApiKeysState.keys.length() > 0,
            rx.box(rx.foreach(ApiKeysState.keys, _key_line), id="open-api-keys"),
            rx.text(t("settings.open_api.empty"), class_name="hint", id="open-api-empty"),
        ),
        _created_dialog(),
        class_name="settings-card",
        id="open-api-card",
        on_mount=ApiKeysState.load,
    )
