"""ChatClient against httpx.MockTransport: parsing quirks, errors, retries, timeouts."""

from __future__ import annotations

import asyncio
import email.utils
import gzip
import itertools
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from chatapp.llm import (
    ChatClient,
    ChatResult,
    LLMAuthError,
    LLMBadRequestError,
    LLMConnectionError,
    LLMContextLengthError,
    LLMError,
    LLMMalformedError,
    LLMRateLimitError,
    LLMServerError,
    LLMTimeoutError,
    LLMTruncatedError,
    ReasoningDelta,
    StreamDone,
    TextDelta,
    Usage,
)

from .conftest import KEY, MSGS, Recorder, RecordingSleep, delta, sse, sse_response

MakeClient = Callable[..., ChatClient]


async def collect(client: ChatClient, **kwargs: Any) -> list[TextDelta | StreamDone]:
    return [ev async for ev in client.stream_chat(MSGS, "m", **kwargs)]


async def fail(client: ChatClient, **kwargs: Any) -> LLMError:
    with pytest.raises(LLMError) as info:
        await collect(client, **kwargs)
    return info.value


def text_of(events: list[TextDelta | StreamDone]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


# -- happy paths and provider quirks ---------------------------------------------------------


async def test_stream_request_and_quirky_chunks(make_client: MakeClient) -> None:
    raw = (
        b'data: {"id": "x", "model": "m-1", "choices": [{"index": 0, "delta": {"role": '
        b'"assistant"}}]}\n\n'
        b'data: {"choices": [{"index": 0, "delta": {"content": "Hi \\ud83d\\ude00"}}]}\n\n'
        b'data: {"choices": [{"index": 0, "delta": {"content": null, "reasoning_content": "hm"}}]}'
        b"\n\n"
        b'data: {"choices": [{"index": 1, "delta": {"content": "other"}}, "junk"]}\n\n'
        b'data: {"choices": [{"index": 0, "delta": {"content": "!"}, "finish_reason": "stop"}]}\n\n'
        b'data: {"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 2}}\n\n'
        b"data: [DONE]\n\ndata: ignored after done\n\n"
    )
    rec = Recorder(sse_response(raw, {"x-request-id": "req-1"}))
    client = make_client(rec)
    events = await collect(client, temperature=0.5, stop=["a"], max_tokens=None, seed=1)
    assert events == [
        TextDelta("Hi 😀"),
        ReasoningDelta("hm"),  # reasoning is kept apart from the answer, never dropped
        TextDelta("!"),
        StreamDone("stop", Usage(3, 2, 5), "m-1", "req-1"),
    ]
    body = rec.bodies()[0]
    assert body == {
        "model": "m",
        "messages": MSGS,
        "stream": True,
        "stream_options": {"include_usage": True},
        "temperature": 0.5,
        "stop": ["a"],
        "seed": 1,
    }
    assert rec.requests[0].headers["authorization"] == f"Bearer {KEY}"
    assert rec.requests[0].headers["accept"] == "text/event-stream"


async def test_done_without_finish_reason_and_finish_without_done(make_client: MakeClient) -> None:
    client = make_client(Recorder(sse_response(sse(delta("a")))))
    assert (await collect(client))[-1] == StreamDone(None, None, None, None)
    client = make_client(Recorder(sse_response(sse(delta("a", "length"), done=False))))
    assert (await collect(client))[-1] == StreamDone("length", None, None, None)


async def test_per_request_key_and_base_url(make_client: MakeClient) -> None:
    rec = Recorder(sse_response(sse(delta("a", "stop"))))
    client = make_client(rec)
    await collect(client, api_key="sk-other-key", base_url="https://other.invalid/api/")
    assert str(rec.requests[0].url) == "https://other.invalid/api/chat/completions"
    assert rec.requests[0].headers["authorization"] == "Bearer sk-other-key"


async def test_no_key_sends_no_authorization() -> None:
    rec = Recorder(sse_response(sse(delta("a", "stop"))))
    http = httpx.AsyncClient(transport=httpx.MockTransport(rec))
    async with ChatClient(BASE_LOCAL, None, http=http) as client:
        await collect(client)
    assert "authorization" not in rec.requests[0].headers
    assert not http.is_closed  # not ours to close
    await http.aclose()


BASE_LOCAL = "http://127.0.0.1:1/v1"


async def test_json_reply_to_a_stream_request(make_client: MakeClient) -> None:
    reply = {
        "model": "m",
        "choices": [{"message": {"content": "whole"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }
    client = make_client(Recorder(httpx.Response(200, json=reply)))
    assert await collect(client) == [
        TextDelta("whole"),
        StreamDone("stop", Usage(1, 1, 2), "m", None),
    ]
    error = {"error": {"message": "nope", "type": "invalid_request_error"}}
    client = make_client(Recorder(httpx.Response(200, json=error)))
    assert isinstance(await fail(client), LLMBadRequestError)
    bad = httpx.Response(200, headers={"content-type": "application/json"}, content=b"<html>")
    assert isinstance(await fail(make_client(Recorder(bad))), LLMMalformedError)


# -- broken streams ----------------------------------------------------------------------------


async def test_truncated_stream(make_client: MakeClient) -> None:
    rec = Recorder(sse_response(sse(delta("par"), delta("tial"), done=False, raw=b"data: {")))
    exc = await fail(make_client(rec))
    assert isinstance(exc, LLMTruncatedError)
    assert exc.partial_text == "partial"
    assert len(rec.requests) == 1  # text was seen: never retried


async def test_empty_event_stream_is_a_context_overflow(make_client: MakeClient) -> None:
    """llama.cpp answers a prompt over its context with an empty 200 event stream: named, and
    not retried (the same prompt would fail the same way)."""
    rec = Recorder(sse_response(b""), sse_response(sse(delta("never", "stop"))))
    exc = await fail(make_client(rec))
    assert isinstance(exc, LLMContextLengthError) and exc.provider_code == "empty_stream"
    assert len(rec.requests) == 1


async def test_an_event_stream_of_comments_only_is_truncated(make_client: MakeClient) -> None:
    exc = await fail(make_client(Recorder(sse_response(b": keep-alive\n\n"))))
    assert isinstance(exc, LLMTruncatedError) and "no event" in str(exc)


@pytest.mark.parametrize(
    ("error", "cls"),
    [
        ({"code": "context_length_exceeded", "message": "too long"}, LLMContextLengthError),
        ({"code": 429, "message": "slow down"}, LLMRateLimitError),
        ({"code": "429", "message": "slow down"}, LLMRateLimitError),
        ({"type": "server_error", "message": "boom"}, LLMServerError),
        ({"type": "invalid_request_error", "message": "bad"}, LLMBadRequestError),
        ({"code": "invalid_api_key", "message": "who?"}, LLMAuthError),
        ({"message": "mystery"}, LLMServerError),
        ("just a string", LLMServerError),
    ],
)
async def test_error_inside_stream(make_client: MakeClient, error: Any, cls: type) -> None:
    rec = Recorder(sse_response(sse(delta("so far"), {"error": error}, done=False)))
    exc = await fail(make_client(rec))
    assert type(exc) is cls
    assert exc.partial_text == "so far"
    assert len(rec.requests) == 1


async def test_error_event_with_plain_text_data(make_client: MakeClient) -> None:
    body = b"event: error\ndata: upstream exploded\n\n"
    exc = await fail(make_client(Recorder(sse_response(body)), max_retries=0))
    assert isinstance(exc, LLMServerError) and exc.provider_message == "upstream exploded"


@pytest.mark.parametrize(
    "raw", [b"data: {nope\n\n", b"data: [1, 2]\n\n", b'data: {"choices": 3}\n\n']
)
async def test_malformed_chunks(make_client: MakeClient, raw: bytes) -> None:
    rec = Recorder(sse_response(sse(delta("ok"), done=False, raw=raw)))
    exc = await fail(make_client(rec))
    assert isinstance(exc, LLMMalformedError) and exc.partial_text == "ok"


async def test_undecodable_body_is_malformed(make_client: MakeClient) -> None:
    def gzipped(raw: bytes) -> Callable[..., Any]:
        async def body() -> AsyncIterator[bytes]:
            yield raw

        async def handler(request: httpx.Request) -> httpx.Response:
            return sse_response(body(), {"content-encoding": "gzip"})

        return handler

    exc = await fail(make_client(Recorder(gzipped(b"not gzip at all"))))
    assert isinstance(exc, LLMMalformedError)
    ok = gzipped(gzip.compress(sse(delta("z", "stop"))))
    assert text_of(await collect(make_client(Recorder(ok)))) == "z"


async def test_connection_lost_mid_stream_keeps_partial_text(make_client: MakeClient) -> None:
    async def body() -> AsyncIterator[bytes]:
        yield sse(delta("half"), done=False)
        raise httpx.ReadError("connection reset")

    async def handler(request: httpx.Request) -> httpx.Response:
        return sse_response(body())

    rec = Recorder(handler)
    exc = await fail(make_client(rec))
    assert isinstance(exc, LLMConnectionError) and exc.partial_text == "half"
    assert len(rec.requests) == 1


# -- HTTP errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "cls"),
    [
        (401, {"error": {"message": "bad key", "code": "invalid_api_key"}}, LLMAuthError),
        (403, {"error": {"message": "region"}}, LLMAuthError),
        (400, {"error": {"message": "bad", "type": "invalid_request_error"}}, LLMBadRequestError),
        (
            400,
            {"error": {"message": "maximum context length is 8192 tokens"}},
            LLMContextLengthError,
        ),
        (400, {"error": {"code": "context_length_exceeded"}}, LLMContextLengthError),
        (404, {"error": {"message": "no model", "code": "model_not_found"}}, LLMBadRequestError),
        (422, {"detail": "unprocessable"}, LLMBadRequestError),
        (400, "plain text complaint", LLMBadRequestError),
    ],
)
async def test_http_errors_are_typed_and_not_retried(
    make_client: MakeClient, status: int, body: Any, cls: type, sleeps: RecordingSleep
) -> None:
    content = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    rec = Recorder(httpx.Response(status, content=content, headers={"x-request-id": "r9"}))
    exc = await fail(make_client(rec))
    assert type(exc) is cls and exc.status == status and exc.request_id == "r9"
    assert len(rec.requests) == 1 and sleeps.delays == []
    if isinstance(body, str):
        assert exc.provider_message == body


async def test_5xx_is_retried_with_exponential_full_jitter(
    make_client: MakeClient, sleeps: RecordingSleep
) -> None:
    rec = Recorder(
        httpx.Response(503, text="Service Unavailable"),
        httpx.Response(502, json={"error": {"message": "bad gateway", "type": "server_error"}}),
        sse_response(sse(delta("ok", "stop"))),
    )
    events = await collect(make_client(rec, backoff_base=1.0))
    assert text_of(events) == "ok"
    assert sleeps.delays == [0.5, 1.0]  # rng()=0.5 times 1, 2


async def test_retries_are_bounded(make_client: MakeClient, sleeps: RecordingSleep) -> None:
    rec = Recorder(httpx.Response(500, text="x"))
    exc = await fail(make_client(rec, max_retries=3, backoff_base=1.0, backoff_max=3.0))
    assert isinstance(exc, LLMServerError)
    assert len(rec.requests) == 4
    assert sleeps.delays == [0.5, 1.0, 1.5]  # ceiling capped at backoff_max


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after": "3"}, 3.0),
        ({"retry-after": "20"}, 20.0),  # waited in full, up to max_retry_wait
        ({"retry-after-ms": "1500", "retry-after": "9"}, 1.5),
        ({"retry-after-ms": "soon", "retry-after": "2.5"}, 2.5),
        ({"retry-after": "nan"}, 0.5),
        ({"retry-after": "whenever"}, 0.5),
        ({}, 0.5),
    ],
)
async def test_429_honours_retry_after(
    make_client: MakeClient, sleeps: RecordingSleep, headers: dict[str, str], expected: float
) -> None:
    rec = Recorder(
        httpx.Response(429, json={"error": {"code": "rate_limit_exceeded"}}, headers=headers),
        sse_response(sse(delta("ok", "stop"))),
    )
    assert text_of(await collect(make_client(rec, backoff_base=1.0))) == "ok"
    assert sleeps.delays == [expected]


async def test_retry_after_http_date(make_client: MakeClient, sleeps: RecordingSleep) -> None:
    future = email.utils.formatdate(time.time() + 10, usegmt=True)
    past = "Wed, 21 Oct 2015 07:28:00"  # no zone: read as UTC
    rec = Recorder(
        httpx.Response(429, headers={"retry-after": future}),
        httpx.Response(429, headers={"retry-after": past}),
        sse_response(sse(delta("ok", "stop"))),
    )
    await collect(make_client(rec))
    assert 8 < sleeps.delays[0] <= 10 and sleeps.delays[1] == 0.0


async def test_rate_limit_error_carries_retry_after(make_client: MakeClient) -> None:
    rec = Recorder(httpx.Response(429, headers={"retry-after": "7"}))
    exc = await fail(make_client(rec, max_retries=0))
    assert isinstance(exc, LLMRateLimitError) and exc.retry_after == 7.0


async def test_insufficient_quota_is_not_retried(make_client: MakeClient) -> None:
    body = {"error": {"code": "insufficient_quota", "message": "pay up"}}
    rec = Recorder(httpx.Response(429, json=body))
    assert isinstance(await fail(make_client(rec)), LLMRateLimitError)
    assert len(rec.requests) == 1


async def test_connection_errors_are_retried(
    make_client: MakeClient, sleeps: RecordingSleep
) -> None:
    rec = Recorder(httpx.ConnectError("refused"), sse_response(sse(delta("ok", "stop"))))
    assert text_of(await collect(make_client(rec))) == "ok"
    assert len(sleeps.delays) == 1
    rec = Recorder(httpx.ConnectTimeout("slow"))
    exc = await fail(make_client(rec, max_retries=1))
    assert isinstance(exc, LLMTimeoutError) and exc.phase == "connect"
    assert len(rec.requests) == 2
    rec = Recorder(httpx.ReadTimeout("slow"))
    exc = await fail(make_client(rec, max_retries=0))
    assert isinstance(exc, LLMTimeoutError) and exc.phase == "first_byte"


async def test_invalid_url_is_a_connection_error(make_client: MakeClient) -> None:
    client = make_client(Recorder(httpx.Response(200)), base_url="http://[::1", max_retries=0)
    assert isinstance(await fail(client), LLMConnectionError)
    with pytest.raises(LLMConnectionError):
        await client.list_models()


# -- timeouts --------------------------------------------------------------------------------


async def test_first_byte_timeout_before_headers_is_retried(make_client: MakeClient) -> None:
    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(5)
        raise AssertionError("unreachable")

    rec = Recorder(slow, sse_response(sse(delta("ok", "stop"))))
    rec.responses = [slow, slow]  # type: ignore[list-item]
    exc = await fail(make_client(rec, first_byte_timeout=0.05, max_retries=1))
    assert isinstance(exc, LLMTimeoutError) and exc.phase == "first_byte"
    assert len(rec.requests) == 2


def stalling(*chunks: bytes, then_sleep: float = 5) -> Callable[..., Any]:
    async def body() -> AsyncIterator[bytes]:
        for c in chunks:
            yield c
        await asyncio.sleep(then_sleep)
        yield sse(delta("late", "stop"))

    async def handler(request: httpx.Request) -> httpx.Response:
        return sse_response(body())

    return handler


async def test_first_byte_timeout_on_body(make_client: MakeClient) -> None:
    exc = await fail(make_client(Recorder(stalling()), first_byte_timeout=0.05, max_retries=0))
    assert isinstance(exc, LLMTimeoutError) and exc.phase == "first_byte"


async def test_idle_timeout_after_text_is_not_retried(make_client: MakeClient) -> None:
    rec = Recorder(stalling(sse(delta("abc"), done=False)))
    exc = await fail(make_client(rec, idle_timeout=0.05))
    assert isinstance(exc, LLMTimeoutError) and exc.phase == "idle"
    assert exc.partial_text == "abc" and len(rec.requests) == 1


async def test_idle_timeout_before_text_is_retried(make_client: MakeClient) -> None:
    role_only = sse({"choices": [{"index": 0, "delta": {"role": "assistant"}}]}, done=False)
    rec = Recorder(stalling(role_only), sse_response(sse(delta("ok", "stop"))))
    rec.responses = [stalling(role_only), lambda_ok()]  # type: ignore[list-item]
    events = await collect(make_client(rec, idle_timeout=0.05))
    assert text_of(events) == "ok" and len(rec.requests) == 2


def lambda_ok() -> Callable[..., Any]:
    async def handler(request: httpx.Request) -> httpx.Response:
        return sse_response(sse(delta("ok", "stop")))

    return handler


async def test_error_body_that_never_arrives(make_client: MakeClient) -> None:
    async def body() -> AsyncIterator[bytes]:
        await asyncio.sleep(5)
        yield b"{}"

    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, content=body())

    exc = await fail(make_client(Recorder(handler), idle_timeout=0.05))
    assert isinstance(exc, LLMBadRequestError) and exc.provider_message is None


