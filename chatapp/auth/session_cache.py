"""Remembers, for a few seconds, which session tokens this process has just checked against the
sessions table, so that one page load or a burst of clicks costs one database query, not one per
event handler.

Why: every handler asks "who is this?" (`AuthState.current_user_id`). A page load runs three or
four of them (the login guard, the chat, the roles, the settings), and each check was a blocking
PostgreSQL round trip on the event loop: at 300 users on 2 workers it took p50 1.4 ms, p90 8.7 ms,
p99 20 ms and up to 77 ms (waiting for a pooled connection), and every answer streaming on that
worker stalled for as long (bench/README.md, "concurrency").

On its own it makes the 300-user burst worse (p99 gap 276-502 ms): a blocking check paces the
sends, and without it more of them run at once. It pays off with `chatapp.chat.send_gate`.
The miss stays on the event loop: a trip to a worker thread per check measured worse still (GIL
hand-offs and the thread pool's queue).

What it costs: a session revoked by another process (a logout on another worker or instance)
still works on this one for at most `TTL_S`. A logout handled here is seen here at once: `forget`.
The JWT's own expiry is still checked on every call.
"""

from __future__ import annotations

import time
from datetime import datetime

from chatapp.auth.sessions import SessionUser
from chatapp.models import utcnow

TTL_S = 5.0
MAX_ENTRIES = 20_000  # ~1 KB each; far more tabs than a process serves

_entries: dict[str, tuple[float, SessionUser]] = {}


def get(
    token: str, *, now: float | None = None, wall: datetime | None = None
) -> SessionUser | None:
    """The check remembered for `token`, if it is younger than TTL_S and its JWT has not expired."""
    entry = _entries.get(token)
    if entry is None:
        return None
    checked_at, who = entry
    if (now if now is not None else time.monotonic()) - checked_at >= TTL_S or (
        who.claims.expires_at <= (wall or utcnow())
    ):
        _entries.pop(token, None)
        return None
    return who


def put(token: str, who: SessionUser, *, now: float | None = None) -> None:
    """Remembers a check that passed."""
    at = now if now is not None else time.monotonic()
    if len(_entries) >= MAX_ENTRIES:
        for key in [k for k, (t, _) in _entries.items() if at - t >= TTL_S]:
            del _entries[key]
        if len(_entries) >= MAX_ENTRIES:  # all fresh: a flood of new tokens; start over
            _entries.clear()
    _entries[token] = (at, who)


def forget(*, token: str | None = None, user_id: int | None = None) -> None:
    """Drops one token, or every token of a user (logout everywhere)."""
    if token is not None:
        _entries.pop(token, None)
    if user_id is not None:
        for key in [k for k, (_, w) in _entries.items() if w.claims.user_id == user_id]:
            del _entries[key]
