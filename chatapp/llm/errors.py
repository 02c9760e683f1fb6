"""Typed errors of the LLM client: every failure of an OpenAI-compatible call becomes one of these.

    LLMError                       .kind, .status, .provider_code, .provider_message,
    │                              .request_id, .retry_after, .partial_text
    ├── LLMConnectionError         "connection"      could not connect, or the connection dropped
    ├── LLMTimeoutError            "timeout"         .phase: "connect" | "first_byte" | "idle"
    ├── LLMAuthError               "auth"            401 / 403, bad or missing API key
    ├── LLMRateLimitError          "rate_limit"      429 (.retry_after in seconds when given)
    ├── LLMBadRequestError         "bad_request"     400 / 404 / 422 and other 4xx
    │   └── LLMContextLengthError  "context_length"  the prompt does not fit the model's window
    ├── LLMServerError             "server"          5xx, or a server error inside the stream
    ├── LLMRedirectError           "redirect"        3xx: never followed; .location_host says where
    ├── LLMTruncatedError          "truncated"       stream ended without finish_reason or [DONE]
    └── LLMMalformedError          "malformed"       the reply is not what the protocol promises

`str(exc)` is for logs: it never holds the API key (every text is scrubbed when the error is built),
but it may hold provider wording, so the app must not show it to users; `chatapp.errors` maps
`.kind` to user text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

# Provider messages are for logs and debugging; a bounded length keeps an HTML error page or a
# huge JSON echo of the request from flooding them.
MAX_MESSAGE_CHARS = 300

# Key-shaped strings are scrubbed even when they are not *our* key: providers echo keys back
# ("Incorrect API key provided: sk-abc***xyz") and a proxy may echo the Authorization header.
_KEY_PATTERNS = (
    re.compile(r"(?i)(\bbearer\s+)[A-Za-z0-9._~+/=-]{6,}"),
    re.compile(r"\b((?:sk|pk|rk)-)[A-Za-z0-9_*.-]{6,}"),
    re.compile(r"(?i)(\b(?:api[_-]?key|access_token|key)=)[^&\s\"']+"),
)


def scrub(text: str, secrets: Iterable[str | None] = ()) -> str:
    """Remove API keys and key-shaped strings from a text.

    Args:
        text: Any text that may end up in a log or an exception.
        secrets: The exact secrets to remove (e.g. the client's API keys); empty values are skipped.

    Returns:
        The text with every secret replaced by `***`.
    """
    for secret in secrets:
        # Very short "keys" (e.g. "x" in local setups) would shred the text and protect nothing.
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    for pattern in _KEY_PATTERNS:
        text = pattern.sub(r"\1***", text)
    return text


def trim(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """Collapse whitespace and cut a text to `limit` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class LLMError(Exception):
    """Base of every error the LLM client raises.

    Attributes:
        kind: A short stable machine code ("connection", "timeout", "auth", ...).
        status: The HTTP status, when there was a response.
        provider_code: The provider's error code (`error.code`, else `error.type`), as a string.
        provider_message: The provider's message, trimmed and scrubbed of keys.
        request_id: The `x-request-id` response header, when present.
        retry_after: Seconds the provider asked us to wait (rate limits).
        partial_text: Text already received before the failure (mid-stream errors).
    """

    kind = "error"

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        provider_code: str | None = None,
        provider_message: str | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
        partial_text: str = "",
        secrets: Iterable[str | None] = (),
    ) -> None:
        secrets = tuple(secrets)
        self.message = trim(scrub(message, secrets), 500)
        super().__init__(self.message)
        self.status = status
        self.provider_code = trim(scrub(provider_code, secrets), 100) if provider_code else None
        self.provider_message = trim(scrub(provider_message, secrets)) if provider_message else None
        self.request_id = trim(scrub(request_id, secrets), 100) if request_id else None
        self.retry_after = retry_after
        self.partial_text = partial_text

    def __str__(self) -> str:
        parts = [f"[{self.kind}]"]
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        parts.append(self.message)
        if self.provider_code:
            parts.append(f"(code={self.provider_code})")
        if self.provider_message and self.provider_message not in self.message:
            parts.append(f"provider says: {self.provider_message}")
        if self.request_id:
            parts.append(f"request_id={self.request_id}")
        return " ".join(parts)


class LLMConnectionError(LLMError):
    """Could not connect, or the connection broke before the reply was complete."""

    kind = "connection"


class LLMTimeoutError(LLMError):
    """A deadline passed; `.phase` says which one ("connect", "first_byte" or "idle")."""

    kind = "timeout"

    def __init__(self, message: str, *, phase: str, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.phase = phase


class LLMAuthError(LLMError):
    """The provider refused the API key (401) or the key lacks access (403)."""

    kind = "auth"


class LLMRateLimitError(LLMError):
    """Too many requests or tokens (429); `.retry_after` holds the requested wait."""

    kind = "rate_limit"


class LLMBadRequestError(LLMError):
    """The provider rejected the request itself (400, 404, 422...); retrying cannot help."""

    kind = "bad_request"


class LLMContextLengthError(LLMBadRequestError):
    """The prompt (plus max_tokens) does not fit the model's context window."""

    kind = "context_length"


class LLMServerError(LLMError):
    """The provider failed (5xx, or an error event inside the stream)."""

    kind = "server"


class LLMRedirectError(LLMError):
    """The endpoint answered a redirect (3xx), which the client never follows.

    A redirect usually means a wrong base URL (http instead of https, a missing `/v1`, a login
    page); following it could also lead the server somewhere it must not go. `.location_host` is
    the host (and port, when not the default) the `Location` header named, or None.
    """

    kind = "redirect"

    def __init__(self, message: str, *, location_host: str | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.location_host = location_host


class LLMTruncatedError(LLMError):
    """The stream ended without a finish_reason and without `[DONE]`: the answer is incomplete."""

    kind = "truncated"


class LLMMalformedError(LLMError):
    """The reply broke the protocol: a chunk that is not JSON, an unexpected shape."""

    kind = "malformed"
