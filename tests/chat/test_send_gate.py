"""The send gate (`chatapp.chat.send_gate`): how many sends it lets in at once, and in what order."""

from __future__ import annotations

import asyncio

from chatapp.chat import send_gate


def test_the_send_gate_lets_limit_sends_in_at_once_and_the_rest_in_order():
    inside, peak, order = 0, 0, []

    async def one_send(i: int) -> None:
        nonlocal inside, peak
        async with send_gate.gate():
            inside += 1
            peak = max(peak, inside)
            order.append(i)
            await asyncio.sleep(0.01)
            inside -= 1

    async def burst() -> None:
        await asyncio.gather(*(one_send(i) for i in range(send_gate.LIMIT * 3)))

    asyncio.run(burst())
    assert peak == send_gate.LIMIT
    assert order == list(range(send_gate.LIMIT * 3))  # first come, first served
    asyncio.run(burst())  # a second event loop gets a gate of its own (no "bound to a loop")
    assert peak == send_gate.LIMIT
