# pyright: reportAttributeAccessIssue=false, reportReturnType=false
# (Reflex resolves fields of Vars like `msg.content` at runtime; pyright cannot see them.)
"""The chat page: `/` (pick or start a conversation) and `/chat/[cid]`."""

from __future__ import annotations

import reflex as rx

from chatapp.components.chat_header import chat_header
from chatapp.components.composer import composer
from chatapp.components.conversation_list import conversation_list
from chatapp.components.layout import shell
from chatapp.components.message_bubble import message_row
from chatapp.components.role_opening import role_opening
from chatapp.components.scroll_button import scroll_button
from chatapp.components.text import t
from chatapp.components.undo_bar import undo_bar
from chatapp.state.chat import ChatState
from chatapp.state.chat_role import ChatRoleState
from chatapp.state.settings import SettingsState
from chatapp.state.thread import ThreadState


def _row(msg) -> rx.Component:
    # Keyed (see MessageItem.key): when the messages added during a visit fold into the history
    # (see RECENT_MAX), rows keep their place instead of all re-rendering, and a sent message
    # updates the row shown before it was stored.
    return rx.fragment(message_row(msg=msg, editing=ChatState.editing_id == msg.id), key=msg.key)


def _messages() -> rx.Component:
    return rx.box(
        rx.box(
            rx.cond(
                ThreadState.has_earlier,
                rx.button(
                    t("chat.load_earlier"),
                    variant="soft",
                    size="1",
                    on_click=ChatState.load_earlier,
                    class_name="load-earlier",
                    id="load-earlier",
                ),
                # The role's opening comes before the first message (once that is shown).
                role_opening(),
            ),
            # One list, joined in the browser: each var is still sent on its own.
            rx.foreach(ThreadState.messages + ThreadState.recent + ThreadState.pending, _row),
            # While an answer streams, edit and regenerate are hidden (chat.css): a class here
            # instead of a var in every row keeps the rows' memo intact.
            class_name=rx.cond(
                ThreadState.is_streaming, "message-inner streaming", "message-inner"
            ),
        ),
        scroll_button(),
        id="message-scroll",
        class_name="message-scroll",
    )


def _welcome() -> rx.Component:
    return rx.box(
        rx.heading(t("chat.welcome.title"), as_="h2"),
        rx.text(t("chat.welcome.hint")),
        rx.cond(ChatState.demo, rx.box(t("chat.demo_badge"), class_name="demo-badge")),
        class_name="welcome",
    )


def _dialog() -> rx.Component:
    return rx.box(
        rx.cond(
            ChatState.not_found,
            rx.box(rx.heading(t("chat.not_found"), as_="h2"), class_name="welcome", id="not-found"),
            rx.fragment(
                rx.cond(ChatState.current_id != "", chat_header()),
                rx.cond(
                    (
                        ThreadState.messages.length()
                        + ThreadState.recent.length()
                        + ThreadState.pending.length()
                        + ChatRoleState.opening.length()
                    )
                    > 0,
                    _messages(),
                    _welcome(),
                ),
                rx.cond(
                    ChatState.notice != "",
                    rx.box(ChatState.notice, class_name="notice", id="notice"),
                ),
                undo_bar(),
                composer(SettingsState.send_key),
            ),
        ),
        # Submitted by the client when it notices it missed streamed text (see assets/stream_store.js).
        rx.form(
            rx.el.input(type="hidden", name="have", id="chat-resync-have"),
            on_submit=ChatState.resync,
            id="chat-resync",
            style={"display": "none"},
        ),
        class_name="dialog",
    )


def chat_page() -> rx.Component:
    """The whole chat page."""
    return shell("chat", conversation_list(), _dialog(), has_detail=ChatState.current_id != "")
