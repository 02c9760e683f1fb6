"""The request subset, table-driven (pure), and the open API's settings."""

from __future__ import annotations

import pytest

from chatapp.api.open_api_settings import load_open_api_settings
from chatapp.api.openai_request import ApiInvalid, parse_request
from chatapp.errors import ConfigError

BASE = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}


@pytest.mark.parametrize(
    ("extra", "params"),
    [
        ({}, {}),
        ({"temperature": 0, "top_p": 1}, {"temperature": 0.0, "top_p": 1.0}),
        ({"max_tokens": 10}, {"max_tokens": 10}),
        ({"max_tokens": 10, "max_completion_tokens": 20}, {"max_tokens": 20}),
        ({"max_tokens": 12.0}, {"max_tokens": 12}),
        ({"stop": "x"}, {"stop": "x"}),
        ({"stop": ["a", "b"]}, {"stop": ["a", "b"]}),
        ({"user": "u1"}, {"user": "u1"}),
        ({"n": 3, "tools": [], "presence_penalty": 1, "logprobs": True}, {}),
        ({"temperature": None, "stop": None}, {}),
    ],
)
def test_accepted(extra, params):
    assert parse_request({**BASE, **extra}).params == params


def test_messages_roles_and_parts():
    req = parse_request(
        {
            "model": " m ",
            "messages": [
                {"role": "developer", "content": "rules"},
                {
                    "role": "user",
                    "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}],
                },
                {"role": "assistant", "content": "", "name": "ignored"},
            ],
            "stream": True,
            "stream_options": {"include_usage": True},
        }
    )
    assert req.model == "m" and req.stream and req.include_usage
    assert req.messages == [
        {"role": "system", "content": "rules"},
        {"role": "user", "content": "ab"},
        {"role": "assistant", "content": ""},
    ]


@pytest.mark.parametrize(
    ("body", "param", "reason"),
    [
        ([], None, "not_object"),
        ({"messages": BASE["messages"]}, "model", "required"),
        ({**BASE, "model": 5}, "model", "type"),
        ({**BASE, "model": "  "}, "model", "type"),
        ({"model": "m", "messages": "hi"}, "messages", "type"),
        ({"model": "m", "messages": ["hi"]}, "messages[0]", "type"),
        ({"model": "m", "messages": [{"role": "user"}]}, "messages[0].content", "required"),
        (
            {"model": "m", "messages": [{"role": "user", "content": 3}]},
            "messages[0].content",
            "content",
        ),
        ({**BASE, "stream_options": True}, "stream_options", "type"),
        ({**BASE, "stream_options": {"include_usage": 1}}, "stream_options.include_usage", "type"),
        ({**BASE, "temperature": True}, "temperature", "type"),
        ({**BASE, "temperature": float("nan")}, "temperature", "range"),
        ({**BASE, "top_p": -0.1}, "top_p", "range"),
        ({**BASE, "max_tokens": 1.5}, "max_tokens", "type"),
        ({**BASE, "max_completion_tokens": -1}, "max_completion_tokens", "minimum"),
        ({**BASE, "stop": [1]}, "stop", "type"),
        ({**BASE, "user": "u" * 257}, "user", "type"),
    ],
)
def test_refused(body, param, reason):
    with pytest.raises(ApiInvalid) as bad:
        parse_request(body)
    assert (bad.value.param, bad.value.reason) == (param, reason)


def test_settings():
    assert load_open_api_settings({}).cors_origins == ()
    loaded = load_open_api_settings(
        {
            "API_CORS_ORIGINS": "https://a.example/, http://b.example",
            "API_KEY_REQUESTS_PER_MINUTE": "0",
        }
    )
    assert loaded.cors_origins == ("https://a.example", "http://b.example")
    assert loaded.key_requests_per_minute == 0
    for env in (
        {"API_MAX_BODY_BYTES": "10"},
        {"API_MAX_BODY_BYTES": "lots"},
        {"API_CORS_ORIGINS": "tools.example"},
        {"API_KEY_REQUESTS_PER_MINUTE": "-1"},
    ):
        with pytest.raises(ConfigError):
            load_open_api_settings(env)
