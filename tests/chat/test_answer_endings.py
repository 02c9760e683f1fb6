"""The answer job against the fake OpenAI server over real HTTP: reasoning kept apart (its own
column, never context, never a title or preview), every ending recorded, "继续" going on in the
same row, and a rate limit's wait recorded for the bubble's countdown."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from chatapp.chat import answers, conversations, store
from chatapp.chat.items import message_item
from chatapp.chat.prompts import CONTINUE_PROMPT
from chatapp.core.db import session_scope
from chatapp.errors import NotFound
from chatapp.llm import ChatClient
from chatapp.models import User, utcnow
from testkit.fakes.openai_server import FakeOpenAI, Reply

KEY = "sk-endings-test"
THOUGHT = "用户想知道 2+2。Simple arithmetic."


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(api_key=KEY) as srv:
        yield srv


@pytest.fixture
def alice(engine) -> int:
    with session_scope() as s:
        user = User(openid="alice-endings")
        s.add(user)
        s.flush()
        assert user.id is not None
        return user.id


def _conversation(user_id: int) -> str:
    with session_scope() as s:
        return store.create_conversation(s, user_id=user_id, model="fake-gpt").id


async def _run(fake: FakeOpenAI, user_id: int, turn: conversations.Turn, *replies: Reply):
    fake.queue(*replies)
    with session_scope() as s:
        request = conversations.build_request(s, user_id=user_id, turn=turn)
    async with ChatClient(fake.base_url, KEY) as client:
        job = answers.start_answer(
            user_id=user_id, message_id=turn.assistant_message_id, request=request, client=client
        )
        await asyncio.wait_for(job.done.wait(), 10)
    with session_scope() as s:
        msg = store.get_message(s, user_id=user_id, message_id=turn.assistant_message_id)
        assert msg is not None
        s.expunge(msg)
        return msg


async def _send(fake: FakeOpenAI, user_id: int, cid: str, text: str, *replies: Reply):
    with session_scope() as s:
        turn = conversations.send_message(s, user_id=user_id, conversation_id=cid, text=text)
    return turn, await _run(fake, user_id, turn, *replies)


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning", "think"])
async def test_reasoning_is_kept_apart_and_never_sent_back(fake, alice, field) -> None:
    cid = _conversation(alice)
    reply = Reply(text="4", reasoning=THOUGHT, reasoning_field=field, chunk_chars=3)  # type: ignore[arg-type]
    _, msg = await _send(fake, alice, cid, "<think>2+2?", reply)
    assert (msg.content, msg.reasoning.strip(), msg.ending) == ("4", THOUGHT, "complete")
    assert msg.reasoning_ms is not None and msg.reasoning_ms >= 0
    assert msg.reasoning_tokens and msg.reasoning_tokens > 0
    assert msg.completion_tokens and msg.completion_tokens > msg.reasoning_tokens
    await _send(fake, alice, cid, "and 3+3?", Reply(text="6"))
    sent = fake.requests[-1].json["messages"]
    assert sent[1] == {"role": "assistant", "content": "4"}
    assert all(THOUGHT not in m["content"] for m in sent)
    with session_scope() as s:
        conv = store.get_conversation(s, user_id=alice, conversation_id=cid)
        assert conv is not None and "用户想知道" not in conv.preview + conv.title
        assert conv.preview == "6"


@pytest.mark.parametrize(
    ("reply", "ending", "content"),
    [
        (Reply(text="cut", finish_reason="length"), "length", "cut"),
        (Reply(text="", reasoning=THOUGHT, finish_reason="length"), "length", ""),
        (Reply(text="", refusal="I can't help with that."), "refused", "I can't help with that."),
        (Reply(text="", tool_call=True), "tool_calls", ""),
        (Reply(text="bad", finish_reason="content_filter"), "content_filter", "bad"),
        (Reply(text=""), "empty", ""),
        (Reply(text="ok"), "complete", "ok"),
        (Reply(text="ok", body="json"), "complete", "ok"),
    ],
)
async def test_every_ending_is_recorded(fake, alice, reply, ending, content) -> None:
    _, msg = await _send(fake, alice, _conversation(alice), "q", reply)
    assert (msg.status, msg.ending, msg.content) == ("done", ending, content)
    assert message_item(msg, now=utcnow(), lang="zh").ending == ending


@pytest.mark.parametrize(
    "reply",
    [
        Reply(body="empty"),
        Reply(body="json_in_sse", error={"message": "too long", "code": "context_length_exceeded"}),
        Reply(status=400, error={"message": "maximum context length is 4096 tokens"}),
    ],
)
async def test_context_overflow_is_named_and_not_retried(fake, alice, reply) -> None:
    _, msg = await _send(fake, alice, _conversation(alice), "q", reply, Reply(text="never"))
    assert (msg.status, msg.ending, msg.error_code) == ("error", "error", "context_length")
    assert len(fake.requests) == 1
    item = message_item(msg, now=utcnow(), lang="zh")
    assert "清除上下文" in item.error_text and "新对话" in item.error_text
    assert "new conversation" in message_item(msg, now=utcnow(), lang="en").error_text


async def test_a_long_retry_after_is_recorded_for_the_countdown(fake, alice) -> None:
    limited = Reply(status=429, headers={"retry-after": "30"})
    _, msg = await _send(fake, alice, _conversation(alice), "q", limited, Reply(text="early"))
    assert (msg.status, msg.error_code) == ("error", "rate_limit:30")
    assert len(fake.requests) == 1  # not retried before Retry-After
    item = message_item(msg, now=utcnow(), lang="en")
    retry_at = int(msg.updated_at.timestamp() * 1000) + 30_000
    assert item.error_code == f"rate_limit:{retry_at}"
    assert "Rate limited" in item.error_text


async def test_continue_goes_on_in_the_same_row(fake, alice) -> None:
    cid = _conversation(alice)
    cut = Reply(text="第一部分，", reasoning="先想想", finish_reason="length")
    turn, msg = await _send(fake, alice, cid, "写一首长诗", cut)
    assert msg.ending == "length"
    with session_scope() as s:
        again = conversations.continue_answer(s, user_id=alice, message_id=msg.id or 0)
    assert again.assistant_message_id == turn.assistant_message_id and again.continues
    msg = await _run(fake, alice, again, Reply(text="第二部分。", reasoning="再想想"))
    assert (msg.content, msg.ending, msg.status) == ("第一部分，第二部分。", "complete", "done")
    assert msg.reasoning == "先想想再想想"
    sent = fake.requests[-1].json["messages"]
    assert sent[-2:] == [
        {"role": "assistant", "content": "第一部分，"},
        {"role": "user", "content": CONTINUE_PROMPT},
    ]
    # Only an answer cut at the length limit goes on.
    with session_scope() as s, pytest.raises(NotFound):
        conversations.continue_answer(s, user_id=alice, message_id=msg.id or 0)


async def test_only_the_owner_continues_an_answer(fake, alice) -> None:
    cid = _conversation(alice)
    _, first = await _send(fake, alice, cid, "a", Reply(text="x", finish_reason="length"))
    await _send(fake, alice, cid, "b", Reply(text="y"))
    with session_scope() as s:
        bob = User(openid="bob-endings")
        s.add(bob)
        s.flush()
        with pytest.raises(NotFound):
            conversations.continue_answer(s, user_id=bob.id or 0, message_id=first.id or 0)
    with session_scope() as s:
        turn = conversations.continue_answer(s, user_id=alice, message_id=first.id or 0)
    msg = await _run(fake, alice, turn, Reply(text=" more"))
    assert msg.content == "x more"
    # What followed the continued answer is not sent.
    assert fake.requests[-1].json["messages"][-2:] == [
        {"role": "assistant", "content": "x"},
        {"role": "user", "content": CONTINUE_PROMPT},
    ]
