"""The open API read by the official `openai` package: sync, async, streaming with usage, and
each kind of error as the client raises it."""

from __future__ import annotations

import asyncio

import httpx
import openai
import pytest
from sqlmodel import Session, select

from chatapp.api.open_api_settings import OpenApiSettings
from chatapp.models import ApiKey, Message
from testkit.fakes.openai_server import Reply


def client(run, key: str, **kw) -> openai.OpenAI:
    return openai.OpenAI(base_url=run.v1, api_key=key, max_retries=0, **kw)


def test_sync_completion_and_models(start, upstream):
    run = start()
    key = run.new_key(run.user())
    upstream.queue(Reply(text="你好，世界！"))
    oa = client(run, key)
    reply = oa.chat.completions.create(
        model="fake-gpt",
        messages=[
            {"role": "system", "content": "be brief"},
            {
                "role": "user",
                "content": [{"type": "text", "text": "hi "}, {"type": "text", "text": "there"}],
            },
        ],
        temperature=0.3,
        max_tokens=50,
        stop=["END"],
        user="alice",
        extra_body={"some_unknown_field": 1, "n": 1},
    )
    assert reply.choices[0].message.content == "你好，世界！"
    assert reply.choices[0].finish_reason == "stop"
    assert reply.object == "chat.completion" and reply.id.startswith("chatcmpl-")
    assert reply.usage is not None and reply.usage.completion_tokens > 0
    sent = upstream.requests[-1].json
    # Upstream gets the deployment's key, the joined text parts and the checked parameters.
    assert upstream.requests[-1].headers["authorization"] == "Bearer sk-upstream-deployment"
    assert sent["messages"] == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "hi there"},
    ]
    assert sent["temperature"] == 0.3 and sent["max_tokens"] == 50 and sent["stop"] == ["END"]
    assert sent["user"] == "alice" and "some_unknown_field" not in sent
    assert [m.id for m in oa.models.list()] == ["fake-gpt", "fake-mini"]


