"""Plain data returned by the LLM client: stream events and results (no behaviour, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Usage:
    """Token counts reported by the provider."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    # Of completion_tokens, those spent reasoning (`completion_tokens_details.reasoning_tokens`).
    reasoning_tokens: int = 0


@dataclass(frozen=True)
class TextDelta:
    """A piece of the answer, in order; never empty."""

    text: str


@dataclass(frozen=True)
class ReasoningDelta:
    """A piece of the model's reasoning ("thinking"), kept apart from the answer; never empty.

    From `delta.reasoning_content` (DeepSeek, Qwen, Kimi), `delta.reasoning` (OpenRouter, vLLM)
    or a `<think>` block that opens `content` (local R1-style models).
    """

    text: str


@dataclass(frozen=True)
class RefusalDelta:
    """A piece of a refusal (`delta.refusal`): the model declined, and says why; never empty."""

    text: str


@dataclass(frozen=True)
class StreamDone:
    """The last event of a successful stream.

    Attributes:
        finish_reason: "stop", "length", "content_filter"...; None when the provider sent
            `[DONE]` without ever naming a reason.
        usage: Token counts, when the provider reported them.
        model: The model that answered, as the provider named it.
        request_id: The `x-request-id` response header, when present.
        tool_calls: The model asked to call tools (`delta.tool_calls`), whatever the reason said.
    """

    finish_reason: str | None
    usage: Usage | None = None
    model: str | None = None
    request_id: str | None = None
    tool_calls: bool = False


StreamEvent = TextDelta | ReasoningDelta | RefusalDelta | StreamDone


@dataclass(frozen=True)
class ChatResult:
    """A complete (non-streamed) answer."""

    text: str
    finish_reason: str | None
    usage: Usage | None = None
    model: str | None = None
    request_id: str | None = None
    reasoning: str = ""
    refusal: str = ""
    tool_calls: bool = False
