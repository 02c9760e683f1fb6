"""The pure reading of replies: status and body -> error class, Retry-After forms, chunk shapes,
completions, usage and transport failures."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from chatapp.llm import (
    LLMAuthError,
    LLMBadRequestError,
    LLMConnectionError,
    LLMContextLengthError,
    LLMError,
    LLMMalformedError,
    LLMRateLimitError,
    LLMServerError,
    LLMTimeoutError,
    StreamDone,
    TextDelta,
    Usage,
)
from chatapp.llm.replies import (
    Chunk,
    error_class,
    error_fields,
    http_error,
    json_reply_as_stream,
    list_field,
    parse_chunk,
    parse_completion,
    parse_usage,
    redirect_error,
    retry_after_seconds,
    transport_error,
)
from chatapp.llm.sse import ServerSentEvent

KEY = "sk-test-SECRET-0123456789abcdef"
SECRETS = (KEY, None)
NO_HEADERS = httpx.Headers()


def err(message: str | None = None, **fields: Any) -> str:
    body: dict[str, Any] = {k: v for k, v in fields.items() if v is not None}
    if message is not None:
        body["message"] = message
    return json.dumps({"error": body})


# -- status and body -> error class -----------------------------------------------------------

HTTP_ERRORS = [
    # (status, body, class, provider_code)
    (
        400,
        err("bad value", type="invalid_request_error"),
        LLMBadRequestError,
        "invalid_request_error",
    ),
    (404, err("no such model", code="model_not_found"), LLMBadRequestError, "model_not_found"),
    (422, "unprocessable", LLMBadRequestError, None),
    (401, err("Incorrect API key", code="invalid_api_key"), LLMAuthError, "invalid_api_key"),
    (403, "<html>forbidden</html>", LLMAuthError, None),
    (429, err("slow down", code="rate_limit_exceeded"), LLMRateLimitError, "rate_limit_exceeded"),
    (429, err("no balance", code="insufficient_quota"), LLMRateLimitError, "insufficient_quota"),
    (500, err("oops", type="server_error"), LLMServerError, "server_error"),
    (502, "<html>Bad Gateway</html>", LLMServerError, None),
    (503, "", LLMServerError, None),
    (
        400,
        err("x", code="context_length_exceeded"),
        LLMContextLengthError,
        "context_length_exceeded",
    ),
    (400, err("This model's maximum context length is 8192 tokens"), LLMContextLengthError, None),
    (413, "prompt is too long", LLMContextLengthError, None),
    # Context wording in a 5xx is a server failure, not the user's prompt.
    (500, err("context window exceeded while loading"), LLMServerError, None),
]


@pytest.mark.parametrize(("status", "text", "cls", "code"), HTTP_ERRORS)
def test_http_status_and_body_map_to_a_class(
    status: int, text: str, cls: type[LLMError], code: str | None
) -> None:
    exc = http_error(status, NO_HEADERS, text, SECRETS)
    assert type(exc) is cls
    assert exc.status == status
    assert exc.provider_code == code


ERROR_CLASSES = [
    # (status, codes, message, class): a status wins; codes decide only without one.
    (None, {"invalid_api_key"}, None, LLMAuthError),
    (None, {"permission_error"}, None, LLMAuthError),
    (None, {"rate_limit_error"}, None, LLMRateLimitError),
    (None, {"insufficient_quota"}, None, LLMRateLimitError),
    (None, {"invalid_request_error"}, None, LLMBadRequestError),
    (None, {"not_found_error"}, None, LLMBadRequestError),
    (None, {"context_length_exceeded"}, None, LLMContextLengthError),
    (None, set(), "Please reduce the length of the messages", LLMContextLengthError),
    (None, set(), "something broke", LLMServerError),
    (None, {"whatever"}, None, LLMServerError),
    (500, {"invalid_api_key"}, None, LLMServerError),
    (400, {"rate_limit_error"}, None, LLMBadRequestError),
    (401, set(), "too many tokens", LLMContextLengthError),
    (418, set(), None, LLMBadRequestError),
    (599, set(), None, LLMServerError),
]


@pytest.mark.parametrize(("status", "codes", "message", "cls"), ERROR_CLASSES)
def test_error_class(
    status: int | None, codes: set[str], message: str | None, cls: type[LLMError]
) -> None:
    assert error_class(status, codes, message) is cls


ERROR_FIELDS = [
    # (body, text, (code, message, status))
    ({"error": {"code": "x", "type": "y", "message": "m"}}, "", ("x", "m", None)),
    ({"error": {"type": "y", "message": "m"}}, "", ("y", "m", None)),
    ({"error": {"code": 429, "message": "m"}}, "", ("429", "m", 429)),
    ({"error": {"code": "503", "message": "m"}}, "", ("503", "m", 503)),
    ({"error": {"code": 1234, "message": "m"}}, "", ("1234", "m", None)),
    ({"error": {"status": 401, "message": "m"}}, "", (None, "m", 401)),
    ({"error": {"message": "m"}, "status": 429}, "", (None, "m", 429)),
    ({"error": {"status": True, "message": "m"}}, "", (None, "m", None)),
    ({"error": {"code": "bad", "type": "worse"}}, "", ("bad", "bad worse", None)),
    ({"error": "plain words"}, "", (None, "plain words", None)),
    ({"message": "top level", "code": "c"}, "", ("c", "top level", None)),
    (None, "  <html>down</html>\n", (None, "<html>down</html>", None)),
    (None, "", (None, None, None)),
    ([1, 2], "[1, 2]", (None, "[1, 2]", None)),
]


@pytest.mark.parametrize(("body", "text", "fields"), ERROR_FIELDS)
def test_error_fields(
    body: Any, text: str, fields: tuple[str | None, str | None, int | None]
) -> None:
    assert error_fields(body, text) == fields


def test_error_texts_are_scrubbed_and_carry_the_request_id() -> None:
    headers = httpx.Headers({"x-request-id": "req-1", "retry-after": "3"})
    exc = http_error(401, headers, err(f"Incorrect API key provided: {KEY}"), SECRETS)
    assert KEY not in str(exc) and KEY not in (exc.provider_message or "")
    assert exc.request_id == "req-1" and exc.retry_after == 3.0


# -- Retry-After ------------------------------------------------------------------------------


def http_date(delta_s: float) -> str:
    return format_datetime(datetime.now(UTC) + timedelta(seconds=delta_s), usegmt=True)


RETRY_AFTER = [
    # (headers, expected seconds; None = no wait asked)
    ({}, None),
    ({"retry-after": "7"}, 7.0),
    ({"retry-after": "1.5"}, 1.5),
    ({"retry-after": "0"}, 0.0),
    ({"retry-after": "-3"}, 0.0),
    ({"retry-after": "inf"}, None),
    ({"retry-after": "nan"}, None),
    ({"retry-after": "soon"}, None),
    ({"retry-after": ""}, None),
    ({"retry-after-ms": "250"}, 0.25),
    ({"retry-after-ms": "250", "retry-after": "9"}, 0.25),
    ({"retry-after-ms": "-5"}, 0.0),
    ({"retry-after-ms": "junk", "retry-after": "9"}, 9.0),
    ({"retry-after-ms": "inf", "retry-after": "2"}, 2.0),
    ({"retry-after": http_date(-60)}, 0.0),
    ({"retry-after": "Wed, 21 Oct 2015 07:28:00"}, 0.0),  # no zone: read as UTC, long past
]


@pytest.mark.parametrize(("headers", "seconds"), RETRY_AFTER)
def test_retry_after_forms(headers: dict[str, str], seconds: float | None) -> None:
    assert retry_after_seconds(httpx.Headers(headers)) == seconds


def test_retry_after_http_date_in_the_future() -> None:
    seconds = retry_after_seconds(httpx.Headers({"retry-after": http_date(30)}))
    assert seconds is not None and 25 <= seconds <= 30


# -- stream chunks ----------------------------------------------------------------------------


def event(data: Any, name: str = "") -> ServerSentEvent:
    return ServerSentEvent(data=data if isinstance(data, str) else json.dumps(data), event=name)


def choice(content: Any = None, finish: Any = None, index: Any = 0) -> dict[str, Any]:
    return {"index": index, "delta": {"content": content}, "finish_reason": finish}


CHUNKS = [
    # (data, expected Chunk)
    ({"choices": [choice("Hel")]}, Chunk(text="Hel")),
    ({"choices": [{"index": 0, "delta": {"role": "assistant"}}]}, Chunk()),
    ({"choices": [choice(None, "stop")]}, Chunk(finish_reason="stop")),
    ({"choices": [choice("end", "length")]}, Chunk(text="end", finish_reason="length")),
    ({"choices": [choice("x", "")]}, Chunk(text="x")),
    ({"choices": [choice(42)]}, Chunk()),
    ({"choices": [choice("a"), choice("b")]}, Chunk(text="ab")),
    ({"choices": [choice("other", "stop", index=1)]}, Chunk()),  # n=1: index 1 is not ours
    ({"choices": [{"delta": {"content": "no index"}}]}, Chunk(text="no index")),
    ({"choices": ["junk", None]}, Chunk()),
    ({"choices": [{"index": 0, "delta": "junk"}]}, Chunk()),
    ({"choices": []}, Chunk()),
    ({"choices": None}, Chunk()),
    ({}, Chunk()),
    ({"model": "m-1", "choices": [choice("t")]}, Chunk(text="t", model="m-1")),
    ({"model": 7, "choices": []}, Chunk()),
    (
        {"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 4}},
        Chunk(usage=Usage(3, 4, 7)),
    ),
    ({"choices": [], "usage": None}, Chunk()),
]


@pytest.mark.parametrize(("data", "expected"), CHUNKS)
def test_chunk_shapes(data: dict[str, Any], expected: Chunk) -> None:
    chunk = parse_chunk(event(data), request_id=None, headers=NO_HEADERS, secrets=SECRETS)
    assert chunk == expected


BAD_CHUNKS = [
    # (data, event name, error class, status)
    ("not json", "", LLMMalformedError, None),
    ("[1, 2]", "", LLMMalformedError, None),
    ('"text"', "", LLMMalformedError, None),
    ({"choices": {"index": 0}}, "", LLMMalformedError, None),
    ({"error": {"message": "overloaded", "type": "server_error"}}, "", LLMServerError, None),
    ({"error": {"message": "slow", "code": 429}}, "", LLMRateLimitError, 429),
    (
        {"error": {"message": "too long", "code": "context_length_exceeded"}},
        "",
        LLMContextLengthError,
        None,
    ),
    ({"error": "plain"}, "", LLMServerError, None),
    ({"message": "boom"}, "error", LLMServerError, None),
    ("upstream exploded", "error", LLMServerError, None),
]


@pytest.mark.parametrize(("data", "name", "cls", "status"), BAD_CHUNKS)
def test_bad_chunks_raise(data: Any, name: str, cls: type[LLMError], status: int | None) -> None:
    with pytest.raises(cls) as info:
        parse_chunk(
            event(data, name),
            request_id="req-9",
            headers=NO_HEADERS,
            secrets=SECRETS,
        )
    assert type(info.value) is cls
    assert info.value.status == status


def test_error_event_text_is_scrubbed() -> None:
    with pytest.raises(LLMServerError) as info:
        parse_chunk(
            event(f"bad key {KEY}", "error"),
            request_id=None,
            headers=NO_HEADERS,
            secrets=SECRETS,
        )
    assert KEY not in str(info.value) and KEY not in (info.value.provider_message or "")


# -- usage, completions, JSON replies to a stream request -------------------------------------

USAGES = [
    (None, None),
    ("12", None),
    ({}, Usage(0, 0, 0)),
    ({"prompt_tokens": 5, "completion_tokens": 7}, Usage(5, 7, 12)),
    ({"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 20}, Usage(5, 7, 20)),
    ({"prompt_tokens": "5", "completion_tokens": 7.0}, Usage(0, 0, 0)),
    ({"prompt_tokens": True, "completion_tokens": 2}, Usage(0, 2, 2)),
]


@pytest.mark.parametrize(("raw", "usage"), USAGES)
def test_usage(raw: Any, usage: Usage | None) -> None:
    assert parse_usage(raw) == usage


def completion(content: Any = "hi", **extra: Any) -> dict[str, Any]:
    message = {"role": "assistant", "content": content}
    return {"choices": [{"index": 0, "message": message, "finish_reason": "stop"}], **extra}


def test_completion() -> None:
    data = completion("hello", model="m-2", usage={"prompt_tokens": 1, "completion_tokens": 2})
    result = parse_completion(data, "req-1", SECRETS)
    assert (result.text, result.finish_reason, result.model) == ("hello", "stop", "m-2")
    assert result.usage == Usage(1, 2, 3) and result.request_id == "req-1"
    assert parse_completion(completion(None), None, SECRETS).text == ""


@pytest.mark.parametrize("data", [None, [], {}, {"choices": []}, {"choices": ["x"]}])
def test_completion_without_choices_is_malformed(data: Any) -> None:
    with pytest.raises(LLMMalformedError):
        parse_completion(data, None, SECRETS)


JSON_REPLIES = [
    # (body, events)
    (completion("whole"), [TextDelta("whole"), StreamDone("stop", None, None, "r")]),
    (completion(""), [StreamDone("stop", None, None, "r")]),
]


@pytest.mark.parametrize(("body", "events"), JSON_REPLIES)
def test_json_reply_as_stream(body: Any, events: list[Any]) -> None:
    response = httpx.Response(200, json=body)
    assert json_reply_as_stream(json.dumps(body).encode(), "r", response, SECRETS) == events


@pytest.mark.parametrize(
    ("raw", "cls"),
    [
        (b"<html>", LLMMalformedError),
        (b'{"choices": []}', LLMMalformedError),
        (b'{"error": {"message": "denied", "code": "invalid_api_key"}}', LLMAuthError),
    ],
)
def test_json_reply_as_stream_failures(raw: bytes, cls: type[LLMError]) -> None:
    with pytest.raises(cls):
        json_reply_as_stream(raw, None, httpx.Response(200, content=raw), SECRETS)


@pytest.mark.parametrize("data", [None, {}, {"data": {"id": "m"}}, {"data": "x"}])
def test_list_field_needs_a_data_list(data: Any) -> None:
    with pytest.raises(LLMMalformedError, match="/models"):
        list_field(data, "/models", SECRETS)
    assert list_field({"data": [1]}, "/models", SECRETS) == [1]


# -- redirects and transport failures ---------------------------------------------------------

REDIRECTS = [
    # (Location, host named)
    ("https://login.example.com/sso?token=abc", "login.example.com"),
    ("http://llm.invalid:8080/v1/chat", "llm.invalid:8080"),
    ("/v2/chat/completions", "llm.invalid"),
    ("", None),
]


@pytest.mark.parametrize(("location", "host"), REDIRECTS)
def test_redirect_names_only_the_host(location: str, host: str | None) -> None:
    headers = {"location": location} if location else {}
    response = httpx.Response(302, headers=headers)
    exc = redirect_error(response, "https://llm.invalid/v1/chat/completions", SECRETS)
    assert exc.location_host == host and exc.status == 302
    assert "token" not in str(exc)


TRANSPORT = [
    # (httpx error, got bytes, class, timeout phase)
    (httpx.ConnectTimeout("t"), False, LLMTimeoutError, "connect"),
    (httpx.PoolTimeout("t"), True, LLMTimeoutError, "connect"),
    (httpx.ReadTimeout("t"), False, LLMTimeoutError, "first_byte"),
    (httpx.ReadTimeout("t"), True, LLMTimeoutError, "idle"),
    (httpx.WriteTimeout("t"), False, LLMTimeoutError, "first_byte"),
    (httpx.DecodingError("gzip"), True, LLMMalformedError, None),
    (httpx.ConnectError("refused"), False, LLMConnectionError, None),
    (httpx.RemoteProtocolError("peer closed"), True, LLMConnectionError, None),
    (httpx.InvalidURL("bad"), False, LLMConnectionError, None),
]


@pytest.mark.parametrize(("exc", "got_bytes", "cls", "phase"), TRANSPORT)
def test_transport_errors(
    exc: Exception, got_bytes: bool, cls: type[LLMError], phase: str | None
) -> None:
    mapped = transport_error(exc, SECRETS, got_bytes=got_bytes, partial_text="p")
    assert type(mapped) is cls
    assert getattr(mapped, "phase", None) == phase


def test_transport_error_text_is_scrubbed() -> None:
    mapped = transport_error(
        httpx.ConnectError(f"to https://x/?key={KEY}"), SECRETS, got_bytes=False
    )
    assert KEY not in str(mapped)
