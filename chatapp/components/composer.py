"""The composer: multi-line input, Enter to send (configurable), Stop while an answer streams.

Key handling lives in assets/composer_keys.js (client-side, IME-safe), so typing sends no events.
"""

from __future__ import annotations

import reflex as rx

from chatapp.chat.conversations import MAX_MESSAGE_CHARS
from chatapp.components.text import t
from chatapp.state.chat import ChatState
from chatapp.state.thread import ThreadState


def composer(send_key: rx.Var[str] | str = "enter") -> rx.Component:
    """The input box at the bottom of the dialog pane."""
    ctrl = send_key == "ctrl"
    return rx.box(
        rx.form(
            rx.box(
                # Labelled (issue 21): an icon alone did not say what it does.
                rx.button(
                    rx.icon("brush-cleaning", size=14),
                    t("chat.clear_context"),
                    type="button",
                    variant="ghost",
                    color_scheme="gray",
                    size="1",
                    on_click=ChatState.clear_context,
                    disabled=ThreadState.is_streaming | (ChatState.current_id == ""),
                    aria_label=t("chat.clear_context"),
                    id="clear-context",
                ),
                class_name="composer-tools",
            ),
            rx.el.input(type="hidden", name="conversation_id", value=ChatState.current_id),
            rx.el.textarea(
                name="text",
                id="composer-input",
                placeholder=rx.cond(
                    ctrl, t("chat.composer.placeholder_ctrl"), t("chat.composer.placeholder")
                ),
                data_sendkey=rx.cond(ctrl, "ctrl", "enter"),
                # Phones (a coarse pointer): Enter adds a line, the button sends (composer_keys.js).
                data_placeholder_touch=t("chat.composer.placeholder_touch"),
                auto_focus=True,
                # Not `max_length`: the browser would cut a longer paste silently. A longer text
                # is refused before sending and kept (assets/send_guard.js).
                data_max_chars=MAX_MESSAGE_CHARS,
            ),
            rx.box(
                rx.cond(
                    ChatState.demo,
                    rx.text(t("chat.demo_notice"), class_name="composer-hint"),
                    rx.box(class_name="composer-hint"),
                ),
                rx.cond(
                    ThreadState.is_streaming,
                    rx.el.button(
                        t("chat.stop"),
                        type="button",
                        class_name="stop-btn",
                        on_click=ChatState.stop,
                        id="stop-button",
                    ),
                    rx.el.button(
                        t("chat.send"),
                        type="submit",
                        class_name="send-btn",
                        id="composer-send",
                        disabled=True,
                    ),
                ),
                class_name="composer-foot",
            ),
            on_submit=ChatState.send,
            reset_on_submit=True,
            id="composer-form",
            # What assets/send_guard.js says when it refuses a text (any form of the page).
            data_refused_long=t("send.too_long"),
            data_refused_large=t("send.too_large"),
            # False until the page's on_load has run: the send waits for it (assets/composer_keys.js).
            data_ready=rx.State.is_hydrated,
        ),
        class_name="composer",
    )
