"""The retry policy as a table: which failures are retried, and after how long."""

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
    LLMRedirectError,
    LLMServerError,
    LLMTimeoutError,
    LLMTruncatedError,
)
from chatapp.llm.retry import RetryPolicy

# rng() = 1.0 puts every jittered wait at its ceiling, so the table shows the ceilings.
POLICY = RetryPolicy(
    max_retries=3, backoff_base=0.5, backoff_max=1.5, max_retry_wait=5.0, rng=lambda: 1.0
)

DECISIONS = [
    # (error, attempt, wait; None = not retried)
    (LLMConnectionError("x"), 0, 0.5),
    (LLMTimeoutError("x", phase="idle"), 1, 1.0),
    (LLMServerError("x", status=503), 2, 1.5),  # 2.0, capped by backoff_max
    (LLMTruncatedError("x"), 0, 0.5),
    (LLMRateLimitError("x", status=429), 0, 0.5),
    (LLMRateLimitError("x", status=429, retry_after=2.0), 0, 2.0),
    (LLMRateLimitError("x", status=429, retry_after=5.0), 0, 5.0),  # in full, never cut short
    # Longer than max_retry_wait: not retried early (another 429), the caller shows the wait.
    (LLMRateLimitError("x", status=429, retry_after=60.0), 0, None),
    (LLMServerError("x", status=503, retry_after=0.0), 0, 0.0),
    (LLMRateLimitError("x", status=429, provider_code="insufficient_quota"), 0, None),
    (LLMConnectionError("x"), 3, None),  # max_retries reached
    (LLMAuthError("x", status=401), 0, None),
    (LLMBadRequestError("x", status=400), 0, None),
    (LLMContextLengthError("x", status=400), 0, None),
    (LLMRedirectError("x", status=302), 0, None),
    (LLMMalformedError("x"), 0, None),
    (LLMAuthError("x", status=401, retry_after=1.0), 0, None),
]


@pytest.mark.parametrize(("exc", "attempt", "wait"), DECISIONS)
def test_retry_decisions(exc: LLMError, attempt: int, wait: float | None) -> None:
    assert POLICY.delay(exc, attempt) == wait


def test_full_jitter_draws_below_the_ceiling() -> None:
    policy = RetryPolicy(backoff_base=1.0, backoff_max=8.0, rng=lambda: 0.25)
    assert [policy.delay(LLMConnectionError("x"), a) for a in range(2)] == [0.25, 0.5]
    assert RetryPolicy(max_retries=0).delay(LLMConnectionError("x"), 0) is None
