"""What the open API answers, in OpenAI's shapes (pure): errors, completions, stream chunks and
their SSE framing.

Errors are `{"error": {"message", "type", "param", "code"}}` with OpenAI's statuses, so the
official clients raise the matching exception (`AuthenticationError`, `BadRequestError`,
`RateLimitError`, `NotFoundError`, `APIStatusError` …). An upstream failure maps by its kind:

| upstream (`LLMError.kind`)   | status | type                  | code                    |
|------------------------------|--------|-----------------------|-------------------------|
| rate_limit                   | 429    | requests              | rate_limit_exceeded     |
| bad_request                  | 400    | invalid_request_error | upstream_bad_request    |
| context_length               | 400    | invalid_request_error | context_length_exceeded |
| blocked_base_url             | 400    | invalid_request_error | blocked_base_url        |
| auth (the deployment's key)  | 502    | api_error             | upstream_auth           |
| timeout                      | 504    | api_error             | upstream_timeout        |
| anything else                | 502    | api_error             | upstream_error          |

An upstream 401 is the operator's problem, not the caller's key: answering it 401 would make a
client drop a key that works. The message is the user's text (`chatapp.errors.user_message`),
never the provider's wording.

A stream is framed as OpenAI frames it: `data: <json>\\n\\n` per chunk, the role first, the
finish reason on a chunk with an empty delta, with `stream_options.include_usage` a last chunk
with `choices: []` and the usage (every other chunk carries `"usage": null`), then
`data: [DONE]`. A failure after the first chunk is one `data: {"error": …}` event, and no
`[DONE]` (the official client raises on it).
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

from chatapp.errors import error_code, user_message
from chatapp.i18n import translate
from chatapp.llm.types import Usage

DONE = b"data: [DONE]\n\n"

_UPSTREAM: dict[str, tuple[int, str, str]] = {
    "rate_limit": (429, "requests", "rate_limit_exceeded"),
    "bad_request": (400, "invalid_request_error", "upstream_bad_request"),
    "context_length": (400, "invalid_request_error", "context_length_exceeded"),
    "blocked_base_url": (400, "invalid_request_error", "blocked_base_url"),
    "auth": (502, "api_error", "upstream_auth"),
    "timeout": (504, "api_error", "upstream_timeout"),
}
_OTHER = (502, "api_error", "upstream_error")
_MID_STREAM = {"connection": "connection_lost", "timeout": "stalled"}


def api_text(reason: str, lang: str, **values: str) -> str:
    """The open API's message `api.error.<reason>` in `lang`, placeholders filled."""
    text = translate(f"api.error.{reason}", lang)
    for name, value in values.items():
        text = text.replace("{" + name + "}", value)
    return text


def error_body(
    message: str, *, type_: str, param: str | None = None, code: str | None = None
) -> dict[str, Any]:
    """OpenAI's error object."""
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def upstream_error(
    exc: BaseException, lang: str, *, mid_stream: bool = False
) -> tuple[int, dict[str, Any], dict[str, str]]:
    """(status, body, headers) for a failed upstream call (see the module's table).
    `mid_stream`: text had arrived, so "could not connect" would be the wrong story (the chat
    page's answers say the same)."""
    kind = error_code(exc)
    if mid_stream:
        kind = _MID_STREAM.get(kind, kind)
    status, type_, code = _UPSTREAM.get(kind, _OTHER)
    headers: dict[str, str] = {}
    retry_after = getattr(exc, "retry_after", None)
    if status == 429 and retry_after:
        headers["Retry-After"] = str(max(1, round(retry_after)))
    return status, error_body(user_message(kind, lang), type_=type_, code=code), headers


def completion_id() -> str:
    """A fresh `chatcmpl-…` id."""
    return "chatcmpl-" + secrets.token_urlsafe(18)


def usage_dict(usage: Usage | None, *, prompt_chars: int, completion_chars: int) -> dict[str, int]:
    """The usage object: the provider's counts, else an estimate (about 4 characters a token;
    some providers send no usage when streaming)."""
    if usage is None:
        prompt = -(-prompt_chars // 4)
        completion = -(-completion_chars // 4)
        return {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }
    total = usage.total_tokens or usage.prompt_tokens + usage.completion_tokens
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": total,
    }


def completion(
    *,
    id_: str,
    model: str,
    text: str,
    reasoning: str,
    finish_reason: str | None,
    usage: dict[str, int],
) -> dict[str, Any]:
    """A whole (non-streamed) `chat.completion`."""
    message: dict[str, Any] = {"role": "assistant", "content": text, "refusal": None}
    if reasoning:
        message["reasoning_content"] = reasoning
    return {
        "id": id_,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": finish_reason or "stop",
            }
        ],
        "usage": usage,
        "system_fingerprint": None,
    }


class ChunkWriter:
    """Frames one streamed answer's chunks (same id and timestamp on each, as OpenAI does)."""

    def __init__(self, *, model: str, include_usage: bool) -> None:
        self.id = completion_id()
        self.created = int(time.time())
        self.model = model
        self.include_usage = include_usage

    def _chunk(self, choices: list[dict[str, Any]], **extra: Any) -> bytes:
        body: dict[str, Any] = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "system_fingerprint": None,
            "choices": choices,
        }
        if self.include_usage:
            body["usage"] = None
        body.update(extra)
        return sse(body)

    def delta(self, **delta: Any) -> bytes:
        """A chunk carrying `delta` (role, content or reasoning_content)."""
        return self._chunk([{"index": 0, "delta": delta, "logprobs": None, "finish_reason": None}])

    def finish(self, finish_reason: str | None) -> bytes:
        """The chunk naming why the answer ended."""
        return self._chunk(
            [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": finish_reason or "stop"}]
        )

    def usage(self, usage: dict[str, int]) -> bytes:
        """The last chunk when the client asked for usage."""
        return self._chunk([], usage=usage)


def sse(obj: Any) -> bytes:
    """One SSE event holding `obj` as JSON (non-ASCII kept as is, as OpenAI sends it)."""
    return b"data: " + json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode() + b"\n\n"
