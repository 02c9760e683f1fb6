"""The web app's limits on open API calls (`chatapp.api.admission`): the sends-per-minute
window shared with the page, answers at once, the reply-length ceiling and default; and a
caller that goes away stops the model call and frees its slot."""

from __future__ import annotations

import asyncio
import time

import httpx
from fastapi import FastAPI
from limits.aio.storage import MemoryStorage
from sqlmodel import Session

from chatapp.api.open_api_settings import OpenApiSettings
from chatapp.api.openai_compat import add_open_api_routes
from chatapp.auth import api_keys
from chatapp.chat.spend import SendRateGuard
from chatapp.core.config import set_settings
from chatapp.models import User
from testkit.fakes.openai_server import Reply
from testkit.net import serve
from tests.api.conftest import api_settings

ASK = {"model": "fake-gpt", "messages": [{"role": "user", "content": "hi"}]}


def test_sends_per_minute_are_shared_with_the_chat_page(tmp_path, engine, upstream):
    settings = api_settings(tmp_path, upstream, CHAT_SENDS_PER_MINUTE="3")
    set_settings(settings)
    with Session(engine, expire_on_commit=False) as s:
        user = User(openid="o_rate")
        s.add(user)
        s.commit()
        assert user.id is not None
        _row, key = api_keys.create_key(s, user_id=user.id, name="k")
        s.commit()
    guard = SendRateGuard(MemoryStorage(), settings.sends_per_minute)
    app = FastAPI()
    add_open_api_routes(app, settings, OpenApiSettings(), send_guard=guard)
    # Two sends on the page (the same guard every send handler uses)…
    for _ in range(2):
        asyncio.run(guard.hit(user.id))
    try:
        with serve(app) as base:
            url, auth = base + "/v1/chat/completions", {"Authorization": f"Bearer {key}"}
            assert httpx.post(url, json=ASK, headers=auth).status_code == 200
            # …and one call: the fourth send in the minute is refused with the page's words.
            refused = httpx.post(url, json=ASK, headers=auth)
    finally:
        set_settings(None)
    assert refused.status_code == 429
    error = refused.json()["error"]
    assert error["code"] == "rate_limit_exceeded" and "每人每分钟最多 3 次" in error["message"]
    assert int(refused.headers["retry-after"]) >= 1


def test_answers_at_once_and_a_caller_who_leaves(start, upstream):
    run = start(CHAT_MAX_CONCURRENT_ANSWERS="1")
    key = run.new_key(run.user())
    url, auth = run.v1 + "/chat/completions", {"Authorization": f"Bearer {key}"}
    upstream.queue(Reply(text="slow " * 200, chunk_chars=5, chunks_per_s=20))
    with httpx.stream("POST", url, json={**ASK, "stream": True}, headers=auth) as first:
        assert first.status_code == 200
        chunks = first.iter_bytes()  # kept: a dropped iterator closes the response
        next(chunks)
        second = httpx.post(url, json=ASK, headers=auth)
        assert second.status_code == 429
        assert second.json()["error"]["code"] == "too_many_answers"
        assert "每人最多 1 个" in second.json()["error"]["message"]
    # Leaving mid-answer closes the upstream request and frees the slot.
    assert upstream.wait_for(lambda: upstream.disconnects == 1, timeout=10)
    deadline = time.monotonic() + 5
    while True:
        third = httpx.post(url, json=ASK, headers=auth)
        if third.status_code == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert third.status_code == 200, third.text


def test_reply_length_default_and_ceiling(start, upstream):
    run = start(CHAT_DEFAULT_REPLY_TOKENS="300", CHAT_MAX_REPLY_TOKENS="1000")
    key = run.new_key(run.user())
    url, auth = run.v1 + "/chat/completions", {"Authorization": f"Bearer {key}"}
    assert httpx.post(url, json=ASK, headers=auth).status_code == 200
    assert upstream.requests[-1].json["max_tokens"] == 300
    assert httpx.post(url, json={**ASK, "max_tokens": 1000}, headers=auth).status_code == 200
    assert upstream.requests[-1].json["max_tokens"] == 1000
    over = httpx.post(
        url, json={**ASK, "max_tokens": 1001}, headers={**auth, "Accept-Language": "en"}
    )
    assert over.status_code == 400 and over.json()["error"]["param"] == "max_tokens"
    assert over.json()["error"]["message"] == "Parameter max_tokens must be from 1 to 1000."
