"""What a reply says, as the deltas of a stream or the message of a completion: answer text,
reasoning in each provider's place, refusals and tool calls."""

from __future__ import annotations

import time
from typing import Any

from .reply import Reply
from .wire import pieces, usage

TOOL_CALL = {
    "index": 0,
    "id": "call_fake_1",
    "type": "function",
    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
}


def content_of(reply: Reply, text: str) -> str:
    """The `content` the model writes: with `<think>` tags around the reasoning when it
    reasons inside its content."""
    if reply.reasoning and reply.reasoning_field == "think":
        return f"<think>\n{reply.reasoning}\n</think>\n\n{text}"
    return text


def deltas(reply: Reply, text: str) -> list[dict[str, Any]]:
    """The stream's deltas after the role chunk, in order; each counts as one chunk for
    `fault_after` and pacing."""
    out: list[dict[str, Any]] = []
    if reply.reasoning and reply.reasoning_field != "think":
        field = reply.reasoning_field
        out += [{"content": None, field: p} for p in pieces(reply.reasoning, reply.chunk_chars)]
    if reply.refusal:
        out += [{"content": None, "refusal": p} for p in pieces(reply.refusal, reply.chunk_chars)]
    out += [{"content": p} for p in pieces(content_of(reply, text), reply.chunk_chars)]
    if reply.tool_call:
        out.append({"content": None, "tool_calls": [TOOL_CALL]})
    return out


def finish_reason(reply: Reply) -> str | None:
    """The reason the last chunk names."""
    if reply.tool_call and reply.finish_reason == "stop":
        return "tool_calls"
    return reply.finish_reason


def completion_usage(reply: Reply, body: dict[str, Any], text: str) -> dict[str, Any]:
    """Usage of the whole reply: one token per chunk, reasoning tokens apart."""
    answer = len(pieces(content_of(reply, text), reply.chunk_chars)) if text else 0
    reasoning = len(pieces(reply.reasoning, reply.chunk_chars)) if reply.reasoning else 0
    return usage(body, answer, reasoning)


def completion(reply: Reply, text: str, model: str, body: dict[str, Any]) -> dict[str, Any]:
    """A non-streamed chat completion."""
    message: dict[str, Any] = {"role": "assistant", "content": content_of(reply, text)}
    if reply.reasoning and reply.reasoning_field != "think":
        message[reply.reasoning_field] = reply.reasoning
    if reply.refusal:
        message["refusal"] = reply.refusal
    if reply.tool_call:
        message["tool_calls"] = [{k: v for k, v in TOOL_CALL.items() if k != "index"}]
    data: dict[str, Any] = {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason(reply)}],
    }
    if reply.usage:
        data["usage"] = completion_usage(reply, body, text)
    return data
