"""Bounds how many sends (a new message, regenerate, edit and resend) one process works on at once, so the answers already streaming keep
their pace when many users press send together.

Why: a send is ~10 ms of CPU spread over a dozen awaits (the session check, a trip to a worker
thread for the turn's rows, the list, Redis round trips of the state). With 150 sends arriving in
a second on one worker, each turn of the event loop ran a step of every one of them, and a
streaming answer's next batch waited behind all of it: at 300 streams on 2 workers + Redis
~200 gaps per run over 250 ms, all in the seconds of the burst. With at most `LIMIT` sends in
flight the loop's turns stay short: 0-30 such gaps, p99 gap 161-209 ms (bench/README.md,
"Session 6"). The price is paid by the burst itself: the last of 150 queued sends starts later
(first text p99 2.0 → 2.4-3.6 s at 300 sends in 1 s); a single user never waits on the gate.

The gate covers the send's own work (storing the message, showing the stored bubbles), not the
pending bubbles shown before it nor the model call after it.
"""

from __future__ import annotations

import asyncio
import weakref

LIMIT = 4

# One semaphore per event loop: an asyncio primitive belongs to the loop it first waited on, and
# tests run handlers on more than one.
_gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


def gate() -> asyncio.Semaphore:
    """The running loop's send gate (`async with gate(): ...`)."""
    loop = asyncio.get_running_loop()
    sem = _gates.get(loop)
    if sem is None:
        sem = _gates[loop] = asyncio.Semaphore(LIMIT)
    return sem
