"""Benchmarks 3 and 5 — concurrency and idle memory, with a socket-level load client.

The load client replays the real Reflex event protocol, captured from a real browser first
(`testkit.fakes.reflex_socket.capture_protocol`): the socket.io CONNECT packet of namespace
`/_event` carries `hydrate_and_load` (which runs the page's on_load, `ChatState.load_page`), and a
message is the browser's `ChatState.send` form-submit event.
Each simulated user has its own client token (`?token=` on the websocket URL, as the browser sends
it from sessionStorage). A stream's "UI updates" are the `cs.a(...)` scripts the server pushes;
the gap between two of them is what a user would see as a stall.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import gc
import json
import os
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import psutil
import socketio
from playwright.sync_api import Browser

from bench.common import (
    LoadStack,
    backend_pids,
    percentile,
    session_tokens,
    tree_cpu_seconds,
    tree_rss,
)
from testkit.fakes import reflex_socket
from testkit.fakes.reflex_socket import NS, Protocol


def capture_protocol(browser: Browser, app: LoadStack) -> Protocol:
    """The browser's own frames (`testkit.fakes.reflex_socket`), captured as a user of its own."""
    return reflex_socket.capture_protocol(
        browser, app.app.url, session_tokens(app.app, 1, "o_capture_")[0]
    )


@dataclass
class User:
    """One simulated browser tab."""

    base_url: str
    proto: Protocol
    session_token: str  # who is logged in: each simulated user is a user of their own
    token: str = field(default_factory=lambda: str(uuid.uuid4()))
    sio: socketio.AsyncClient = field(
        default_factory=lambda: socketio.AsyncClient(reconnection=False)
    )
    hydrated: asyncio.Event = field(default_factory=asyncio.Event)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    updates: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    received_bytes: int = 0
    sent_at: float = 0.0

    async def connect(self) -> None:
        """Connects and hydrates (runs the page's on_load)."""

        async def on_event(data: dict[str, Any]) -> None:
            self.received_bytes += len(json.dumps(data, ensure_ascii=False).encode())
            for part in (data.get("delta") or {}).values():
                if part.get("is_hydrated_rx_state_") is True:
                    self.hydrated.set()
            for ev in data.get("events") or []:
                code = str((ev.get("payload") or {}).get("javascript_code", ""))
                if "cs.a(" in code or "cs.r(" in code:
                    self.updates.append(time.monotonic())
                elif "cs.d(" in code:
                    self.done.set()

        self.sio.on("event", on_event, namespace=NS)
        await self.sio.connect(
            f"{self.base_url}?token={self.token}",
            socketio_path="/_event",
            transports=["websocket"],
            namespaces=[NS],
            # Who is logged in is the handshake's session cookie (HttpOnly: the server reads it
            # from these headers, never from what the client sends in its events).
            headers={"Origin": self.base_url, "Cookie": f"chatapp_session={self.session_token}"},
            auth=self.proto.connect_as(self.session_token),
            wait_timeout=30,
        )
        await asyncio.wait_for(self.hydrated.wait(), 60)

    async def stream(self, text: str, timeout: float) -> None:
        """Sends a message and waits for its answer to finish streaming."""
        self.sent_at = time.monotonic()
        await self.sio.emit("event", self.proto.send_with(text), namespace=NS)
        try:
            await asyncio.wait_for(self.done.wait(), timeout)
        except TimeoutError:
            self.errors.append("stream did not finish")

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.sio.disconnect()


async def _connect_all(users: list[User], batch: int = 50) -> list[str]:
    errors: list[str] = []
    for i in range(0, len(users), batch):
        results = await asyncio.gather(
            *(u.connect() for u in users[i : i + batch]), return_exceptions=True
        )
        errors += [f"connect: {r!r}" for r in results if isinstance(r, BaseException)]
    return errors