async def test_timeouts_can_be_disabled(make_client: MakeClient) -> None:
    client = make_client(
        Recorder(stalling(then_sleep=0.01)), first_byte_timeout=None, idle_timeout=None
    )
    assert text_of(await collect(client)) == "late"


# -- leaving early -------------------------------------------------------------------------------


async def test_aclose_and_cancel_close_the_response(make_client: MakeClient) -> None:
    closed: list[str] = []

    class Endless(httpx.AsyncByteStream):
        def __init__(self, name: str) -> None:
            self.name = name

        async def __aiter__(self) -> AsyncIterator[bytes]:
            while True:
                yield sse(delta("x"), done=False)
                await asyncio.sleep(0.001)

        async def aclose(self) -> None:
            closed.append(self.name)

    def endless(name: str) -> Callable[..., Any]:
        async def handler(request: httpx.Request) -> httpx.Response:
            headers = {"content-type": "text/event-stream"}
            return httpx.Response(200, headers=headers, stream=Endless(name))

        return handler

    client = make_client(Recorder(endless("aclose")))
    stream = client.stream_chat(MSGS, "m")
    assert await anext(stream) == TextDelta("x")
    await stream.aclose()
    assert closed == ["aclose"]

    client = make_client(Recorder(endless("cancel")))
    got_one = asyncio.Event()

    async def consume() -> None:
        async for _ in client.stream_chat(MSGS, "m"):
            got_one.set()

    task = asyncio.create_task(consume())
    await got_one.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert closed == ["aclose", "cancel"]


