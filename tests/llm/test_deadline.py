"""ReadDeadline: one timer per stream that turns a read waiting past its budget into a timeout."""

from __future__ import annotations

import asyncio

import pytest

from chatapp.llm.deadline import ReadDeadline


async def _read(deadline: ReadDeadline, budget: float | None, wait: float) -> str:
    deadline.start(budget)
    try:
        await asyncio.sleep(wait)
        return "data"
    except asyncio.CancelledError:
        if deadline.expired():
            return "timeout"
        raise
    finally:
        deadline.stop()


async def test_a_read_within_budget_returns_and_a_slow_one_times_out():
    deadline = ReadDeadline()
    try:
        assert await _read(deadline, 0.2, 0.01) == "data"
        assert await _read(deadline, 0.05, 0.5) == "timeout"
        # The task is not left cancelled: it goes on normally after a timeout.
        assert asyncio.current_task().cancelling() == 0  # type: ignore[union-attr]
        assert await _read(deadline, 0.2, 0.01) == "data"
    finally:
        deadline.close()


async def test_many_quick_reads_share_one_timer_and_never_fire():
    """Reads that each take less than the budget, for longer than the budget in total: the timer
    armed by the first read finds a later deadline when it fires and waits again."""
    deadline = ReadDeadline()
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        while loop.time() - started < 0.25:
            assert await _read(deadline, 0.05, 0.01) == "data"
    finally:
        deadline.close()


async def test_a_shorter_budget_after_a_longer_one_still_fires_in_time():
    deadline = ReadDeadline()
    try:
        assert await _read(deadline, 5.0, 0.0) == "data"  # arms a timer 5 s out
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        assert await _read(deadline, 0.05, 1.0) == "timeout"
        assert loop.time() - t0 < 0.5
    finally:
        deadline.close()


async def test_no_budget_means_no_limit():
    deadline = ReadDeadline()
    try:
        assert await _read(deadline, None, 0.1) == "data"
    finally:
        deadline.close()


async def test_an_outside_cancel_is_not_taken_for_a_timeout():
    """A Stop (task.cancel()) while reading stays a cancellation."""

    async def reader() -> str:
        deadline = ReadDeadline()
        try:
            return await _read(deadline, 0.05, 1.0)
        finally:
            deadline.close()

    task = asyncio.create_task(reader())
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
