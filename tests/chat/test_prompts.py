"""Prompt building, context trimming, titles: table-driven."""

from __future__ import annotations

import pytest

from chatapp.chat.prompts import (
    HistoryItem,
    RolePrompt,
    auto_title,
    build_messages,
    estimate_tokens,
    preview,
)


def H(kind: str, content: str = "x", status: str = "done") -> HistoryItem:
    return HistoryItem(kind, content, status)


def test_history_after_last_divider_only():
    history = [H("user", "old q"), H("assistant", "old a"), H("divider", ""), H("user", "new q")]
    assert build_messages(history) == [{"role": "user", "content": "new q"}]


def test_role_system_prompt_and_opening_come_first():
    role = RolePrompt("You are a translator.", (("user", "hi"), ("assistant", "你好")))
    msgs = build_messages([H("user", "q")], role=role)
    assert [m["role"] for m in msgs] == ["system", "user", "assistant", "user"]
    assert msgs[0]["content"] == "You are a translator."
    assert msgs[-1]["content"] == "q"


def test_empty_system_prompt_is_not_sent():
    msgs = build_messages([H("user", "q")], role=RolePrompt("  "))
    assert msgs == [{"role": "user", "content": "q"}]


@pytest.mark.parametrize(
    ("window", "expected"),
    [
        (1, ["q3"]),
        (2, ["q3"]),  # a window starting with an answer is trimmed to start at a user turn
        (3, ["q2", "a2", "q3"]),
        (100, ["q1", "a1", "q2", "a2", "q3"]),
    ],
)
def test_message_window_keeps_newest(window, expected):
    history = [
        H("user", "q1"),
        H("assistant", "a1"),
        H("user", "q2"),
        H("assistant", "a2"),
        H("user", "q3"),
    ]
    assert [m["content"] for m in build_messages(history, window=window)] == expected


def test_token_budget_drops_oldest_but_keeps_newest_user_message():
    long = "字" * 5000
    history = [H("user", long), H("assistant", long), H("user", "短问题")]
    msgs = build_messages(history, token_budget=100)
    assert msgs == [{"role": "user", "content": "短问题"}]
    huge = build_messages([H("user", long)], token_budget=10)
    assert huge == [{"role": "user", "content": long}]


def test_the_roles_prompt_counts_toward_the_token_budget():
    """A role's prompt and openings are always sent, and what they cost leaves less budget for
    history: the budget bounds the whole request (plus the newest message), not only history."""
    role = RolePrompt("系" * 350, (("user", "例" * 350), ("assistant", "答" * 350)))
    history = [H("user", "问" * 100), H("assistant", "答" * 100), H("user", "new")]
    without = build_messages(history, token_budget=1200)
    assert [m["content"] for m in without] == [m.content for m in history]
    with_role = build_messages(history, role=role, token_budget=1200)
    assert [m["role"] for m in with_role] == ["system", "user", "assistant", "user"]
    assert with_role[-1]["content"] == "new"  # the newest message is kept even over the budget


def test_failed_and_empty_answers_are_skipped_stopped_ones_kept():
    history = [
        H("user", "q1"),
        H("assistant", "", "error"),
        H("user", "q2"),
        H("assistant", "partial", "stopped"),
        H("user", "q3"),
        H("assistant", "oops", "error"),
        H("user", "q4"),
    ]
    contents = [m["content"] for m in build_messages(history)]
    assert contents == ["q1", "q2", "partial", "q3", "q4"]


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [("", 0, 0), ("hello world", 2, 4), ("你好世界", 4, 4), ("a" * 400, 100, 100)],
)
def test_estimate_tokens(text, low, high):
    assert low <= estimate_tokens(text) <= high


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("如何用 Python 读取 CSV 文件？", "如何用 Python 读取 CSV 文件？"),
        ("\n\n  **Bold** start\nsecond line", "Bold start"),
        ("```py\ncode\n```\nexplain this", "explain this"),
        ("x" * 50, "x" * 29 + "…"),
        ("   ", ""),
    ],
)
def test_auto_title(text, title):
    assert auto_title(text) == title


def test_preview_is_one_line_and_short():
    assert preview("a\n\nb   c") == "a b c"
    assert len(preview("长" * 100)) == 60