# -- non-streaming endpoints -------------------------------------------------------------------


async def test_chat(make_client: MakeClient, sleeps: RecordingSleep) -> None:
    reply = {"model": "m", "choices": [{"message": {"content": "yo"}, "finish_reason": "stop"}]}
    rec = Recorder(httpx.Response(500, text="oops"), httpx.Response(200, json=reply))
    result = await make_client(rec).chat(MSGS, "m", temperature=0)
    assert result == ChatResult("yo", "stop", None, "m", None)
    assert rec.bodies()[1] == {"model": "m", "messages": MSGS, "temperature": 0}
    assert len(sleeps.delays) == 1


@pytest.mark.parametrize(
    ("response", "cls"),
    [
        (httpx.Response(200, text="<html>"), LLMMalformedError),
        (httpx.Response(200, json={"choices": []}), LLMMalformedError),
        (httpx.Response(200, json=[1]), LLMMalformedError),
        (httpx.Response(200, json={"error": {"message": "x", "code": 500}}), LLMServerError),
        (httpx.Response(401, json={"error": {"message": "x"}}), LLMAuthError),
    ],
)
async def test_chat_failures(make_client: MakeClient, response: httpx.Response, cls: type) -> None:
    with pytest.raises(cls):
        await make_client(Recorder(response), max_retries=0).chat(MSGS, "m")