async def _concurrency_step(
    st: LoadStack,
    proto: Protocol,
    n: int,
    answer_chars: int,
    chunks_per_s: float,
    ramp_s: float = 1.0,
    max_gap_s: float = 0.25,
) -> dict[str, object]:
    users = [User(st.app.url, proto, t) for t in session_tokens(st.app, n)]
    assert st.app.proc is not None
    pid = st.app.proc.pid
    try:
        load_before = os.getloadavg()[0]
        errors = await _connect_all(users)
        live = [u for u in users if u.hydrated.is_set()]
        text = ("load test " * (answer_chars // 10 + 1))[:answer_chars]
        expected_s = (answer_chars + 10) / 4 / chunks_per_s
        me = psutil.Process()
        client0 = sum(me.cpu_times()[:2])
        fake0 = tree_cpu_seconds(st.fake_proc.pid)
        cpu0, t0 = tree_cpu_seconds(pid), time.monotonic()
        rss_peak = 0

        async def sample() -> None:
            nonlocal rss_peak
            while True:
                rss_peak = max(rss_peak, tree_rss(pid))
                await asyncio.sleep(0.5)

        sampler = asyncio.create_task(sample())
        # The load client's own garbage collections stop its loop (every thread of this
        # process): one gen-2 pass of 241 ms mid-step was seen, and every stream's next update
        # then read late by that much. No collections while it measures.
        gc.collect()
        gc.freeze()
        gc.disable()
        try:
            # Users press send spread evenly over `ramp_s` (1 s by default: the same second, not
            # the same microsecond). A stream lasts ~10 s, so with a ramp shorter than that all
            # N stream at once; `all_streaming_at_once` checks it.
            await asyncio.gather(
                *(
                    _later(i * ramp_s / max(1, len(live)), u.stream(text, expected_s * 3 + 30))
                    for i, u in enumerate(live)
                )
            )
        finally:
            gc.enable()
            gc.unfreeze()
        sampler.cancel()
        elapsed = time.monotonic() - t0
        cpu = tree_cpu_seconds(pid) - cpu0
        fake_cpu = tree_cpu_seconds(st.fake_proc.pid) - fake0
        client_cpu = sum(me.cpu_times()[:2]) - client0
    finally:
        await asyncio.gather(*(u.close() for u in users))
    pairs = [(a, b) for u in users for a, b in zip(u.updates, u.updates[1:], strict=False)]
    gaps = [b - a for a, b in pairs]
    # When the long gaps happen (seconds into the step): ramp-up, steady state, or the end.
    slow: dict[int, int] = {}
    for a, b in pairs:
        if b - a > max_gap_s:
            slow[int(a - t0)] = slow.get(int(a - t0), 0) + 1
    errors += [e for u in users for e in u.errors]
    # Time to the first streamed text under load (the fake model answers at once), and when the
    # streams began and ended: the long gaps cluster where many sends or many ends meet.
    first = [u.updates[0] - u.sent_at for u in users if u.updates and u.sent_at]
    starts = [u.updates[0] - t0 for u in users if u.updates]
    ends = [u.updates[-1] - t0 for u in users if u.updates]
    # The gaps while every stream was running: the sends are over, no stream has ended yet.
    together = (max(starts), min(ends)) if starts and ends else (0.0, 0.0)
    steady = [b - a for a, b in pairs if a - t0 >= together[0] and b - t0 <= together[1]]
    return {
        "users": n,
        "ramp_s": ramp_s,
        "all_streaming_at_once": bool(starts) and together[0] < together[1],
        "all_streaming_s": [round(x, 1) for x in together],
        "update_gap_ms_p99_all_streaming": round(percentile(steady, 99) * 1000, 1),
        "errors": len(errors),
        "error_examples": errors[:3],
        "streams_finished": sum(u.done.is_set() for u in users),
        "update_gap_ms_p50": round(percentile(gaps, 50) * 1000, 1),
        "update_gap_ms_p99": round(percentile(gaps, 99) * 1000, 1),
        "update_gap_ms_max": round(max(gaps) * 1000, 1) if gaps else None,
        "slow_gaps_by_second": dict(sorted(slow.items())),
        "first_update_ms_p50": round(percentile(first, 50) * 1000, 1),
        "first_update_ms_p99": round(percentile(first, 99) * 1000, 1),
        "streams_started_s": [round(percentile(starts, q), 1) for q in (0, 50, 100)],
        "streams_ended_s": [round(percentile(ends, q), 1) for q in (0, 50, 100)],
        "seconds": round(elapsed, 1),
        "t0_unix": round(time.time() - (time.monotonic() - t0), 3),
        "loadavg_1min_before": round(load_before, 1),
        "backend_cpu_cores": round(cpu / elapsed, 2),
        # The load client shares the two cores: when it is busy, its own clock reads late.
        "load_client_cpu_cores": round(client_cpu / elapsed, 2),
        # So does the fake model (one process): a busy one sends the chunks late itself.
        "fake_model_cpu_cores": round(fake_cpu / elapsed, 2),
        # What one answer cost the app, whatever else the machine was doing: the figure to
        # extrapolate capacity from on a shared machine.
        "backend_cpu_ms_per_stream": round(cpu / max(1, n) * 1000, 1),
        "loadavg_1min_after": round(os.getloadavg()[0], 1),
        "backend_rss_peak_mb": round(rss_peak / 2**20, 1),
        "bytes_received_per_user": int(sum(u.received_bytes for u in users) / max(1, n)),
    }


def _run_async(coro_fn, *args):
    """Runs a coroutine in a thread of its own: Playwright's sync API owns this thread's loop."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(coro_fn(*args))).result()


async def _later(delay: float, coro) -> None:
    await asyncio.sleep(delay)
    await coro


def concurrency(
    st: LoadStack,
    proto: Protocol,
    steps: list[int],
    answer_chars: int,
    chunks_per_s: float,
    ramp_s: float = 1.0,
    max_gap_ms: float = 250,
) -> dict[str, object]:
    """Raises the number of simultaneous streams until the p99 update gap or errors fail."""
    results = []
    best = 0
    for n in steps:
        r = _run_async(_concurrency_step, st, proto, n, answer_chars, chunks_per_s, ramp_s)
        results.append(r)
        ok = r["errors"] == 0 and float(r["update_gap_ms_p99"]) <= max_gap_ms  # type: ignore[arg-type]
        if not ok:
            break
        best = n
    return {
        "chunks_per_s": chunks_per_s,
        "answer_chars": answer_chars,
        "ramp_s": ramp_s,
        "max_users_ok": best,
        "criterion": f"p99 gap <= {max_gap_ms:g} ms and 0 errors",
        "steps": results,
    }


async def _idle(st: LoadStack, proto: Protocol, n: int) -> dict[str, object]:
    assert st.app.proc is not None
    pid = st.app.proc.pid
    warm = [User(st.app.url, proto, t) for t in session_tokens(st.app, 20, "o_warm_")]
    await _connect_all(warm)  # imports, caches and pools warmed before the baseline
    await asyncio.sleep(2)
    base = sum(psutil.Process(p).memory_info().rss for p in backend_pids(pid))
    users = [User(st.app.url, proto, t) for t in session_tokens(st.app, n, "o_idle_")]
    t0 = time.monotonic()
    errors = await _connect_all(users)
    connect_s = time.monotonic() - t0
    await asyncio.sleep(3)
    after = sum(psutil.Process(p).memory_info().rss for p in backend_pids(pid))
    connected = sum(u.sio.connected for u in users)
    await asyncio.gather(*(u.close() for u in users + warm))
    return {
        "sockets": n,
        "connected": connected,
        "errors": len(errors),
        "connect_seconds": round(connect_s, 1),
        "backend_rss_before_mb": round(base / 2**20, 1),
        "backend_rss_after_mb": round(after / 2**20, 1),
        "rss_per_idle_user_kb": round((after - base) / max(1, connected) / 1024, 1),
    }


def idle_memory(st: LoadStack, proto: Protocol, n: int) -> dict[str, object]:
    """Backend RSS per connected, hydrated, idle socket."""
    return _run_async(_idle, st, proto, n)
