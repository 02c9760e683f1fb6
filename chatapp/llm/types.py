"""Plain data returned by the LLM client: stream events and results (no behaviour, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Usage:
    """Token counts reported by the provider."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


@dataclass(frozen=True)
class TextDelta:
    """A piece of the answer, in order; never empty."""

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
    """

    finish_reason: str | None
    usage: Usage | None = None
    model: str | None = None
    request_id: str | None = None


StreamEvent = TextDelta | StreamDone


@dataclass(frozen=True)
class ChatResult:
    """A complete (non-streamed) answer."""

    text: str
    finish_reason: str | None
    usage: Usage | None = None
    model: str | None = None
    request_id: str | None = None
