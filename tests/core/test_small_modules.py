"""Time labels, error text, view models and the demo model."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chatapp.chat import pace
from chatapp.chat.demo_model import DemoModel, demo_answer, demo_reasoning
from chatapp.chat.items import keep_keys, message_item, pending_items
from chatapp.core.timefmt import bubble_label, list_label
from chatapp.errors import user_message
from chatapp.llm.types import ReasoningDelta, StreamDone, TextDelta
from chatapp.models import Message

NOW = datetime(2026, 11, 28, 4, 0, tzinfo=UTC)  # 12:00 in Beijing


@pytest.mark.parametrize(
    ("ts", "lang", "label"),
    [
        (datetime(2026, 11, 28, 1, 5, tzinfo=UTC), "zh", "09:05"),
        (datetime(2026, 11, 27, 3, 0, tzinfo=UTC), "zh", "昨天"),
        (datetime(2026, 11, 27, 3, 0, tzinfo=UTC), "en", "Yesterday"),
        (datetime(2026, 3, 2, 3, 0, tzinfo=UTC), "zh", "3/2"),
        (datetime(2025, 3, 2, 3, 0, tzinfo=UTC), "en", "2025/3/2"),
        (datetime(2026, 11, 28, 1, 5), "zh", "09:05"),  # naive means UTC
    ],
)
def test_list_label(ts, lang, label):
    assert list_label(ts, NOW, lang) == label


def test_bubble_label_adds_time_to_older_dates():
    assert bubble_label(datetime(2026, 11, 27, 3, 0, tzinfo=UTC), NOW, "zh") == "昨天 11:00"


def test_user_message_is_specific_and_translated():
    assert "超时" in user_message("timeout", "zh")
    assert "too long" in user_message("timeout", "en")
    assert user_message("no-such-code") == user_message("internal")
    assert user_message(None, "en") == user_message("internal", "en")


def test_message_item_shows_error_text_not_code():
    msg = Message(
        id=3,
        conversation_id="c",
        user_id=1,
        kind="assistant",
        content="part",
        status="error",
        error_code="rate_limit",
        created_at=NOW,
    )
    item = message_item(msg, now=NOW, lang="zh")
    assert item.error_text == user_message("rate_limit", "zh")
    done = message_item(
        Message(id=4, conversation_id="c", user_id=1, kind="assistant", created_at=NOW),
        now=NOW,
        lang="zh",
    )
    assert done.error_text == ""


def test_stored_bubbles_take_over_the_rows_of_the_pending_ones():
    pending = pending_items("你好", "gpt-x", now=NOW, lang="zh")
    assert [(p.kind, p.status, p.id < 0) for p in pending] == [
        ("user", "done", True),
        ("assistant", "streaming", True),
    ]
    assert pending[0].content == "你好" and pending[1].model == "gpt-x"
    assert len({p.key for p in pending}) == 2
    stored = [
        message_item(
            Message(id=i, conversation_id="c", user_id=1, kind=k, created_at=NOW),
            now=NOW,
            lang="zh",
        )
        for i, k in ((7, "user"), (8, "assistant"))
    ]
    assert [s.key for s in stored] == ["7", "8"]
    kept = keep_keys(pending, stored)
    assert [(k.id, k.key) for k in kept] == [(7, pending[0].key), (8, pending[1].key)]
    assert keep_keys([], stored) == stored  # nothing was pending: ids are the keys


def test_demo_answer_is_deterministic_rich_and_language_aware():
    zh, en = demo_answer("你好"), demo_answer("hello")
    assert zh == demo_answer("你好")
    assert "演示模型" in zh and "demo model" in en
    for marker in ("```python", "| ", "\\[", "\\(", "$a^2"):
        assert marker in zh and marker in en


async def test_demo_model_streams_the_answer_then_done():
    async def no_sleep(_s):
        return None

    events = [
        e async for e in DemoModel(sleep=no_sleep).stream_chat([{"role": "user", "content": "hi"}])
    ]
    assert isinstance(events[-1], StreamDone) and events[-1].finish_reason == "stop"
    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    assert text == demo_answer("hi")
    reasoning = "".join(e.text for e in events if isinstance(e, ReasoningDelta))
    assert reasoning == demo_reasoning("hi") and "demo model" in reasoning
    # The reasoning comes first, apart from the answer.
    assert isinstance(events[0], ReasoningDelta) and demo_reasoning("hi") not in text


def test_batches_stretch_with_the_streams_of_the_process_and_stop_at_the_cap():
    assert pace.batch_s() == pace.STREAM_BATCH_S
    try:
        for _ in range(pace.BUSY_STREAMS):
            pace.stream_started()
        assert pace.batch_s() == pace.STREAM_BATCH_S
        for _ in range(pace.BUSY_STREAMS // 5):
            pace.stream_started()
        assert pace.STREAM_BATCH_S < pace.batch_s() < pace.STREAM_BATCH_MAX_S
        for _ in range(pace.BUSY_STREAMS * 3):
            pace.stream_started()
        assert pace.batch_s() == pace.STREAM_BATCH_MAX_S
    finally:
        for _ in range(pace.BUSY_STREAMS * 5):
            pace.stream_ended()
    assert pace.batch_s() == pace.STREAM_BATCH_S  # never below zero streams