def test_streaming_with_usage_is_framed_as_openai_does(start, upstream):
    run = start()
    key = run.new_key(run.user())
    upstream.queue(Reply(text="one two three four five", chunk_chars=3))
    stream = client(run, key).chat.completions.create(
        model="fake-mini",
        messages=[{"role": "user", "content": "count"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "one two three four five"
    finishing = [c for c in chunks if c.choices and c.choices[0].finish_reason]
    assert [c.choices[0].finish_reason for c in finishing] == ["stop"]
    last = chunks[-1]
    assert last.choices == [] and last.usage is not None and last.usage.total_tokens > 0
    assert all(c.usage is None for c in chunks[:-1])
    assert len({c.id for c in chunks}) == 1


def test_raw_stream_bytes(start, upstream):
    run = start()
    key = run.new_key(run.user())
    upstream.queue(Reply(text="ab"))
    with httpx.stream(
        "POST",
        run.v1 + "/chat/completions",
        json={"model": "fake-gpt", "messages": [{"role": "user", "content": "x"}], "stream": True},
        headers={"Authorization": f"Bearer {key}"},
    ) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        body = r.read().decode()
    events = body.split("\n\n")
    assert all(e.startswith("data: ") for e in events if e)
    assert events[-2] == "data: [DONE]" and events[-1] == ""
    # Without include_usage no chunk names usage at all.
    assert '"usage"' not in body


def test_async_client_concurrent(start, upstream):
    run = start()
    key = run.new_key(run.user())

    async def main() -> list[str]:
        oa = openai.AsyncOpenAI(base_url=run.v1, api_key=key, max_retries=0)

        async def one(i: int) -> str:
            stream = await oa.chat.completions.create(
                model="fake-gpt", messages=[{"role": "user", "content": f"q{i}"}], stream=True
            )
            return "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])

        try:
            return await asyncio.gather(*(one(i) for i in range(5)))
        finally:
            await oa.close()

    answers = asyncio.run(main())
    # The fake echoes the last user message: each stream got its own answer.
    assert all(f"q{i}" in a for i, a in enumerate(answers))


def test_calls_are_counted_on_the_key_and_not_stored(start, upstream):
    run = start()
    key = run.new_key(run.user())
    oa = client(run, key)
    for _ in range(2):
        oa.chat.completions.create(model="fake-gpt", messages=[{"role": "user", "content": "hi"}])
    with Session(run.engine) as s:  # type: ignore[arg-type]
        row = s.exec(select(ApiKey)).one()
        assert row.requests == 2 and row.completion_tokens > 0 and row.prompt_tokens > 0
        assert row.last_used_at is not None
        assert s.exec(select(Message)).all() == []


def test_bad_keys_are_401(start):
    run = start()
    token = run.user()
    key = run.new_key(token)
    with pytest.raises(openai.AuthenticationError) as bad:
        client(run, "ck-" + "x" * 43).models.list()
    assert bad.value.code == "invalid_api_key"
    assert bad.value.body["type"] == "invalid_request_error"  # type: ignore[index]
    missing = httpx.get(run.v1 + "/models")
    assert missing.status_code == 401 and "Authorization" in missing.json()["error"]["message"]
    # A session token is not a key.
    assert (
        httpx.get(run.v1 + "/models", headers={"Authorization": f"Bearer {token}"}).status_code
        == 401
    )
    key_id = httpx.get(
        run.base_url + "/api/v1/keys", headers={"Authorization": f"Bearer {token}"}
    ).json()["data"][0]["id"]
    assert client(run, key).models.list().data
    httpx.delete(
        f"{run.base_url}/api/v1/keys/{key_id}", headers={"Authorization": f"Bearer {token}"}
    )
    with pytest.raises(openai.AuthenticationError):
        client(run, key).models.list()


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"messages": [{"role": "user", "content": "x"}]}, "model"),
        ({"model": "fake-gpt"}, "messages"),
        ({"model": "fake-gpt", "messages": []}, "messages"),
        ({"model": "fake-gpt", "messages": [{"role": "tool", "content": "x"}]}, "messages[0].role"),
        (
            {
                "model": "fake-gpt",
                "messages": [{"role": "user", "content": [{"type": "image_url"}]}],
            },
            "messages[0].content[0]",
        ),
        (
            {"model": "fake-gpt", "messages": [{"role": "user", "content": "x"}], "temperature": 3},
            "temperature",
        ),
        (
            {"model": "fake-gpt", "messages": [{"role": "user", "content": "x"}], "top_p": "1"},
            "top_p",
        ),
        (
            {"model": "fake-gpt", "messages": [{"role": "user", "content": "x"}], "max_tokens": 0},
            "max_tokens",
        ),
        # Over the operator's ceiling (CHAT_MAX_REPLY_TOKENS=2000).
        (
            {
                "model": "fake-gpt",
                "messages": [{"role": "user", "content": "x"}],
                "max_completion_tokens": 5000,
            },
            "max_tokens",
        ),
        (
            {
                "model": "fake-gpt",
                "messages": [{"role": "user", "content": "x"}],
                "stop": ["a"] * 5,
            },
            "stop",
        ),
        (
            {"model": "fake-gpt", "messages": [{"role": "user", "content": "x"}], "stream": "yes"},
            "stream",
        ),
    ],
)
def test_invalid_fields_are_400_naming_param(start, upstream, body, param):
    run = start()
    key = run.new_key(run.user())
    before = len(upstream.requests)
    reply = httpx.post(
        run.v1 + "/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"}
    )
    assert reply.status_code == 400
    error = reply.json()["error"]
    assert error["param"] == param and error["type"] == "invalid_request_error"
    assert param.split("[")[0].split(".")[0] in error["message"]
    assert len(upstream.requests) == before  # refused before any model call


def test_the_official_client_reads_a_400(start):
    run = start()
    key = run.new_key(run.user())
    with pytest.raises(openai.BadRequestError) as bad:
        client(run, key).chat.completions.create(
            model="fake-gpt", messages=[{"role": "user", "content": "x"}], top_p=2
        )
    assert bad.value.param == "top_p" and "top_p" in bad.value.message


def test_messages_are_in_the_callers_language(start):
    run = start()
    key = run.new_key(run.user())
    url = run.v1 + "/chat/completions"
    body = {"model": "fake-gpt", "messages": [{"role": "user", "content": "x"}], "temperature": 9}
    zh = httpx.post(url, json=body, headers={"Authorization": f"Bearer {key}"}).json()
    en = httpx.post(
        url,
        json=body,
        headers={"Authorization": f"Bearer {key}", "Accept-Language": "en-US,en;q=0.9"},
    ).json()
    assert zh["error"]["message"] == "参数 temperature 必须在 0–2 之间。"
    assert en["error"]["message"] == "Parameter temperature must be from 0 to 2."
    not_json = httpx.post(url, content=b"{nope", headers={"Authorization": f"Bearer {key}"})
    assert not_json.status_code == 400 and not_json.json()["error"]["code"] == "invalid_json"


