"""Our client against the official `openai` SDK as a parsing oracle: for streams recorded from
real servers (tests/llm/recorded_streams.py), both read the same text, reasoning, refusal, finish
reason and usage. The SDK is a test dependency only; chatapp never imports it (import-linter)."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import openai
import pytest

from chatapp.llm import ChatClient, ReasoningDelta, RefusalDelta, StreamDone, TextDelta, Usage
from chatapp.llm.think import split_think

from .conftest import MSGS
from .recorded_streams import RECORDED


@dataclass
class Read:
    text: str = ""
    reasoning: str = ""
    refusal: str = ""
    finish_reason: str | None = None
    usage: Usage | None = None
    tool_calls: bool = False


def transport(body: bytes) -> httpx.MockTransport:
    headers = {"content-type": "text/event-stream"}
    return httpx.MockTransport(lambda request: httpx.Response(200, content=body, headers=headers))


async def ours(body: bytes) -> Read:
    out = Read()
    async with httpx.AsyncClient(transport=transport(body)) as http:
        client = ChatClient("http://127.0.0.1:9/v1", "sk-oracle", http=http)
        async for event in client.stream_chat(MSGS, "rec-model"):
            if isinstance(event, TextDelta):
                out.text += event.text
            elif isinstance(event, ReasoningDelta):
                out.reasoning += event.text
            elif isinstance(event, RefusalDelta):
                out.refusal += event.text
            elif isinstance(event, StreamDone):
                out.finish_reason, out.usage = event.finish_reason, event.usage
                out.tool_calls = event.tool_calls
    return out


async def theirs(body: bytes) -> Read:
    """What the official SDK reads; reasoning from the fields it keeps as extras, `<think>` tags
    left in the content as the SDK leaves them."""
    out = Read()
    async with httpx.AsyncClient(transport=transport(body)) as http:
        client = openai.AsyncOpenAI(
            api_key="sk-oracle", base_url="http://127.0.0.1:9/v1", http_client=http, max_retries=0
        )
        stream = await client.chat.completions.create(
            model="rec-model",
            messages=MSGS,  # type: ignore[arg-type]
            stream=True,
        )
        async for chunk in stream:
            if chunk.usage is not None:
                details = chunk.usage.completion_tokens_details
                out.usage = Usage(
                    chunk.usage.prompt_tokens,
                    chunk.usage.completion_tokens,
                    chunk.usage.total_tokens,
                    (details.reasoning_tokens or 0) if details else 0,
                )
            for choice in chunk.choices:
                delta = choice.delta
                extra = delta.model_extra or {}
                out.text += delta.content or ""
                out.reasoning += extra.get("reasoning_content") or extra.get("reasoning") or ""
                out.refusal += delta.refusal or ""
                out.tool_calls = out.tool_calls or bool(delta.tool_calls)
                if choice.finish_reason:
                    out.finish_reason = choice.finish_reason
    return out


@pytest.mark.parametrize("name", sorted(RECORDED))
async def test_ours_and_the_official_sdk_agree(name: str) -> None:
    mine, official = await ours(RECORDED[name]), await theirs(RECORDED[name])
    if not official.reasoning and "<think>" in official.text:
        # The SDK leaves a `<think>` block in the content; ours takes it out as reasoning.
        official.reasoning, official.text = split_think(official.text)
        assert mine.reasoning.strip() == official.reasoning.strip()
        mine.reasoning = official.reasoning
    assert mine == official
    assert mine.text or mine.reasoning or mine.refusal or mine.tool_calls, "an empty recording"
