"""The original project's endpoint over HTTP: raw session JWT, raw text chunks, `0003`."""

from __future__ import annotations

import httpx

from testkit.fakes.openai_server import Reply

PATH = "/api/v1/chatgpt/chat/completions"
BODY = {"model": "gpt-3.5-turbo", "messages": [{"role": "user", "content": "写一首诗"}]}


def test_streams_raw_text_with_the_raw_token(start, upstream):
    run = start()
    token = run.user()
    upstream.queue(Reply(text="床前明月光，疑是地上霜。", chunk_chars=2, chunks_per_s=50))
    with httpx.stream(
        "POST", run.base_url + PATH, json=BODY, headers={"Authorization": token}
    ) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        pieces = [c for c in r.iter_text() if c]
    assert "".join(pieces) == "床前明月光，疑是地上霜。"
    assert len(pieces) > 1  # it streams
    # The page's fixed model list: a model this deployment lacks is answered by its default.
    assert upstream.requests[-1].json["model"] == "fake-gpt"
    assert upstream.requests[-1].json["messages"] == BODY["messages"]


def test_bad_tokens_answer_0003(start):
    run = start()
    token = run.user()
    for auth in ("", "nonsense", f"Bearer {token}x", token[:-2]):
        reply = httpx.post(run.base_url + PATH, json=BODY, headers={"Authorization": auth})
        assert (reply.status_code, reply.text) == (200, "0003")


def test_bad_bodies_and_upstream_failures_read_as_text(start, upstream):
    run = start()
    token = run.user()
    auth = {"Authorization": token, "Accept-Language": "en"}
    empty = httpx.post(run.base_url + PATH, json={"model": "x", "messages": []}, headers=auth)
    assert empty.status_code == 400 and empty.text.startswith("messages must not be empty")
    upstream.queue(Reply(text="abcdefgh", chunk_chars=2, fault="drop", fault_after=2))
    cut = httpx.post(run.base_url + PATH, json=BODY, headers=auth)
    assert cut.text.startswith("abcd\n\n") and "dropped mid-answer" in cut.text