async def test_chat_tool_call_reply_has_empty_text(make_client: MakeClient) -> None:
    reply = {"choices": [{"message": {"content": None}, "finish_reason": "tool_calls"}]}
    result = await make_client(Recorder(httpx.Response(200, json=reply))).chat(MSGS, "m")
    assert result.text == "" and result.finish_reason == "tool_calls" and result.model is None


async def test_models_embeddings_images(make_client: MakeClient) -> None:
    models = {"data": [{"id": "a"}, {"id": 3}, "junk", {"id": "b"}]}
    assert await make_client(Recorder(httpx.Response(200, json=models))).list_models() == ["a", "b"]
    emb = {"data": [{"index": 1, "embedding": [2, 3]}, {"index": 0, "embedding": [1.5]}]}
    rec = Recorder(httpx.Response(200, json=emb))
    assert await make_client(rec).embeddings(("x", "y"), "e") == [[1.5], [2.0, 3.0]]
    assert rec.bodies()[0] == {"input": ["x", "y"], "model": "e"}
    bad = {"data": [{"index": 0, "embedding": "nope"}]}
    with pytest.raises(LLMMalformedError):
        await make_client(Recorder(httpx.Response(200, json=bad))).embeddings("x", "e")
    imgs = {"data": [{"url": "http://u"}, {"b64_json": "AAA"}, {}, "junk"]}
    rec = Recorder(httpx.Response(200, json=imgs))
    assert await make_client(rec).images("cat", "dall-e", 2, response_format="url") == [
        "http://u",
        "AAA",
    ]
    assert rec.bodies()[0] == {
        "prompt": "cat",
        "n": 2,
        "size": "1024x1024",
        "model": "dall-e",
        "response_format": "url",
    }
    with pytest.raises(LLMMalformedError):
        await make_client(Recorder(httpx.Response(200, json={"x": 1}))).list_models()


