# pyright: reportAttributeAccessIssue=false, reportReturnType=false, reportIndexIssue=false
# (Reflex resolves fields of Vars like `line["role"]` at runtime; pyright cannot see them.)
"""The open conversation's role opening: the preset messages the role sends to the model before
the user's own, shown above the first message and marked as the role's (not as typed by the
user), so what the model reads is never hidden."""

from __future__ import annotations

import reflex as rx

from chatapp.components.markdown import chat_markdown
from chatapp.components.text import t
from chatapp.state.chat_role import ChatRoleState


def _line(line: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.box(
        rx.text(
            rx.cond(line["role"] == "user", t("chat.opening.user"), t("chat.opening.assistant")),
            class_name="opening-who",
        ),
        # Markdown like an answer (openings often hold code blocks), images under the same policy.
        rx.box(chat_markdown(line["content"]), class_name="opening-text"),
        class_name=rx.cond(line["role"] == "user", "opening-line user", "opening-line assistant"),
        data_testid="opening-line",
    )


def role_opening() -> rx.Component:
    """The role's opening messages (nothing when the role has none)."""
    return rx.cond(
        ChatRoleState.opening.length() > 0,
        rx.el.section(
            rx.box(
                rx.icon("drama", size=14),
                rx.text(t("chat.opening.title"), " · ", ChatRoleState.name, as_="span"),
                class_name="opening-head",
            ),
            rx.text(t("chat.opening.hint"), class_name="opening-hint"),
            rx.foreach(ChatRoleState.opening, _line),
            class_name="role-opening",
            id="role-opening",
            aria_label=t("chat.opening.title"),
        ),
    )
