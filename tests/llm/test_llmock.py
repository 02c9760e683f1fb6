"""ChatClient against the third-party llmock server, which judges the client's resilience.

llmock runs as a subprocess on a free 127.0.0.1 port (`testkit.fakes.llmock`);
`POST /_llmock/scenario` queues faults and `GET /_llmock/verdict` grades how the client reacted
(backoff, Retry-After, retries of 4xx...).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from chatapp.llm import (
    ChatClient,
    LLMBadRequestError,
    LLMContextLengthError,
    LLMMalformedError,
    LLMTruncatedError,
    StreamDone,
    TextDelta,
)
from testkit.fakes.llmock import llmock_server

MSGS = [{"role": "user", "content": "Say something"}]


@pytest.fixture(scope="module")
def llmock_url() -> Iterator[str]:
    with llmock_server() as url:
        yield url


@pytest.fixture
def llmock(llmock_url: str) -> str:
    httpx.post(llmock_url + "/_llmock/reset").raise_for_status()
    return llmock_url


def scenario(url: str, *behaviors: dict[str, Any]) -> None:
    response = httpx.post(url + "/_llmock/scenario", json={"behaviors": list(behaviors)})
    response.raise_for_status()


def verdict(url: str) -> dict[str, Any]:
    return httpx.get(url + "/_llmock/verdict").json()


def client(url: str, **kwargs: Any) -> ChatClient:
    # Real sleeps: llmock judges the timing. Near-maximal jitter keeps the waits growing.
    kwargs.setdefault("rng", lambda: 0.99)
    kwargs.setdefault("backoff_base", 0.05)
    return ChatClient(url + "/v1", "sk-llmock-test", **kwargs)


async def stream(c: ChatClient, content: str = "Say something") -> tuple[str, StreamDone]:
    parts, done = [], None
    async for ev in c.stream_chat([{"role": "user", "content": content}], "gpt-4o-mini"):
        if isinstance(ev, TextDelta):
            parts.append(ev.text)
        else:
            done = ev
    assert done is not None
    return "".join(parts), done


async def test_verdict_is_clean_for_retryable_faults(llmock: str) -> None:
    steps: list[tuple[str, dict[str, Any]]] = [
        ("one", {"type": "fail", "status": 500, "times": 2}),
        ("two", {"type": "fail", "status": 429, "retry_after": 0.3}),
        ("503", {"type": "fail", "status": 503}),  # llmock adds Retry-After: 1
        ("three", {"type": "stream_fault", "kind": "disconnect", "after_chunks": 0}),
        ("five", {"type": "stream_fault", "kind": "stall", "after_chunks": 0, "stall_seconds": 3}),
    ]
    async with client(llmock, max_retries=3, first_byte_timeout=0.5) as c:
        for prompt, behavior in steps:
            scenario(llmock, behavior)
            text, done = await stream(c, prompt)
            assert text and done.finish_reason == "stop", prompt
        result = await c.chat(MSGS, "gpt-4o-mini", api_key="sk-other")
        assert result.text
        bad = {"x-llmock-force-status": "400"}
        http = httpx.AsyncClient(headers=bad)
        async with ChatClient(llmock + "/v1", "k", http=http) as forced:
            with pytest.raises(LLMBadRequestError):
                await stream(forced, "six")  # never retried
        await http.aclose()
    result = verdict(llmock)
    assert result["findings"] == [], result
    assert result["passed"] and result["faults_injected"] >= 6


async def test_an_empty_event_stream_is_not_retried(llmock: str) -> None:
    """A 200 event stream with an empty body is how llama.cpp answers a prompt over its context:
    retrying sends the same prompt again. llmock sees only a truncation that was not retried."""
    scenario(llmock, {"type": "stream_fault", "kind": "truncate", "after_chunks": 0})
    async with client(llmock, max_retries=3) as c:
        with pytest.raises(LLMContextLengthError) as empty:
            await stream(c, "four")
    assert empty.value.provider_code == "empty_stream"
    assert [f["code"] for f in verdict(llmock)["findings"]] == ["truncated_stream_accepted"]


async def test_faults_after_text_raise_typed_errors(llmock: str) -> None:
    """Faults after text: we raise (never retry, text was shown). llmock flags these anyway."""
    scenario(
        llmock,
        {"type": "stream_fault", "kind": "truncate", "after_chunks": 3},
        {"type": "stream_fault", "kind": "malformed", "after_chunks": 3},
    )
    async with client(llmock) as c:
        with pytest.raises(LLMTruncatedError) as truncated:
            await stream(c, "seven")
        assert truncated.value.partial_text
        with pytest.raises(LLMMalformedError) as malformed:
            await stream(c, "eight")
        assert malformed.value.partial_text
    codes = sorted(f["code"] for f in verdict(llmock)["findings"])
    # llmock cannot see that the client raised: it only sees no retry.
    assert codes == ["malformed_chunk_ignored", "truncated_stream_accepted"]
