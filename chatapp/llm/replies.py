"""What a successful OpenAI-compatible reply says, read without I/O: stream chunks, completions
and usage. Failures are read by `failures.py` (re-exported here for the callers that read both).

Where a reply carries its parts, across providers:

    answer text     delta.content / message.content
    reasoning       delta.reasoning_content (DeepSeek, Qwen, Kimi), delta.reasoning (OpenRouter,
                    vLLM), or a `<think>` block opening the content (split by `think.py`)
    refusal         delta.refusal / message.refusal (OpenAI)
    tool calls      delta.tool_calls / message.tool_calls (we offer no tools: only noticed)
    usage           usage, with completion_tokens_details.reasoning_tokens
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx

from .errors import LLMMalformedError, LLMServerError
from .failures import (
    Secrets,
    body_error,
    error_class,
    error_fields,
    http_error,
    redirect_error,
    retry_after_seconds,
    transport_error,
)
from .sse import ServerSentEvent
from .think import split_think
from .types import (
    ChatResult,
    ReasoningDelta,
    RefusalDelta,
    StreamDone,
    StreamEvent,
    TextDelta,
    Usage,
)

__all__ = [
    "Chunk",
    "Secrets",
    "body_error",
    "error_class",
    "error_fields",
    "http_error",
    "json_reply_as_stream",
    "list_field",
    "parse_chunk",
    "parse_completion",
    "parse_usage",
    "redirect_error",
    "retry_after_seconds",
    "transport_error",
]


@dataclass(slots=True)
class Chunk:
    """What one stream chunk says; None fields were not in it.

    Not frozen: a frozen dataclass takes several times longer to build, once per chunk.
    """

    text: str = ""
    model: str | None = None
    usage: Usage | None = None
    finish_reason: str | None = None
    reasoning: str = ""
    refusal: str = ""
    tool_calls: bool = False


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _reasoning(part: dict[str, Any]) -> str:
    """The reasoning of a delta or message: `reasoning_content`, else `reasoning`."""
    return _text(part.get("reasoning_content")) or _text(part.get("reasoning"))


# -- successful replies ----------------------------------------------------------------------


def parse_usage(raw: Any) -> Usage | None:
    """Token counts from a `usage` object (None when absent); a count that is not an integer
    reads as 0, a missing total as prompt + completion. Reasoning tokens are part of the
    completion tokens (`completion_tokens_details.reasoning_tokens`)."""
    if not isinstance(raw, dict):
        return None

    def number(key: str) -> int:
        value = raw.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else 0

    prompt, completion = number("prompt_tokens"), number("completion_tokens")
    details = raw.get("completion_tokens_details")
    reasoning = details.get("reasoning_tokens") if isinstance(details, dict) else None
    if not isinstance(reasoning, int) or isinstance(reasoning, bool):
        reasoning = 0
    return Usage(prompt, completion, number("total_tokens") or prompt + completion, reasoning)


def parse_chunk(
    sse: ServerSentEvent,
    *,
    request_id: str | None,
    headers: httpx.Headers,
    secrets: Secrets,
) -> Chunk:
    """Reads one stream event (its data is one JSON chunk; `[DONE]` is the caller's to handle).

    Only choice index 0 is read: n=1 is all the client asks for, and other indexes would
    interleave unrelated answers.

    Args:
        sse: The event to read.
        request_id: The response's `x-request-id`, for errors.
        headers: The response headers (a `Retry-After` on an error event).
        secrets: Keys to scrub from error texts.

    Raises:
        LLMMalformedError: The data is not a JSON object, or `choices` is not a list.
        LLMError: The chunk is an error (`{"error": ...}` or an `error` event). Its
            `partial_text` is the caller's to set: only the caller knows the answer so far.
    """
    try:
        obj = json.loads(sse.data)
    except ValueError:
        if sse.event == "error":
            raise LLMServerError(
                "the provider sent an error event",
                provider_message=sse.data,
                request_id=request_id,
                secrets=secrets,
            ) from None
        raise LLMMalformedError(
            "a stream chunk is not JSON",
            request_id=request_id,
            secrets=secrets,
        ) from None
    if not isinstance(obj, dict):
        raise LLMMalformedError("a stream chunk is not a JSON object", request_id=request_id)
    if obj.get("error") or sse.event == "error":
        raise body_error(obj, None, headers, secrets)
    choices = obj.get("choices") or []
    if not isinstance(choices, list):
        raise LLMMalformedError("`choices` is not a list", request_id=request_id)
    out = Chunk()
    for choice in choices:
        if not isinstance(choice, dict) or choice.get("index", 0) != 0:
            continue
        delta = choice.get("delta")
        if isinstance(delta, dict):
            out.text += _text(delta.get("content"))
            out.reasoning += _reasoning(delta)
            out.refusal += _text(delta.get("refusal"))
            out.tool_calls = out.tool_calls or bool(delta.get("tool_calls"))
            out.tool_calls = out.tool_calls or bool(delta.get("function_call"))
        reason = choice.get("finish_reason")
        if isinstance(reason, str) and reason:
            out.finish_reason = reason
    model = obj.get("model")
    out.model = model if isinstance(model, str) else None
    out.usage = parse_usage(obj.get("usage"))
    return out


def parse_completion(data: Any, request_id: str | None, secrets: Secrets) -> ChatResult:
    """The answer of a non-streamed chat completion (its first choice).

    Raises:
        LLMMalformedError: The reply has no choices.
    """
    choices = data.get("choices") if isinstance(data, dict) else None
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise LLMMalformedError("the reply has no choices", request_id=request_id, secrets=secrets)
    message = choices[0].get("message")
    message = message if isinstance(message, dict) else {}
    reasoning = _reasoning(message)
    text = _text(message.get("content"))
    if not reasoning:
        reasoning, text = split_think(text)
    reason = choices[0].get("finish_reason")
    model = data.get("model")
    return ChatResult(
        text=text,
        finish_reason=reason if isinstance(reason, str) else None,
        usage=parse_usage(data.get("usage")),
        model=model if isinstance(model, str) else None,
        request_id=request_id,
        reasoning=reasoning,
        refusal=_text(message.get("refusal")),
        tool_calls=bool(message.get("tool_calls") or message.get("function_call")),
    )


def json_reply_as_stream(
    raw: bytes, request_id: str | None, response: httpx.Response, secrets: Secrets
) -> list[StreamEvent]:
    """A JSON completion sent in answer to a streaming request, as the events a stream yields:
    its reasoning, refusal and text (each only when not empty), then `StreamDone`.

    Raises:
        LLMMalformedError: The body is not JSON, or has no choices.
        LLMError: The body is an error.
    """
    try:
        data = json.loads(raw)
    except ValueError:
        raise LLMMalformedError(
            "the reply is neither an event stream nor JSON",
            status=response.status_code,
            request_id=request_id,
            secrets=secrets,
        ) from None
    if isinstance(data, dict) and data.get("error"):
        raise body_error(data, None, response.headers, secrets)
    result = parse_completion(data, request_id, secrets)
    events: list[StreamEvent] = []
    if result.reasoning:
        events.append(ReasoningDelta(result.reasoning))
    if result.refusal:
        events.append(RefusalDelta(result.refusal))
    if result.text:
        events.append(TextDelta(result.text))
    events.append(
        StreamDone(result.finish_reason, result.usage, result.model, request_id, result.tool_calls)
    )
    return events


def list_field(data: Any, path: str, secrets: Secrets) -> list[Any]:
    """The `data` list of a list reply (models, embeddings, images).

    Raises:
        LLMMalformedError: There is no such list.
    """
    items = data.get("data") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise LLMMalformedError(f"the {path} reply has no `data` list", secrets=secrets)
    return items
