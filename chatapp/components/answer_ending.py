# pyright: reportAttributeAccessIssue=false, reportReturnType=false
# (Reflex resolves fields of Vars like `msg.ending` at runtime; pyright cannot see them.)
"""The ending line under an answer: names how it ended when that is not a normal end (cut at the
length limit, with 「继续」; refused; content filter; tool calls; empty) and what to do about a
context overflow (清除上下文, or a new conversation). Errors keep their own line
(message_bubble), with a rate limit's countdown from here."""

from __future__ import annotations

import reflex as rx

from chatapp.chat.items import MessageItem
from chatapp.components.text import t
from chatapp.state.chat import ChatState


def _line(icon: str, key: str, *extra: rx.Component, tone: str = "") -> rx.Component:
    return rx.box(
        rx.icon(icon, size=13),
        rx.text(t(key), as_="span"),
        *extra,
        class_name="answer-ending " + tone,
        data_testid="answer-ending",
    )


def _continue_button(msg: rx.Var[MessageItem]) -> rx.Component:
    return rx.button(
        rx.icon("chevrons-right", size=12),
        t("answer.ending.continue"),
        size="1",
        variant="soft",
        # 12px text on the soft green: only the high-contrast shade reaches 4.5:1.
        high_contrast=True,
        on_click=ChatState.continue_answer(msg.id),
        data_testid="continue",
    )


def _context_actions() -> rx.Component:
    # The way out of a context overflow (its error line above says why).
    return rx.box(
        rx.button(
            rx.icon("eraser", size=12),
            t("chat.clear_context"),
            size="1",
            variant="soft",
            high_contrast=True,
            on_click=ChatState.clear_context,
            data_testid="ending-clear-context",
        ),
        rx.button(
            rx.icon("square-pen", size=12),
            t("answer.ending.new_chat"),
            size="1",
            variant="soft",
            color_scheme="gray",
            high_contrast=True,
            on_click=rx.redirect("/"),
            data_testid="ending-new-chat",
        ),
        class_name="answer-ending",
    )


def answer_ending(msg: rx.Var[MessageItem]) -> rx.Component:
    """The ending line of `msg` (nothing for a normal end, or while it streams)."""
    return rx.match(
        msg.ending,
        (
            "length",
            rx.box(
                rx.icon("scissors", size=13),
                rx.cond(
                    # No answer text: the model spent the whole limit reasoning.
                    (msg.content == "") & ~msg.streamed,
                    rx.text(t("answer.ending.length_reasoning"), as_="span"),
                    rx.text(t("answer.ending.length"), as_="span"),
                ),
                _continue_button(msg),
                class_name="answer-ending warn",
                data_testid="answer-ending",
                data_ending="length",
            ),
        ),
        ("refused", _line("shield-alert", "answer.ending.refused", tone="warn")),
        ("content_filter", _line("shield-x", "answer.ending.content_filter", tone="warn")),
        ("tool_calls", _line("wrench", "answer.ending.tool_calls", tone="warn")),
        ("empty", _line("circle-dashed", "answer.ending.empty", tone="warn")),
        (
            "error",
            rx.cond(msg.error_code == "context_length", _context_actions(), rx.fragment()),
        ),
        rx.fragment(),
    )
