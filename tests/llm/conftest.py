"""Shared helpers for the LLM client tests: a recording sleep and MockTransport clients."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest

from chatapp.llm import ChatClient
from testkit.fakes.openai_server import FakeOpenAI

KEY = "sk-test-SECRET-0123456789abcdef"
BASE = "https://llm.invalid/v1"
MSGS = [{"role": "user", "content": "hi"}]

Handler = Callable[[httpx.Request], Awaitable[httpx.Response]]


class RecordingSleep:
    """An injected `sleep` that records the delays instead of waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def sse(*objs: Any, done: bool = True, raw: bytes = b"") -> bytes:
    body = b"".join(f"data: {json.dumps(o)}\n\n".encode() for o in objs) + raw
    return body + (b"data: [DONE]\n\n" if done else b"")


def delta(text: str | None, finish: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"choices": [{"index": 0, "delta": {"content": text}, "finish_reason": finish}], **extra}


def sse_response(
    body: bytes | AsyncIterator[bytes], headers: dict[str, str] | None = None
) -> httpx.Response:
    return httpx.Response(
        200, headers={"content-type": "text/event-stream", **(headers or {})}, content=body
    )


class Recorder:
    """A MockTransport handler that serves canned responses in order and records requests."""

    def __init__(self, *responses: httpx.Response | Exception | Handler) -> None:
        self.responses = list(responses)
        self.requests: list[httpx.Request] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        item = self.responses.pop(0) if len(self.responses) > 1 else self.responses[0]
        if isinstance(item, Exception):
            raise item
        if callable(item):
            return await item(request)
        # A fresh copy, so a response listed once can answer every retry.
        return httpx.Response(item.status_code, headers=item.headers, content=item.content)

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.requests]


@pytest.fixture
def sleeps() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
def make_client(sleeps: RecordingSleep) -> Callable[..., ChatClient]:
    def make(handler: Recorder, **kwargs: Any) -> ChatClient:
        http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        kwargs.setdefault("rng", lambda: 0.5)
        return ChatClient(kwargs.pop("base_url", BASE), KEY, http=http, sleep=sleeps, **kwargs)

    return make


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(api_key=KEY) as srv:
        yield srv
