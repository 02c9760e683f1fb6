"""ChatClient over real HTTP against testkit.fakes.openai_server.FakeOpenAI."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from chatapp.llm import (
    ChatClient,
    LLMAuthError,
    LLMBadRequestError,
    LLMConnectionError,
    LLMMalformedError,
    LLMRateLimitError,
    LLMServerError,
    LLMTimeoutError,
    LLMTruncatedError,
    StreamDone,
    TextDelta,
)
from testkit.fakes.openai_server import CONTENT_POLICY_ERROR, FakeOpenAI, Reply
from testkit.net import free_port
from testkit.paths import ROOT

from .conftest import KEY, MSGS, RecordingSleep


def client_for(srv: FakeOpenAI, **kwargs: object) -> ChatClient:
    kwargs.setdefault("sleep", RecordingSleep())
    return ChatClient(srv.base_url, KEY, **kwargs)  # type: ignore[arg-type]


async def stream_text(client: ChatClient, **kwargs: object) -> tuple[str, StreamDone]:
    parts: list[str] = []
    done = None
    async for ev in client.stream_chat(MSGS, "fake-gpt", **kwargs):  # type: ignore[arg-type]
        if isinstance(ev, TextDelta):
            parts.append(ev.text)
        else:
            done = ev
    assert done is not None
    return "".join(parts), done


async def test_streaming_default_echo_and_recording(fake: FakeOpenAI) -> None:
    async with client_for(fake) as client:
        text, done = await stream_text(client, temperature=0.2)
    assert text == "You said: hi"
    assert done.finish_reason == "stop" and done.usage is not None
    assert done.usage.completion_tokens == 3 and done.request_id
    (req,) = fake.requests
    assert req.path == "/v1/chat/completions"
    assert req.json["stream_options"] == {"include_usage": True}
    assert req.json["temperature"] == 0.2
    assert req.headers["authorization"] == f"Bearer {KEY}"
    assert fake.completed == 1 and fake.disconnects == 0


async def test_chinese_and_escaped_emoji(fake: FakeOpenAI) -> None:
    answer = "你好,世界!这是一个测试。😀🎉"
    fake.queue(Reply(text=answer, chunk_chars=1), Reply(text=answer, ensure_ascii=True))
    async with client_for(fake) as client:
        assert (await stream_text(client))[0] == answer
        assert (await stream_text(client))[0] == answer


async def test_non_streaming_models_embeddings_images(fake: FakeOpenAI) -> None:
    fake.queue(Reply(text="整段回答"))
    async with client_for(fake) as client:
        result = await client.chat(MSGS, "fake-gpt")
        assert result.text == "整段回答" and result.finish_reason == "stop"
        assert await client.list_models() == ["fake-gpt", "fake-gpt-mini"]
        vectors = await client.embeddings(["a", "b"], "emb")
        assert len(vectors) == 2 and vectors[0] != vectors[1]
        assert vectors == await client.embeddings(["a", "b"], "emb")  # deterministic
        assert (await client.images("a cat"))[0].endswith("fake-image-0.png")
        b64 = await client.images("a cat", n=2, response_format="b64_json")
        assert len(b64) == 2 and b64[0].startswith("iVBOR")


async def test_images_by_url_are_served_and_a_policy_refusal_keeps_its_code(
    fake: FakeOpenAI,
) -> None:
    fake.queue(Reply(image_url=True), Reply(status=400, error=CONTENT_POLICY_ERROR))
    async with client_for(fake) as client:
        (url,) = await client.images("a cat", "fake-image", response_format="b64_json")
        async with httpx.AsyncClient() as http:
            picture = await http.get(url)
        assert picture.headers["content-type"] == "image/png"
        assert picture.content.startswith(b"\x89PNG\r\n\x1a\n")
        with pytest.raises(LLMBadRequestError) as info:
            await client.images("something refused", "fake-image")
    assert (info.value.status, info.value.provider_code) == (400, "content_policy_violation")


async def test_wrong_key_is_auth_error_without_the_key(fake: FakeOpenAI) -> None:
    wrong = "sk-wrong-key-123456789"
    async with client_for(fake) as client:
        with pytest.raises(LLMAuthError) as info:
            await stream_text(client, api_key=wrong)
    assert info.value.status == 401 and info.value.provider_code == "invalid_api_key"
    assert wrong not in str(info.value) and wrong not in (info.value.provider_message or "")
    assert len(fake.requests) == 1  # never retried


async def test_break_closes_upstream(fake: FakeOpenAI) -> None:
    fake.queue(Reply(text="x" * 2000, chunk_chars=1, chunks_per_s=200))
    async with client_for(fake) as client:
        async for ev in client.stream_chat(MSGS, "fake-gpt"):
            if isinstance(ev, TextDelta):
                break
        assert await asyncio.to_thread(fake.wait_for, lambda: fake.disconnects == 1, 5)
    assert fake.completed == 0


async def test_cancel_closes_upstream(fake: FakeOpenAI) -> None:
    fake.queue(Reply(text="y" * 2000, chunk_chars=1, chunks_per_s=200))
    seen = asyncio.Event()

    async def consume(client: ChatClient) -> None:
        async for _ in client.stream_chat(MSGS, "fake-gpt"):
            seen.set()

    async with client_for(fake) as client:
        task = asyncio.create_task(consume(client))
        await seen.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await asyncio.to_thread(fake.wait_for, lambda: fake.disconnects == 1, 5)


async def test_503_then_ok_is_retried(fake: FakeOpenAI) -> None:
    sleeps = RecordingSleep()
    fake.queue(Reply(status=503), Reply(text="recovered"))
    async with client_for(fake, sleep=sleeps) as client:
        assert (await stream_text(client))[0] == "recovered"
    assert len(fake.requests) == 2 and len(sleeps.delays) == 1


async def test_429_with_retry_after(fake: FakeOpenAI) -> None:
    sleeps = RecordingSleep()
    fake.queue(Reply(status=429, headers={"retry-after": "2"}), Reply(text="ok"))
    async with client_for(fake, sleep=sleeps) as client:
        assert (await client.chat(MSGS, "fake-gpt")).text == "ok"
    assert sleeps.delays == [2.0]
    fake.queue(Reply(status=429, headers={"retry-after-ms": "250"}))
    async with client_for(fake, max_retries=0) as client:
        with pytest.raises(LLMRateLimitError) as info:
            await stream_text(client)
    assert info.value.retry_after == 0.25 and info.value.provider_code == "rate_limit_exceeded"


@pytest.mark.parametrize(
    ("reply", "cls", "partial"),
    [
        (
            Reply(text="abcdefgh", chunk_chars=2, fault="drop", fault_after=2),
            LLMConnectionError,
            "abcd",
        ),
        (
            Reply(text="abcdefgh", chunk_chars=2, fault="truncate", fault_after=3),
            LLMTruncatedError,
            "abcdef",
        ),
        (
            Reply(text="abcdefgh", chunk_chars=2, fault="malformed", fault_after=1),
            LLMMalformedError,
            "ab",
        ),
        (
            Reply(text="abcdefgh", chunk_chars=2, fault="error_in_stream", fault_after=1),
            LLMServerError,
            "ab",
        ),
    ],
)
async def test_stream_faults(fake: FakeOpenAI, reply: Reply, cls: type, partial: str) -> None:
    fake.queue(reply)
    async with client_for(fake) as client:
        with pytest.raises(cls) as info:
            await stream_text(client)
    assert info.value.partial_text == partial  # type: ignore[attr-defined]
    assert len(fake.requests) == 1


async def test_stall_hits_idle_timeout_and_first_byte_delay(fake: FakeOpenAI) -> None:
    fake.queue(Reply(text="abcdefgh", chunk_chars=2, fault="stall", fault_after=1, stall_s=5))
    async with client_for(fake, idle_timeout=0.2) as client:
        with pytest.raises(LLMTimeoutError) as info:
            await stream_text(client)
    assert info.value.phase == "idle" and info.value.partial_text == "ab"
    assert await asyncio.to_thread(fake.wait_for, lambda: fake.disconnects == 1, 5)
    fake.queue(Reply(first_byte_delay_s=2), Reply(text="second try"))
    async with client_for(fake, first_byte_timeout=0.2) as client:
        assert (await stream_text(client))[0] == "second try"


async def test_connection_refused_is_a_connection_error() -> None:
    with FakeOpenAI() as srv:
        url = srv.base_url
    async with ChatClient(url, KEY, max_retries=1, sleep=RecordingSleep()) as client:
        with pytest.raises(LLMConnectionError):
            await client.list_models()


async def test_plain_text_error_and_server_without_key_check() -> None:
    with FakeOpenAI() as srv:
        srv.queue(Reply(status=500, error="Internal Server Error"))
        async with ChatClient(srv.base_url, None, max_retries=0) as client:
            with pytest.raises(LLMServerError) as info:
                await client.chat(MSGS, "m")
        assert info.value.provider_message == "Internal Server Error"
        srv.reset()
        assert srv.requests == []
        async with httpx.AsyncClient() as http:
            response = await http.post(srv.base_url + "/chat/completions", content=b"{bad")
            assert response.json()["choices"][0]["message"]["content"] == "Hello from FakeOpenAI."


async def test_fake_server_runs_as_its_own_process() -> None:
    import subprocess
    import sys

    port = free_port()
    args = ["--port", str(port), "--chunks-per-s", "500", "--api-key", KEY]
    proc = subprocess.Popen([sys.executable, "-m", "testkit.fakes.openai_server", *args], cwd=ROOT)
    try:
        async with ChatClient(f"http://127.0.0.1:{port}/v1", KEY, sleep=asyncio.sleep) as client:
            for _ in range(100):
                try:
                    await client.list_models()
                    break
                except LLMConnectionError:
                    await asyncio.sleep(0.1)
            text, done = await stream_text(client)
        assert text == "You said: hi" and done.finish_reason == "stop"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
