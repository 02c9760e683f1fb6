# pyright: reportAttributeAccessIssue=false, reportReturnType=false
# (Reflex resolves fields of Vars like `msg.content` at runtime; pyright cannot see them.)
"""One message: avatar, time, bubble (markdown for answers), status, and its actions."""

from __future__ import annotations

import reflex as rx

from chatapp.chat.items import MessageItem
from chatapp.components.answer_ending import answer_ending
from chatapp.components.answer_image import answer_images
from chatapp.components.markdown import ROW_MEMO, chat_markdown
from chatapp.components.reasoning_block import reasoning_block, retry_countdown
from chatapp.components.role_avatar import AvatarImage
from chatapp.components.text import t
from chatapp.state.auth import AuthState
from chatapp.state.chat import ChatState
from chatapp.state.chat_role import ChatRoleState


def _action(icon: str, label_key: str, on_click, test_id: str, **attrs) -> rx.Component:
    # A CSS tooltip (`data-tip`, chat.css), not Radix's: a message has up to three actions, and
    # mounting three Radix tooltips per new bubble is a good part of what a send costs to render.
    return rx.el.button(
        rx.icon(icon, size=14),
        on_click=on_click,
        aria_label=t(label_key),
        data_tip=t(label_key),
        data_testid=test_id,
        type="button",
        class_name="act-" + test_id,
        **attrs,
    )


def _copy(on_click) -> rx.Component:
    # assets/copy_text.js turns the tip into 「已复制」 for a moment and tells screen readers.
    return _action("copy", "common.copy", on_click, "copy", data_done_tip=t("common.copied"))


def _user_avatar() -> rx.Component:
    # The user's own picture when we have one, else their letter on their colour (as the toolbar).
    return rx.box(
        rx.cond(
            AuthState.avatar != "", AvatarImage.create(src=AuthState.avatar), AuthState.avatar_text
        ),
        class_name="msg-avatar",
        style={"&&&&": {"background": AuthState.avatar_colour}},
        title=AuthState.nickname,
        aria_hidden="true",
        data_testid="avatar-user",
    )


def _assistant_avatar() -> rx.Component:
    # The conversation's role's avatar (🤖 without a role).
    return rx.box(
        rx.cond(
            ChatRoleState.avatar_is_image,
            AvatarImage.create(src=ChatRoleState.avatar),
            ChatRoleState.avatar,
        ),
        class_name="msg-avatar",
        aria_hidden="true",
        data_testid="avatar-assistant",
    )


def _status(msg: rx.Var[MessageItem]) -> rx.Component:
    return rx.match(
        msg.status,
        (
            "error",
            rx.box(
                rx.icon("circle-alert", size=14),
                rx.cond(
                    msg.error_code.startswith("rate_limit:"),
                    retry_countdown(msg),
                    rx.text(msg.error_text, data_testid="msg-error"),
                ),
                rx.button(
                    rx.icon("rotate-ccw", size=12),
                    t("chat.retry"),
                    size="1",
                    variant="soft",
                    color_scheme="red",
                    # 12px text on the soft red: only the high-contrast shade reaches 4.5:1.
                    high_contrast=True,
                    on_click=ChatState.regenerate(msg.id),
                    data_testid="retry",
                ),
                class_name="msg-status error",
            ),
        ),
        (
            "stopped",
            rx.box(
                rx.icon("circle-stop", size=13),
                t("chat.status.stopped"),
                class_name="msg-status",
                data_testid="msg-stopped",
            ),
        ),
        (
            "interrupted",
            rx.box(
                rx.icon("unplug", size=13),
                t("chat.status.interrupted"),
                rx.button(
                    t("chat.retry"), size="1", variant="soft", on_click=ChatState.regenerate(msg.id)
                ),
                class_name="msg-status",
            ),
        ),
        rx.fragment(),
    )


