"""A read deadline for one stream: one timer per stream instead of one per chunk.

`asyncio.timeout()` around every read of a stream creates a timer and pushes it onto the event
loop's heap (a Python-level comparison per level) for each chunk, then cancels it. A model
streams ~30 chunks a second per answer, so with a few hundred answers in a process that is
thousands of timers a second and ~7 % of the client's CPU (bench/README.md, "concurrency").

`ReadDeadline` keeps one timer per stream. Each read moves the deadline (two attribute writes);
the timer, when it fires, only checks: not reading, or the deadline moved later -> it re-arms
itself at the new deadline; still reading past the deadline -> it cancels the reading task,
and `expired()` turns that cancellation into a timeout, as `asyncio.timeout` does (an outside
cancellation that arrives as well still wins).

Use it only around an `await` that reads; never across a `yield` of an async generator (the
consumer's code would receive the cancellation).
"""

from __future__ import annotations

import asyncio


class ReadDeadline:
    """Cancels the current task when one read waits longer than its budget."""

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        if task is None:  # pragma: no cover - always called from a task
            raise RuntimeError("ReadDeadline needs a running task")
        self._task = task
        self._handle: asyncio.TimerHandle | None = None
        self._deadline: float | None = None  # set while a read waits
        self._cancelling = 0
        self._fired = False

    def start(self, budget: float | None) -> None:
        """A read begins: it may take `budget` seconds (None: no limit)."""
        if budget is None:
            self._deadline = None
            return
        self._deadline = deadline = self._loop.time() + budget
        self._cancelling = self._task.cancelling()
        handle = self._handle
        if handle is None or handle.when() > deadline:
            if handle is not None:
                handle.cancel()
            self._handle = self._loop.call_at(deadline, self._check)

    def stop(self) -> None:
        """The read ended (with data, at the end of the stream, or with an error)."""
        self._deadline = None

    def expired(self) -> bool:
        """Called on CancelledError from the read: True when this deadline caused it (the
        cancellation is then taken back, so the caller may raise its own timeout error)."""
        if not self._fired:
            return False
        self._fired = False
        # Only ours: an outside cancel() arriving too leaves the count above where we began.
        return self._task.uncancel() <= self._cancelling

    def close(self) -> None:
        """The stream is over: drops the timer."""
        self._deadline = None
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _check(self) -> None:
        self._handle = None
        deadline = self._deadline
        if deadline is None:
            return  # between reads: the next read arms the timer again
        if self._loop.time() < deadline:
            self._handle = self._loop.call_at(deadline, self._check)
            return
        self._deadline = None
        self._fired = True
        self._task.cancel()