# -- the key never leaks -----------------------------------------------------------------------


async def test_key_never_in_exception_text(make_client: MakeClient) -> None:
    echo = {"error": {"message": f"Incorrect API key provided: {KEY}", "code": KEY}}
    rec = Recorder(
        httpx.Response(401, json=echo, headers={"x-request-id": f"id-{KEY}"}),
    )
    errors = [await fail(make_client(rec))]
    rec = Recorder(httpx.ConnectError(f"cannot reach https://h/v1?key={KEY} auth=Bearer {KEY}"))
    errors.append(await fail(make_client(rec, base_url=f"https://h/v1?key={KEY}", max_retries=0)))
    rec = Recorder(sse_response(sse({"error": {"message": f"bad {KEY}"}}, done=False)))
    errors.append(await fail(make_client(rec, max_retries=0)))
    other = "sk-per-request-secret-999"
    rec = Recorder(httpx.Response(403, text=f"key {other} is not allowed"))
    errors.append(await fail(make_client(rec), api_key=other))
    for exc in errors:
        texts = [str(exc), repr(exc), exc.provider_message or "", exc.provider_code or ""]
        texts.append(exc.request_id or "")
        for text in texts:
            assert KEY not in text and other not in text
            assert "SECRET" not in text and "per-request-secret" not in text


