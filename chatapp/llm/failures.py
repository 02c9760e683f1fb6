"""Every failure of an OpenAI-compatible call mapped to its `LLMError` class, read without I/O:
error bodies (HTTP, inside a 200, inside a stream), redirects, Retry-After and httpx errors.

Error mapping (`error_class`), first match wins:

    a 4xx (or no status) naming the context window   -> LLMContextLengthError
    401 / 403, or an auth code without a status      -> LLMAuthError
    429, or a rate-limit code without a status       -> LLMRateLimitError
    any other 4xx, or a bad-request code             -> LLMBadRequestError
    everything else (5xx, unknown)                   -> LLMServerError

An error inside a 200 body or a stream takes its status from the body (`error_fields`).
"""

from __future__ import annotations

import contextlib
import email.utils
import json
import math
from datetime import UTC, datetime
from typing import Any

import httpx

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
)

Secrets = tuple[str | None, ...]

# Phrases providers use for an over-long prompt when they send no `context_length_exceeded` code
# (vLLM, llama.cpp, Ollama, Azure...).
_CONTEXT_HINTS = (
    "context length",
    "context_length",
    "maximum context",
    "context window",
    "reduce the length",
    "too many tokens",
    "prompt is too long",
)
_AUTH_CODES = frozenset(
    {"invalid_api_key", "authentication_error", "permission_error", "unauthorized", "forbidden"}
)
_RATE_CODES = frozenset({"rate_limit_exceeded", "rate_limit_error", "insufficient_quota"})
_BAD_REQUEST_CODES = frozenset(
    {"invalid_request_error", "bad_request", "not_found_error", "model_not_found"}
)
_SUMMARY = {
    "auth": "the provider refused the API key",
    "rate_limit": "rate limited by the provider",
    "bad_request": "the provider rejected the request",
    "context_length": "the prompt does not fit the model's context window",
    "server": "the provider failed",
}


def error_fields(body: Any, text: str) -> tuple[str | None, str | None, int | None]:
    """Reads an error body.

    Args:
        body: The parsed JSON body (None when it was not JSON).
        text: The raw body, the message when the body holds none.

    Returns:
        (code, message, status): the code is `error.code`, else `error.type`; the status is the
        first 4xx/5xx among `error.status`, `status` and a numeric `error.code`.
    """
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, str):
            return None, err, None
        if isinstance(err, dict):
            raw_code = err.get("code")
            code = err.get("type") if raw_code is None else raw_code
            message = err.get("message")
            status = None
            for candidate in (err.get("status"), body.get("status"), raw_code):
                if isinstance(candidate, int) and not isinstance(candidate, bool):
                    status = candidate
                elif isinstance(candidate, str) and candidate.isdigit():
                    status = int(candidate)
                if status is not None and 400 <= status <= 599:
                    break
                status = None
            types = " ".join(str(x) for x in (raw_code, err.get("type")) if x is not None)
            return (
                str(code) if code is not None else None,
                message if isinstance(message, str) else types or None,
                status,
            )
    return None, text.strip() or None, None


def error_class(status: int | None, codes: set[str], message: str | None) -> type[LLMError]:
    """The error class for a failed reply (the table in the module docstring).

    Args:
        status: The HTTP status, or the body's; None when neither gave one.
        codes: The body's `error.code` and `error.type`, lowercased.
        message: The provider's message, searched for context-window wording.
    """
    lowered = (message or "").lower()
    in_4xx = status is None or 400 <= status < 500
    if in_4xx and ("context_length_exceeded" in codes or any(h in lowered for h in _CONTEXT_HINTS)):
        return LLMContextLengthError
    if status in (401, 403) or (status is None and codes & _AUTH_CODES):
        return LLMAuthError
    if status == 429 or (status is None and codes & _RATE_CODES):
        return LLMRateLimitError
    if status is not None and 400 <= status < 500:
        return LLMBadRequestError
    if status is None and codes & _BAD_REQUEST_CODES:
        return LLMBadRequestError
    return LLMServerError


