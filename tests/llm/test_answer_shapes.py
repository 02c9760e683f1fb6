"""Every shape of answer today's models give, over real HTTP from the fake server: reasoning in
each of its three places (and `<think>` tags split across chunks), refusals, tool calls, the
finish reasons, and replies that are not an event stream."""

from __future__ import annotations

import pytest

from chatapp.llm import (
    ChatClient,
    LLMContextLengthError,
    LLMRateLimitError,
    LLMServerError,
    ReasoningDelta,
    RefusalDelta,
    StreamDone,
    StreamEvent,
    TextDelta,
)
from chatapp.llm.think import split_think
from testkit.fakes.openai_server import FakeOpenAI, Reply

from .conftest import KEY, MSGS, RecordingSleep

THOUGHT = "The user greets me. 用户在打招呼，我应该礼貌回应。"
ANSWER = "Hello! 你好！"


async def events_of(fake: FakeOpenAI, *replies: Reply, **kwargs) -> list[StreamEvent]:
    fake.queue(*replies)
    async with ChatClient(fake.base_url, KEY, **kwargs) as client:
        return [event async for event in client.stream_chat(MSGS, "fake-gpt")]


def joined(events: list[StreamEvent], kind: type) -> str:
    return "".join(e.text for e in events if isinstance(e, kind))  # type: ignore[attr-defined]


def done_of(events: list[StreamEvent]) -> StreamDone:
    assert isinstance(events[-1], StreamDone)
    return events[-1]


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning", "think"])
@pytest.mark.parametrize("chunk_chars", [1, 3, 7, 64])
async def test_reasoning_is_kept_apart_from_the_answer(
    fake: FakeOpenAI, field: str, chunk_chars: int
) -> None:
    # chunk_chars 1 and 3 split `<think>` and `</think>` across chunks at every point.
    reply = Reply(text=ANSWER, reasoning=THOUGHT, reasoning_field=field, chunk_chars=chunk_chars)  # type: ignore[arg-type]
    events = await events_of(fake, reply)
    assert joined(events, ReasoningDelta).strip() == THOUGHT
    assert joined(events, TextDelta) == ANSWER
    first_text = next(i for i, e in enumerate(events) if isinstance(e, TextDelta))
    assert all(not isinstance(e, ReasoningDelta) for e in events[first_text:])
    done = done_of(events)
    assert done.finish_reason == "stop"
    assert done.usage is not None and done.usage.reasoning_tokens > 0


async def test_a_think_tag_later_in_the_answer_stays_text(fake: FakeOpenAI) -> None:
    text = "Models write <think>...</think> around their reasoning."
    events = await events_of(fake, Reply(text=text, chunk_chars=2))
    assert joined(events, TextDelta) == text and not joined(events, ReasoningDelta)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("<think>a</think>b", ("a", "b")),
        ("  <think>\na\n</think>\n\nb", ("\na\n", "b")),
        ("<think>cut by the length limit", ("cut by the length limit", "")),
        ("<thin", ("", "<thin")),
        ("plain <think>x</think>", ("", "plain <think>x</think>")),
        ("", ("", "")),
    ],
)
def test_split_think(content: str, expected: tuple[str, str]) -> None:
    assert split_think(content) == expected


async def test_reasoning_only_cut_at_the_length_limit(fake: FakeOpenAI) -> None:
    events = await events_of(fake, Reply(text="", reasoning=THOUGHT, finish_reason="length"))
    assert joined(events, ReasoningDelta) == THOUGHT and not joined(events, TextDelta)
    assert done_of(events).finish_reason == "length"


async def test_refusal_is_its_own_delta(fake: FakeOpenAI) -> None:
    events = await events_of(fake, Reply(text="", refusal="I can't help with that."))
    assert joined(events, RefusalDelta) == "I can't help with that."
    assert not joined(events, TextDelta)


async def test_tool_calls_only(fake: FakeOpenAI) -> None:
    events = await events_of(fake, Reply(text="", tool_call=True))
    done = done_of(events)
    assert done.tool_calls and done.finish_reason == "tool_calls"
    assert not joined(events, TextDelta)


@pytest.mark.parametrize("reason", ["content_filter", "length", "stop"])
async def test_finish_reasons_reach_the_caller(fake: FakeOpenAI, reason: str) -> None:
    events = await events_of(fake, Reply(text="part", finish_reason=reason))
    assert done_of(events).finish_reason == reason and joined(events, TextDelta) == "part"


async def test_empty_answer(fake: FakeOpenAI) -> None:
    events = await events_of(fake, Reply(text=""))
    assert events == [done_of(events)] and done_of(events).finish_reason == "stop"


async def test_empty_200_event_stream_is_context_length_and_not_retried(
    fake: FakeOpenAI,
) -> None:
    with pytest.raises(LLMContextLengthError) as caught:
        await events_of(fake, Reply(body="empty"), Reply(text="never"), max_retries=2)
    assert caught.value.provider_code == "empty_stream"
    assert len(fake.requests) == 1


async def test_json_error_inside_an_event_stream_keeps_the_provider_message(
    fake: FakeOpenAI,
) -> None:
    error = {
        "message": "This model's maximum context length is 4096 tokens.",
        "type": "invalid_request_error",
        "code": "context_length_exceeded",
    }
    with pytest.raises(LLMContextLengthError) as caught:
        await events_of(fake, Reply(body="json_in_sse", error=error), max_retries=2)
    assert caught.value.provider_message == error["message"]
    assert len(fake.requests) == 1  # a context overflow is never retried
    server = {"message": "upstream exploded", "type": "server_error", "code": 502}
    with pytest.raises(LLMServerError) as caught_server:
        await events_of(fake, Reply(body="json_in_sse", error=server), max_retries=0)
    assert caught_server.value.provider_message == "upstream exploded"


async def test_json_completion_to_a_stream_request(fake: FakeOpenAI) -> None:
    events = await events_of(fake, Reply(text=ANSWER, reasoning=THOUGHT, body="json"))
    assert joined(events, ReasoningDelta) == THOUGHT and joined(events, TextDelta) == ANSWER
    assert done_of(events).finish_reason == "stop"


async def test_retry_after_30_is_not_retried_early(fake: FakeOpenAI) -> None:
    """Retry-After 30 is longer than the wait budget: no retry before it (another 429), the
    error carries the wait for the bubble's countdown."""
    sleeps = RecordingSleep()
    with pytest.raises(LLMRateLimitError) as caught:
        await events_of(
            fake,
            Reply(status=429, headers={"retry-after": "30"}),
            Reply(text="too early"),
            sleep=sleeps,
        )
    assert caught.value.retry_after == 30.0 and sleeps.delays == [] and len(fake.requests) == 1


async def test_a_short_retry_after_is_waited_in_full(fake: FakeOpenAI) -> None:
    sleeps = RecordingSleep()
    events = await events_of(
        fake,
        Reply(status=429, headers={"retry-after": "15"}),
        Reply(text="ok"),
        sleep=sleeps,
    )
    assert joined(events, TextDelta) == "ok" and sleeps.delays == [15.0]