async def test_owned_http_client_is_closed() -> None:
    client = ChatClient("http://127.0.0.1:9/v1", KEY, timeout=httpx.Timeout(3.0))
    http = client._http
    await client.aclose()
    assert http.is_closed


async def test_key_never_in_logs(make_client: MakeClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    echo = {"error": {"message": f"upstream said {KEY}", "type": "server_error"}}
    rec = Recorder(httpx.Response(500, json=echo), sse_response(sse(delta("ok", "stop"))))
    assert text_of(await collect(make_client(rec))) == "ok"
    assert "retry 1/2" in caplog.text
    assert KEY not in caplog.text


async def test_503_retry_after_is_honoured(make_client: MakeClient, sleeps: RecordingSleep) -> None:
    rec = Recorder(
        httpx.Response(503, text="maintenance", headers={"retry-after": "2"}),
        sse_response(sse(delta("ok", "stop"))),
    )
    assert text_of(await collect(make_client(rec))) == "ok"
    assert sleeps.delays == [2.0]


async def test_read_pace_reads_in_batches_and_loses_nothing(fake) -> None:
    """With `read_pace`, chunks that arrive while the reader pauses come out together (one
    network read), not one wake-up per chunk; without it, one per chunk."""
    from testkit.fakes.openai_server import Reply

    text = "".join(f"{i:03d}," for i in range(60))  # 60 chunks of 4 chars at 100 chunks/s

    async def arrivals(pace: float) -> tuple[str, int]:
        fake.queue(Reply(text=text, chunk_chars=4, chunks_per_s=100))
        client = ChatClient(fake.base_url, KEY, read_pace=pace)
        got, times = "", []
        loop = asyncio.get_running_loop()
        try:
            async for event in client.stream_chat(MSGS, "m"):
                if isinstance(event, TextDelta):
                    got += event.text
                    times.append(loop.time())
        finally:
            await client.aclose()
        # A "wake-up": text that came after a pause (not handed out with the previous text).
        wakeups = 1 + sum(1 for a, b in itertools.pairwise(times) if b - a > 0.004)
        return got, wakeups

    paced, paced_wakeups = await arrivals(0.1)
    plain, plain_wakeups = await arrivals(0.0)
    assert paced == plain == text
    # Ideally ~6 paced wake-ups against ~60; a busy machine merges some plain ones too.
    assert plain_wakeups >= 30
    assert paced_wakeups * 3 <= plain_wakeups
