"""Our small OpenAI-compatible client (httpx + our own SSE decoder); see `client.ChatClient`."""

from __future__ import annotations

from .client import ChatClient
from .errors import (
    LLMAuthError,
    LLMBadRequestError,
    LLMConnectionError,
    LLMContextLengthError,
    LLMError,
    LLMMalformedError,
    LLMRateLimitError,
    LLMRedirectError,
    LLMServerError,
    LLMTimeoutError,
    LLMTruncatedError,
)
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
    "ChatClient",
    "ChatResult",
    "LLMAuthError",
    "LLMBadRequestError",
    "LLMConnectionError",
    "LLMContextLengthError",
    "LLMError",
    "LLMMalformedError",
    "LLMRateLimitError",
    "LLMRedirectError",
    "LLMServerError",
    "LLMTimeoutError",
    "LLMTruncatedError",
    "ReasoningDelta",
    "RefusalDelta",
    "StreamDone",
    "StreamEvent",
    "TextDelta",
    "Usage",
]