def body_error(
    body: Any,
    status: int | None,
    headers: httpx.Headers,
    secrets: Secrets,
    *,
    text: str = "",
    partial_text: str = "",
) -> LLMError:
    """The error an error body stands for, with the provider's code, message and Retry-After.

    Args:
        body: The parsed JSON body (None when it was not JSON).
        status: The HTTP status; None for an error inside a 200 body or a stream.
        headers: The response headers (`x-request-id`, `Retry-After`).
        secrets: Keys to scrub from every text.
        text: The raw body.
        partial_text: Answer text received before the error.
    """
    code, message, body_status = error_fields(body, text)
    status = status if status is not None else body_status
    codes: set[str] = set()
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        codes = {
            str(body["error"].get(k)).lower() for k in ("code", "type") if body["error"].get(k)
        }
    cls = error_class(status, codes, message)
    return cls(
        _SUMMARY[cls.kind],
        status=status,
        provider_code=code,
        provider_message=message,
        request_id=headers.get("x-request-id"),
        # 503s carry Retry-After too (maintenance, overload): honour it for any status.
        retry_after=retry_after_seconds(headers),
        partial_text=partial_text,
        secrets=secrets,
    )


def http_error(status: int, headers: httpx.Headers, text: str, secrets: Secrets) -> LLMError:
    """The error for a reply with a 4xx/5xx status and body `text` (JSON or not)."""
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    return body_error(body, status, headers, secrets, text=text)


def redirect_error(response: httpx.Response, url: str, secrets: Secrets) -> LLMRedirectError:
    """A 3xx reply to a request for `url`: names the host it pointed to (only the host: a
    Location may carry tokens in its query)."""
    host: str | None = None
    location = response.headers.get("location", "")
    try:
        target = httpx.URL(url).join(location) if location else None
        if target is not None and target.host:
            host = target.host if target.port is None else f"{target.host}:{target.port}"
    except (httpx.InvalidURL, ValueError):
        host = None
    return LLMRedirectError(
        f"the endpoint redirected ({response.status_code}) instead of answering",
        status=response.status_code,
        location_host=host,
        request_id=response.headers.get("x-request-id"),
        secrets=secrets,
    )


def retry_after_seconds(headers: httpx.Headers) -> float | None:
    """The wait a reply asks for: `retry-after-ms`, else `retry-after` (seconds or an HTTP
    date); never negative, None when absent or unreadable."""
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        with contextlib.suppress(ValueError):
            value = float(raw_ms) / 1000
            if math.isfinite(value):
                return max(0.0, value)
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(raw)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return max(0.0, (when - datetime.now(UTC)).total_seconds())
    return max(0.0, value) if math.isfinite(value) else None


def transport_error(
    exc: Exception, secrets: Secrets, *, got_bytes: bool, partial_text: str = ""
) -> LLMError:
    """The error for an httpx failure.

    Args:
        exc: What httpx raised.
        secrets: Keys to scrub from the text.
        got_bytes: Whether the body had begun: a read timeout is then "idle", else "first_byte".
        partial_text: Answer text received before the failure.
    """
    detail = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
        return LLMTimeoutError(
            f"could not connect in time ({detail})", phase="connect", secrets=secrets
        )
    if isinstance(exc, httpx.TimeoutException):
        phase = "idle" if got_bytes else "first_byte"
        return LLMTimeoutError(
            f"timed out ({detail})", phase=phase, partial_text=partial_text, secrets=secrets
        )
    if isinstance(exc, httpx.DecodingError):
        return LLMMalformedError(
            f"could not decode the reply ({detail})", partial_text=partial_text, secrets=secrets
        )
    return LLMConnectionError(
        f"connection failed ({detail})", partial_text=partial_text, secrets=secrets
    )
