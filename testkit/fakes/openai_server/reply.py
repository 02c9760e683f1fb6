"""What the fake answers to one request (`Reply`) and what it recorded (`RecordedRequest`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

# Stream faults, see the package docstring.
Fault = Literal["drop", "truncate", "stall", "malformed", "error_in_stream"]
# Where the reasoning goes: DeepSeek/Qwen/Kimi's field, OpenRouter/vLLM's, or `<think>` tags
# inside `content` (local R1-style models).
ReasoningField = Literal["reasoning_content", "reasoning", "think"]
# The body of a 200 reply to a streaming request: a proper event stream; an empty one (llama.cpp
# with a prompt over its context); one JSON object under an event-stream content type (an error
# or a completion, as some proxies send them); a JSON completion (a proxy ignoring `stream`).
Body = Literal["sse", "empty", "json_in_sse", "json"]


@dataclass
class Reply:
    """What the fake answers to one request.

    Attributes:
        text: The answer; None echoes the last user message.
        chunk_chars: Characters (not bytes) per streamed content chunk.
        chunks_per_s: Pace of content chunks; 0 sends them as fast as possible.
        finish_reason: Sent on the final chunk (None: no finish_reason, but still [DONE]).
        usage: Send a usage chunk (`choices: []`) before [DONE], and usage when not streaming.
        fault: A stream fault, see the package docstring.
        fault_after: Content chunks sent before the fault strikes.
        stall_s: How long a "stall" lasts before the stream carries on.
        status: HTTP status; >= 400 answers with an error body instead of a completion.
        headers: Extra response headers (e.g. {"retry-after": "1"}).
        error: The error object (or a plain text body) for `status`, "error_in_stream" and a
            `json_in_sse` body.
        first_byte_delay_s: Wait this long before answering at all.
        model: The model named in the reply (default: the requested one).
        ensure_ascii: JSON-escape non-ASCII (emoji become \\ud83d\\ude00 surrogate pairs).
        reasoning: Reasoning streamed before the answer (chunked like the text).
        reasoning_field: Where the reasoning goes (see `ReasoningField`).
        refusal: A refusal streamed as `delta.refusal` (the text is usually "" then).
        tool_call: Ask for a tool call (`delta.tool_calls`), finishing with "tool_calls".
        body: The shape of a 200 streamed reply (see `Body`).
        image_url: Answer an image request with a URL even when `b64_json` was asked for (as
            providers that ignore `response_format` do).
    """

    text: str | None = None
    chunk_chars: int = 4
    chunks_per_s: float = 0
    finish_reason: str | None = "stop"
    usage: bool = True
    fault: Fault | None = None
    fault_after: int = 1
    stall_s: float = 30.0
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    error: dict[str, Any] | str | None = None
    first_byte_delay_s: float = 0.0
    model: str | None = None
    ensure_ascii: bool = False
    reasoning: str | None = None
    reasoning_field: ReasoningField = "reasoning_content"
    refusal: str | None = None
    tool_call: bool = False
    body: Body = "sse"
    image_url: bool = False


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the fake received it (headers lower-cased)."""

    method: str
    path: str
    headers: dict[str, str]
    json: Any
    at: float
