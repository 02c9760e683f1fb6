"""The error tree, and that no text of an error can hold the key."""

from __future__ import annotations

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
    LLMTruncatedError,
)
from chatapp.llm.errors import scrub, trim

KINDS = {
    LLMConnectionError: "connection",
    LLMTimeoutError: "timeout",
    LLMAuthError: "auth",
    LLMRateLimitError: "rate_limit",
    LLMBadRequestError: "bad_request",
    LLMContextLengthError: "context_length",
    LLMServerError: "server",
    LLMTruncatedError: "truncated",
    LLMMalformedError: "malformed",
}


@pytest.mark.parametrize(("cls", "kind"), KINDS.items())
def test_kinds_and_tree(cls: type[LLMError], kind: str) -> None:
    exc = cls("x", phase="idle") if cls is LLMTimeoutError else cls("x")
    assert exc.kind == kind
    assert isinstance(exc, LLMError)
    assert exc.status is None and exc.partial_text == "" and exc.retry_after is None


def test_context_length_is_a_bad_request() -> None:
    assert issubclass(LLMContextLengthError, LLMBadRequestError)


def test_every_text_is_scrubbed() -> None:
    key = "my-very-secret-key"
    exc = LLMAuthError(
        f"failed for {key}",
        status=401,
        provider_code=f"code-{key}",
        provider_message=f"Incorrect API key provided: {key}. Bearer abcdefghij sk-zzzzzzzzzz",
        request_id=f"req-{key}",
        secrets=[key, None, ""],
    )
    for text in (str(exc), repr(exc), exc.provider_message, exc.provider_code, exc.request_id):
        assert text is not None
        assert key not in text
        assert "abcdefghij" not in text and "zzzzzzzzzz" not in text
    assert "HTTP 401" in str(exc) and "request_id=" in str(exc)


def test_scrub_patterns_and_trim() -> None:
    assert scrub("https://x/v1?api_key=abc123&x=1") == "https://x/v1?api_key=***&x=1"
    assert scrub("short key ab", ["ab"]) == "short key ab"  # too short to be a real secret
    assert trim("a \n b") == "a b"
    assert trim("x" * 400, 10) == "x" * 9 + "…"


def test_timeout_has_phase() -> None:
    exc = LLMTimeoutError("slow", phase="first_byte", partial_text="ab")
    assert exc.phase == "first_byte" and exc.partial_text == "ab"
