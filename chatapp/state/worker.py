"""Calling a session-first data function from an event handler without blocking the event loop.

Reflex runs handlers on the event loop, and every tab's events and every stream of the process
share it: a query run there stalls them all (bench/README.md, "concurrency"). `in_session` runs
the function in a worker thread, in a session of its own that commits when it returns.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

from sqlmodel import Session

from chatapp.core.db import session_scope

P = ParamSpec("P")
T = TypeVar("T")


def _run(work: Callable[..., T], args: tuple, kwargs: dict) -> T:
    with session_scope() as session:
        return work(session, *args, **kwargs)


async def in_session(
    work: Callable[Concatenate[Session, P], T], /, *args: P.args, **kwargs: P.kwargs
) -> T:
    """Runs `work(session, *args, **kwargs)` in a worker thread and returns its result.

    Rows it returns stay readable afterwards (the session does not expire them on commit).

    Args:
        work: a data function or use case taking the session first.
        *args: passed on to `work`.
        **kwargs: passed on to `work` (data functions take keyword-only arguments).

    Raises:
        Whatever `work` raises; the session is rolled back first.
    """
    return await asyncio.to_thread(_run, work, args, kwargs)
