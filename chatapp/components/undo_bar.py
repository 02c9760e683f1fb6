"""「已删除一条消息 · 撤销」: the bar under the messages after a message is deleted (it closes by
itself after a few seconds, see ChatState.UNDO_SECONDS)."""

from __future__ import annotations

import reflex as rx

from chatapp.components.text import t
from chatapp.state.chat import ChatState


def undo_bar() -> rx.Component:
    """The undo bar of the last deleted message."""
    return rx.cond(
        ChatState.undo_open,
        rx.box(
            rx.icon("trash-2", size=14),
            rx.text(t("chat.message.deleted"), as_="span"),
            rx.el.button(
                t("chat.message.undo"),
                on_click=ChatState.undo_delete,
                type="button",
                id="undo-delete",
                class_name="undo-button",
            ),
            class_name="undo-bar",
            id="undo-bar",
            role="status",
        ),
    )