def _edit_box(msg: rx.Var[MessageItem]) -> rx.Component:
    return rx.form(
        rx.box(
            rx.el.textarea(
                name="text", default_value=msg.content, id="edit-input", auto_focus=True
            ),
            rx.el.input(type="hidden", name="message_id", value=msg.id.to_string()),
            rx.flex(
                rx.button(
                    t("common.cancel"),
                    type="button",
                    variant="soft",
                    color_scheme="gray",
                    size="1",
                    on_click=ChatState.cancel_edit,
                ),
                rx.button(
                    t("chat.edit_resend"),
                    type="submit",
                    size="1",
                    color_scheme="green",
                    id="edit-save",
                ),
                gap="2",
                justify="end",
            ),
            class_name="edit-box",
        ),
        on_submit=ChatState.save_edit,
    )


def _user(msg: rx.Var[MessageItem], editing: rx.Var[bool]) -> rx.Component:
    return rx.box(
        _user_avatar(),
        rx.box(
            rx.box(rx.text(msg.time), class_name="msg-meta"),
            rx.cond(
                editing,
                _edit_box(msg),
                rx.box(msg.content, class_name="bubble user", data_testid="user-bubble"),
            ),
            rx.box(
                _copy(rx.set_clipboard(msg.content)),
                # Hidden while an answer streams by the list's `streaming` class (chat.css).
                _action("pencil", "common.edit", ChatState.start_edit(msg.id), "edit"),
                _action(
                    "trash-2", "chat.message.delete", ChatState.delete_message(msg.id), "delete-msg"
                ),
                class_name="msg-actions",
            ),
            class_name="msg-body",
        ),
        class_name="msg-row user",
        data_testid="msg-user",
    )


def _assistant(msg: rx.Var[MessageItem]) -> rx.Component:
    live = msg.status == "streaming"
    return rx.box(
        _assistant_avatar(),
        rx.box(
            rx.box(rx.text(msg.time), rx.text(msg.model), class_name="msg-meta"),
            reasoning_block(msg),
            rx.cond(
                # An image model's answer: its pictures, the prompt as their caption.
                msg.image_ids != "",
                answer_images(msg),
                rx.box(
                    chat_markdown(msg.content, msg.id, live, msg.streamed),
                    class_name=rx.cond(
                        # An answer with no text shows only its ending or error line, not an empty
                        # bubble (while the model reasons, answer_parts.css hides the typing dot).
                        (msg.content == "") & ~live & ~msg.streamed,
                        "bubble assistant empty",
                        rx.match(
                            msg.status,
                            ("error", "bubble assistant error"),
                            rx.cond(
                                msg.ending == "refused",
                                "bubble assistant refused",
                                "bubble assistant",
                            ),
                        ),
                    ),
                    data_testid="assistant-bubble",
                    data_status=msg.status,
                    data_ending=msg.ending,
                ),
            ),
            _status(msg),
            answer_ending(msg),
            rx.cond(
                live,
                rx.fragment(),
                rx.box(
                    rx.cond(
                        # A streamed answer's text is in the tab's stream store, not `content`.
                        msg.streamed,
                        _copy(rx.call_script("window.chatStream.copy(" + msg.id.to_string() + ")")),
                        _copy(rx.set_clipboard(msg.content)),
                    ),
                    _action(
                        "refresh-cw", "chat.regenerate", ChatState.regenerate(msg.id), "regenerate"
                    ),
                    _action(
                        "trash-2",
                        "chat.message.delete",
                        ChatState.delete_message(msg.id),
                        "delete-msg",
                    ),
                    class_name="msg-actions",
                ),
            ),
            class_name="msg-body",
        ),
        class_name="msg-row assistant",
        data_testid="msg-assistant",
    )


@rx.memo(wrapper=ROW_MEMO)
def message_row(msg: rx.Var[MessageItem], editing: rx.Var[bool]) -> rx.Component:
    """Renders any stored message, including the 清除上下文 divider.

    A memo of its props only (no ChatState var inside; ROW_MEMO compares the message's fields):
    a ChatState change (a send, a streamed answer ending) re-renders only the rows whose message
    changed. Re-rendering every row on every send would be most of the time before the page can
    show the first token (bench/README.md, "first token").
    """
    return rx.match(
        msg.kind,
        ("user", _user(msg, editing)),
        ("assistant", _assistant(msg)),
        ("divider", rx.box(t("chat.context_cleared"), class_name="divider", data_testid="divider")),
        rx.fragment(),
    )