def test_unknown_model_is_404(start, upstream):
    run = start()
    key = run.new_key(run.user())
    with pytest.raises(openai.NotFoundError) as missing:
        client(run, key).chat.completions.create(
            model="gpt-5-secret", messages=[{"role": "user", "content": "x"}]
        )
    assert missing.value.code == "model_not_found" and missing.value.param == "model"


def test_body_cap_is_413(start):
    run = start(open_api=OpenApiSettings(max_body_bytes=8192))
    key = run.new_key(run.user())
    with pytest.raises(openai.APIStatusError) as big:
        client(run, key).chat.completions.create(
            model="fake-gpt", messages=[{"role": "user", "content": "x" * 20_000}]
        )
    assert big.value.status_code == 413 and big.value.code == "request_too_large"


def test_per_key_rate_limit_is_429(start, upstream):
    run = start(open_api=OpenApiSettings(key_requests_per_minute=2))
    token = run.user()
    key, other = run.new_key(token, "a"), run.new_key(token, "b")
    oa = client(run, key)
    oa.models.list()
    oa.models.list()
    with pytest.raises(openai.RateLimitError) as limited:
        oa.models.list()
    assert int(limited.value.response.headers["retry-after"]) >= 1
    assert "2" in limited.value.message
    assert client(run, other).models.list().data  # per key, not per user


@pytest.mark.parametrize(
    ("reply", "error", "status", "code"),
    [
        # insufficient_quota: our client does not retry it (a retried 429 would wait 7 s twice).
        (
            Reply(
                status=429,
                headers={"retry-after": "7"},
                error={"message": "quota", "type": "requests", "code": "insufficient_quota"},
            ),
            openai.RateLimitError,
            429,
            "rate_limit_exceeded",
        ),
        (Reply(status=400), openai.BadRequestError, 400, "upstream_bad_request"),
        (
            Reply(
                status=400,
                error={
                    "message": "maximum context length is 8192 tokens",
                    "type": "invalid_request_error",
                    "code": "context_length_exceeded",
                },
            ),
            openai.BadRequestError,
            400,
            "context_length_exceeded",
        ),
        (Reply(status=401), openai.InternalServerError, 502, "upstream_auth"),
        (Reply(status=503), openai.InternalServerError, 502, "upstream_error"),
    ],
)
@pytest.mark.parametrize("stream", [False, True])
def test_upstream_errors_map_to_openai_statuses(
    start, upstream, reply, error, status, code, stream
):
    run = start()
    key = run.new_key(run.user())
    # The client retries 429 and 5xx itself: queue enough for its attempts.
    upstream.queue(*[reply] * 4)
    with pytest.raises(error) as failed:
        client(run, key).chat.completions.create(
            model="fake-gpt", messages=[{"role": "user", "content": "x"}], stream=stream
        )
    assert failed.value.status_code == status
    assert failed.value.code == code
    # The user reads our words, never the provider's (which may hold internals).
    assert "8192" not in failed.value.message and "Incorrect" not in failed.value.message
    if status == 429:
        assert failed.value.response.headers["retry-after"] == "7"


def test_mid_stream_failure_is_an_error_event(start, upstream):
    run = start()
    key = run.new_key(run.user())
    upstream.queue(Reply(text="abcdefghijkl", chunk_chars=2, fault="drop", fault_after=2))
    stream = client(run, key).chat.completions.create(
        model="fake-gpt", messages=[{"role": "user", "content": "x"}], stream=True
    )
    got = []
    with pytest.raises(openai.APIError) as failed:
        for chunk in stream:
            if chunk.choices:
                got.append(chunk.choices[0].delta.content or "")
    assert "".join(got) == "abcd"
    # The user's text, in 中文 by default, told as a cut answer (not "could not connect").
    assert failed.value.message == "与模型服务的连接中途断开了，已保留收到的部分。"
