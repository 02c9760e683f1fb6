"""`confirm_dialog`: the one "are you sure?" dialog (logout, 退出所有设备, deleting a role)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from chatapp.components.text import t


def confirm_dialog(
    *,
    title_key: str,
    description_key: str,
    confirm_key: str,
    on_confirm: Any,
    confirm_id: str,
    trigger: rx.Component | None = None,
    **root_props: Any,
) -> rx.Component:
    """A destructive action's confirmation: Cancel, or the red confirm button.

    Args:
        trigger: the element that opens it; without one, pass `open`/`on_open_change`.
        root_props: passed to the dialog root (e.g. a state-controlled `open`).
    """
    parts = [rx.alert_dialog.trigger(trigger)] if trigger is not None else []
    return rx.alert_dialog.root(
        *parts,
        rx.alert_dialog.content(
            rx.alert_dialog.title(t(title_key)),
            rx.alert_dialog.description(t(description_key)),
            rx.flex(
                rx.alert_dialog.cancel(
                    rx.button(t("common.cancel"), variant="soft", color_scheme="gray")
                ),
                rx.alert_dialog.action(
                    rx.button(
                        t(confirm_key), color_scheme="red", on_click=on_confirm, id=confirm_id
                    )
                ),
                gap="3",
                justify="end",
                margin_top="16px",
                class_name="dialog-actions",
            ),
            max_width="380px",
        ),
        **root_props,
    )
