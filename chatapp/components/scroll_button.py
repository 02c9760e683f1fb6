"""「↓ 回到底部」: shown while the user has scrolled up from the latest message (assets/auto_scroll.js
sets `#message-scroll[data-follow="off"]`; chat.css shows the button then, and the script handles
its click). A zero-height sticky strip at the end of the list, so it floats over the bottom of the
visible messages without adding to their height."""

from __future__ import annotations

import reflex as rx

from chatapp.components.text import t


def scroll_button() -> rx.Component:
    """The back-to-bottom button, placed as the last child of `#message-scroll`."""
    return rx.box(
        rx.el.button(
            "↓ ",
            t("chat.back_to_bottom"),
            type="button",
            id="scroll-bottom",
            class_name="scroll-bottom",
        ),
        class_name="scroll-bottom-strip",
    )
