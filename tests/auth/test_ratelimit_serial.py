"""`LoginGuard.serial`: one code check per IP at a time, however requests arrive."""

from __future__ import annotations

import asyncio
import random

from limits.aio.storage import MemoryStorage

from chatapp.auth.ratelimit import LoginGuard


async def test_serial_never_lets_two_checks_of_one_ip_overlap():
    """Requests arrive staggered, so some come just as the holder releases the lock: the moment
    where `Lock.locked()` is False but a waiter has not woken yet (a late arrival must not take a
    fresh lock then and run beside that waiter)."""
    guard = LoginGuard(MemoryStorage())
    rng = random.Random(7)
    inside = 0
    overlaps = 0

    async def request(delay_ticks: int, work_ticks: int) -> None:
        nonlocal inside, overlaps
        for _ in range(delay_ticks):
            await asyncio.sleep(0)
        async with guard.serial("203.0.113.9"):
            inside += 1
            overlaps += inside > 1
            for _ in range(work_ticks):
                await asyncio.sleep(0)
            inside -= 1

    await asyncio.gather(*(request(rng.randrange(60), rng.randrange(1, 4)) for _ in range(200)))
    assert overlaps == 0
    assert guard._locks == {}  # the last user drops the IP's entry: no per-IP memory left behind


async def test_serial_keeps_different_ips_independent():
    guard = LoginGuard(MemoryStorage())
    entered: list[str] = []
    release = asyncio.Event()

    async def hold(ip: str) -> None:
        async with guard.serial(ip):
            entered.append(ip)
            await release.wait()

    tasks = [asyncio.create_task(hold(ip)) for ip in ("198.51.100.1", "198.51.100.2")]
    for _ in range(5):
        await asyncio.sleep(0)
    assert sorted(entered) == ["198.51.100.1", "198.51.100.2"]
    release.set()
    await asyncio.gather(*tasks)
