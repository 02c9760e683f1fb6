"""OpenAI's shapes (pure): the upstream error table, SSE framing, usage with and without the
provider's counts, reasoning in a whole completion."""

from __future__ import annotations

import json

import pytest

from chatapp.api.openai_frames import ChunkWriter, completion, upstream_error, usage_dict
from chatapp.errors import BlockedURL
from chatapp.llm.errors import (
    LLMAuthError,
    LLMConnectionError,
    LLMContextLengthError,
    LLMRateLimitError,
    LLMServerError,
    LLMTimeoutError,
    LLMTruncatedError,
)
from chatapp.llm.types import Usage


@pytest.mark.parametrize(
    ("exc", "status", "type_", "code"),
    [
        (
            LLMRateLimitError("x", status=429, retry_after=2.4),
            429,
            "requests",
            "rate_limit_exceeded",
        ),
        (
            LLMContextLengthError("x", status=400),
            400,
            "invalid_request_error",
            "context_length_exceeded",
        ),
        (BlockedURL("internal"), 400, "invalid_request_error", "blocked_base_url"),
        (LLMAuthError("x", status=401), 502, "api_error", "upstream_auth"),
        (LLMTimeoutError("x", phase="first_byte"), 504, "api_error", "upstream_timeout"),
        (LLMServerError("x", status=500), 502, "api_error", "upstream_error"),
        (LLMConnectionError("x"), 502, "api_error", "upstream_error"),
        (LLMTruncatedError("x"), 502, "api_error", "upstream_error"),
        (RuntimeError("a bug"), 502, "api_error", "upstream_error"),
    ],
)
def test_upstream_error_table(exc, status, type_, code):
    got_status, body, headers = upstream_error(exc, "en")
    assert (got_status, body["error"]["type"], body["error"]["code"]) == (status, type_, code)
    assert body["error"]["message"] != "x" and "a bug" not in body["error"]["message"]
    if status == 429:
        assert headers == {"Retry-After": "2"}


def test_mid_stream_connection_reads_as_a_cut_answer():
    _status, body, _ = upstream_error(LLMConnectionError("x"), "zh", mid_stream=True)
    assert "中途断开" in body["error"]["message"]


def test_chunks_share_id_and_carry_usage_only_when_asked():
    plain = ChunkWriter(model="m", include_usage=False)
    frames = [
        plain.delta(role="assistant", content=""),
        plain.delta(content="你好"),
        plain.finish(None),
    ]
    decoded = [json.loads(f.decode()[6:]) for f in frames]
    assert all(f.decode().startswith("data: ") and f.decode().endswith("\n\n") for f in frames)
    assert {d["id"] for d in decoded} == {plain.id} and all("usage" not in d for d in decoded)
    assert "你好" in frames[1].decode()  # not \\u-escaped, as OpenAI sends it
    assert decoded[2]["choices"][0] == {
        "index": 0,
        "delta": {},
        "logprobs": None,
        "finish_reason": "stop",
    }
    counted = ChunkWriter(model="m", include_usage=True)
    assert json.loads(counted.delta(reasoning_content="r").decode()[6:])["usage"] is None
    last = json.loads(counted.usage({"prompt_tokens": 1}).decode()[6:])
    assert last["choices"] == [] and last["usage"] == {"prompt_tokens": 1}


def test_usage_from_the_provider_or_estimated():
    assert usage_dict(Usage(3, 4, 0), prompt_chars=0, completion_chars=0) == {
        "prompt_tokens": 3,
        "completion_tokens": 4,
        "total_tokens": 7,
    }
    assert usage_dict(None, prompt_chars=9, completion_chars=4) == {
        "prompt_tokens": 3,
        "completion_tokens": 1,
        "total_tokens": 4,
    }


def test_reasoning_in_a_whole_completion():
    with_reasoning = completion(
        id_="c", model="m", text="a", reasoning="r", finish_reason=None, usage={}
    )
    assert with_reasoning["choices"][0]["message"]["reasoning_content"] == "r"
    assert with_reasoning["choices"][0]["finish_reason"] == "stop"
    without = completion(
        id_="c", model="m", text="a", reasoning="", finish_reason="length", usage={}
    )
    assert "reasoning_content" not in without["choices"][0]["message"]
