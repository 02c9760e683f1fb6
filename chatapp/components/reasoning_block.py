# pyright: reportAttributeAccessIssue=false
# (Reflex resolves fields of Vars like `msg.reasoning` at runtime; pyright cannot see them.)
"""The model's reasoning above an answer: the folding 「思考过程 / Thinking」 block with its live
timer (the React side is assets/reasoning_block.jsx)."""

from __future__ import annotations

import reflex as rx

from chatapp.chat.items import MessageItem
from chatapp.components.text import t
from chatapp.state.settings import SettingsState


class ReasoningBlock(rx.Component):
    """Wraps the local ReasoningBlock React component."""

    library = "$/public/reasoning_block.jsx"
    tag = "ReasoningBlock"

    stream_id: rx.Var[int]
    live: rx.Var[bool]
    streamed: rx.Var[bool]
    reasoning: rx.Var[str]
    seconds: rx.Var[int]
    keep_open: rx.Var[bool]
    thinking_label: rx.Var[str]
    thought_label: rx.Var[str]
    untimed_label: rx.Var[str]
    show_label: rx.Var[str]
    hide_label: rx.Var[str]


class RetryCountdown(rx.Component):
    """Wraps the local RetryCountdown React component (a rate limit's wait, counting down)."""

    library = "$/public/reasoning_block.jsx"
    tag = "RetryCountdown"

    # "rate_limit:<epoch ms>" (chat/items.py): the time the provider said to retry at.
    code: rx.Var[str]
    wait_label: rx.Var[str]
    ready_label: rx.Var[str]


def reasoning_block(msg: rx.Var[MessageItem]) -> rx.Component:
    """The reasoning of `msg`, live while it streams; renders nothing for an answer without."""
    return ReasoningBlock.create(
        stream_id=msg.id,
        live=msg.status == "streaming",
        streamed=msg.streamed,
        reasoning=msg.reasoning,
        seconds=msg.reasoning_s,
        keep_open=SettingsState.reasoning_open,
        thinking_label=t("answer.thinking"),
        thought_label=t("answer.thought"),
        untimed_label=t("answer.thought_untimed"),
        show_label=t("answer.reasoning.show"),
        hide_label=t("answer.reasoning.hide"),
    )


def retry_countdown(msg: rx.Var[MessageItem]) -> rx.Component:
    """ "请 28 秒后重试", counting down to the wait a rate limit asked for."""
    return RetryCountdown.create(
        code=msg.error_code,
        wait_label=t("answer.ending.rate_wait"),
        ready_label=t("answer.ending.rate_ready"),
    )
