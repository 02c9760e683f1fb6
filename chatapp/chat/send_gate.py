"""Bounds how many sends (a new message, regenerate, edit and resend) one process works on at
once, so the answers already streaming keep their pace when many users press send together.

Why: a send is ~10 ms of CPU spread over a dozen awaits (the session check, a trip to a worker
thread for the turn's rows, the list, Redis round trips of the state). With 150 sends arriving in
a second on one worker, each turn of the event loop ran a step of every one of them, and a
streaming answer's next batch waited behind all of it: at 300 streams on 2 workers + Redis,
105-195 gaps per run over 250 ms, all in the seconds of the burst. Measured on one machine,
3 runs each (bench/README.md, "concurrency"):

| sends at once | gaps > 250 ms per run | p99 gap | first text p50 / p99 |
|---|---|---|---|
| no gate (and no `session_cache`) | 172-193 | 205-246 ms | 1.7-1.9 / 2.1-2.3 s |
| 4, with `session_cache` | 0-86 | 191-198 ms | 1.0-1.4 / 2.1-2.6 s |
| 2, with `session_cache` | 0-19 | 173-181 ms | 1.2-1.8 / 2.2-3.6 s |
| 1 (no `session_cache`) | 0 | 161-179 ms | 1.6-1.8 / 3.1-3.7 s |

Fewer makes the burst's own tail wait longer (the last of 150 queued sends starts later), so 4.
With the sends spread over 5 s the first text came p50 60-71 ms after the send (1.5-1.7 s without
the gate). A single user never waits on it.

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
