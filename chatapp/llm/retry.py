"""The retry policy: which failures earn another attempt, and how long to wait before it.

Retried: connection errors, timeouts, 5xx and in-stream server errors, 429 (but not
`insufficient_quota`: an empty balance does not refill in seconds), and streams cut short before
any text. Never retried: the other 4xx, redirects, malformed replies. The caller never retries
once answer text was yielded (a retry would duplicate it).

The wait is the provider's `Retry-After`, in full (the official client waits it out too; retrying
sooner only earns another 429). A `Retry-After` longer than `max_retry_wait` is not retried:
nobody waits a minute behind a typing dot, so the error goes to the caller, which shows the wait
and a retry button. Without a `Retry-After` the wait is exponential backoff with full jitter: a random wait in [0, min(backoff_max, backoff_base * 2**attempt)), which
spreads out clients that failed together (AWS architecture blog, "Exponential Backoff And
Jitter").
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass

from .errors import (
    LLMConnectionError,
    LLMError,
    LLMRateLimitError,
    LLMServerError,
    LLMTimeoutError,
    LLMTruncatedError,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and after how long a failed call is tried again.

    Attributes:
        max_retries: Extra attempts after the first.
        backoff_base: First backoff ceiling in seconds; doubles with each retry.
        backoff_max: Largest backoff ceiling in seconds.
        max_retry_wait: The longest Retry-After waited for; a longer one is not retried.
        rng: Returns a float in [0, 1) for jitter.
    """

    max_retries: int = 2
    backoff_base: float = 0.5
    backoff_max: float = 8.0
    max_retry_wait: float = 20.0
    rng: Callable[[], float] = random.random

    def delay(self, exc: LLMError, attempt: int) -> float | None:
        """Seconds to wait before retrying after `exc`.

        Args:
            exc: The failure of the latest attempt.
            attempt: Retries made so far (0 after the first attempt failed).

        Returns:
            The wait, or None when the call must not be retried.
        """
        if attempt >= self.max_retries:
            return None
        if isinstance(exc, LLMRateLimitError):
            if exc.provider_code == "insufficient_quota":
                return None
        elif not isinstance(
            exc, LLMConnectionError | LLMServerError | LLMTimeoutError | LLMTruncatedError
        ):
            # Truncated is retryable here only because callers never retry once text was
            # yielded: a stream cut before any text is a dropped connection in disguise.
            return None
        if exc.retry_after is not None:
            return exc.retry_after if exc.retry_after <= self.max_retry_wait else None
        return self.rng() * min(self.backoff_max, self.backoff_base * 2**attempt)

    def log_retry(self, path: str, exc: LLMError, attempt: int, delay: float) -> None:
        """Logs a retry about to happen (`attempt` counts from 1)."""
        # Only kind and status: the message is scrubbed, but logs need no provider text.
        log.warning(
            "LLM %s failed (%s, status %s); retry %d/%d in %.2fs",
            path,
            exc.kind,
            exc.status,
            attempt,
            self.max_retries,
            delay,
        )
