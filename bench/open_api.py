"""Benchmark — the open API (`/v1/chat/completions`, streamed): what it adds to the first token
over calling the upstream directly, and how evenly N concurrent API streams flow.

- **added first token**: the same streamed request, alternately straight to the fake upstream
  and through the app with a `ck-` key; from sending the request to the first chunk carrying
  answer text, measured by the same client. Added = p50(through the app) − p50(direct).
- **concurrent streams**: N users, each with a key of their own, start one streamed call each
  (spread over `ramp_s`); every content chunk's arrival is stamped; the **chunk gap** is the time
  between two chunks of one stream (the stall a reader of that stream would see). p99 over all
  gaps of all streams, and the first token p50/p99 under that load.

The upstream is the fake OpenAI server as a process of its own (`bench.common.load_stack`), at
the load benchmark's pace. Run alone: `python -m bench.open_api [--smoke] [--workers 2]`
(2 workers: Redis and a fresh PostgreSQL, as docs/deploy.md scales out); `make bench` runs it on
the load app.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import re
import time
from typing import Any

import httpx
import psutil

from bench.common import (
    API_KEY,
    LoadStack,
    load_stack,
    machine,
    percentile,
    session_tokens,
    tree_cpu_seconds,
)
from bench.load import _run_async
from testkit.app import AppServer
from testkit.postgres import fresh_pg_database

TARGETS = {"api_added_first_token_ms_p50": "<= 10 ms", "api_chunk_gap_ms_p99": "<= 250 ms @300"}
FULL = {"ttft_runs": 30, "streams": 300, "answer_chars": 1_200}
SMOKE = {"ttft_runs": 3, "streams": 5, "answer_chars": 200}
CHUNKS_PER_S = 30


# A chunk carrying answer text, as the app (compact JSON) and the fake (spaced) frame it. Matching
# bytes instead of decoding every event keeps the client's CPU out of the figures: at 300
# streams, parsing each event's JSON cost the client more CPU than the server spent.
_TEXT = re.compile(rb'"delta": ?\{(?:"role": ?"assistant", ?)?"content": ?"[^"]')


async def _stream(
    client: httpx.AsyncClient, url: str, key: str, text: str, model: str = "fake-gpt"
) -> tuple[float, list[float]]:
    """One streamed call: (seconds to the first text, arrival times of the reads that brought
    text — what a reader of the stream sees move)."""
    body = {"model": model, "messages": [{"role": "user", "content": text}], "stream": True}
    started = time.monotonic()
    stamps: list[float] = []
    async with client.stream(
        "POST", url, json=body, headers={"Authorization": f"Bearer {key}"}
    ) as reply:
        if reply.status_code != 200:
            raise RuntimeError(f"HTTP {reply.status_code}: {(await reply.aread())[:200]!r}")
        async for block in reply.aiter_raw():
            if _TEXT.search(block):
                stamps.append(time.monotonic())
    if not stamps:
        raise RuntimeError("no text arrived")
    return stamps[0] - started, stamps


def make_keys(app: AppServer, n: int, prefix: str) -> list[str]:
    """`n` users (`session_tokens`), each with a key made over HTTP with their session."""
    keys = []
    with httpx.Client(base_url=app.url, timeout=30) as http:
        for token in session_tokens(app, n, prefix=prefix):
            reply = http.post(
                "/api/v1/keys", json={"name": "bench"}, headers={"Authorization": f"Bearer {token}"}
            )
            reply.raise_for_status()
            keys.append(reply.json()["key"])
    return keys


async def _added_first_token(app: AppServer, key: str, runs: int) -> dict[str, Any]:
    upstream = app.env["OPENAI_BASE_URL"] + "/chat/completions"
    through = app.url + "/v1/chat/completions"
    direct_s: list[float] = []
    api_s: list[float] = []
    async with httpx.AsyncClient(timeout=60) as client:
        for i in range(runs + 1):  # the first pair warms both paths up and is dropped
            d, _ = await _stream(client, upstream, API_KEY, f"warm {i}")
            a, _ = await _stream(client, through, key, f"warm {i}")
            if i:
                direct_s.append(d)
                api_s.append(a)
    direct_p50, api_p50 = percentile(direct_s, 50) * 1000, percentile(api_s, 50) * 1000
    return {
        "runs": runs,
        "direct_first_token_ms_p50": round(direct_p50, 1),
        "api_first_token_ms_p50": round(api_p50, 1),
        "api_added_first_token_ms_p50": round(api_p50 - direct_p50, 1),
        "api_first_token_ms_p95": round(percentile(api_s, 95) * 1000, 1),
    }


async def _concurrent(
    app: AppServer, keys: list[str], answer_chars: int, ramp_s: float
) -> dict[str, Any]:
    me = psutil.Process()
    client0 = sum(me.cpu_times()[:2])
    server0 = tree_cpu_seconds(app.proc.pid) if app.proc else 0.0
    url = app.url + "/v1/chat/completions"
    limits = httpx.Limits(max_connections=len(keys) + 10, max_keepalive_connections=len(keys))
    text = ("速度 speed " * answer_chars)[: max(1, answer_chars - 10)]
    errors: list[str] = []
    firsts: list[float] = []
    gaps: list[float] = []

    async with httpx.AsyncClient(timeout=120, limits=limits) as client:

        async def one(i: int, key: str) -> None:
            await asyncio.sleep(ramp_s * i / len(keys))
            try:
                first, stamps = await _stream(client, url, key, text)
            except Exception as exc:  # counted, not fatal: the figure is how many failed
                errors.append(f"{type(exc).__name__}: {str(exc)[:120]}")
                return
            firsts.append(first)
            gaps.extend(b - a for a, b in itertools.pairwise(stamps))

        started = time.monotonic()
        await asyncio.gather(*(one(i, k) for i, k in enumerate(keys)))
        wall = time.monotonic() - started
    server_cpu = (tree_cpu_seconds(app.proc.pid) if app.proc else 0.0) - server0
    client_cpu = sum(me.cpu_times()[:2]) - client0
    return {
        "streams": len(keys),
        "ramp_s": ramp_s,
        "answer_chars": answer_chars,
        "errors": len(errors),
        "first_errors": errors[:3],
        "chunk_gap_ms_p50": round(percentile(gaps, 50) * 1000, 1) if gaps else None,
        "chunk_gap_ms_p99": round(percentile(gaps, 99) * 1000, 1) if gaps else None,
        "chunk_gap_ms_max": round(max(gaps) * 1000, 1) if gaps else None,
        "first_token_ms_p50": round(percentile(firsts, 50) * 1000, 1) if firsts else None,
        "first_token_ms_p99": round(percentile(firsts, 99) * 1000, 1) if firsts else None,
        "wall_s": round(wall, 1),
        "server_cpu_cores": round(server_cpu / wall, 2),
        "client_cpu_cores": round(client_cpu / wall, 2),
        "loadavg_1min_after": round(os.getloadavg()[0], 1),
    }


def run(st: LoadStack, smoke: bool, ramp_s: float = 1.0) -> dict[str, Any]:
    """Both measurements on a running load stack."""
    p = SMOKE if smoke else FULL
    keys = make_keys(st.app, p["streams"], prefix="o_api_bench_")
    out = {"chunks_per_s": CHUNKS_PER_S, "targets": TARGETS}
    # In a thread of their own: under `bench.run`, Playwright's sync API owns this thread's loop.
    out["first_token"] = _run_async(_added_first_token, st.app, keys[0], p["ttft_runs"])
    out["concurrent"] = _run_async(_concurrent, st.app, keys, p["answer_chars"], ramp_s)
    return out


def rows(result: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The headline rows of `bench.run`'s table."""
    if "error" in result:
        return [("open API", "", "FAILED: " + str(result["error"])[:80])]
    ft, cc = result["first_token"], result["concurrent"]
    return [
        (
            "open API: added first token (streamed)",
            TARGETS["api_added_first_token_ms_p50"],
            f"p50 +{ft['api_added_first_token_ms_p50']} ms (direct {ft['direct_first_token_ms_p50']}"
            f" ms, through the app {ft['api_first_token_ms_p50']} ms; {ft['runs']} runs)",
        ),
        (
            f"open API: {cc['streams']} concurrent streams @{result['chunks_per_s']} chunks/s",
            TARGETS["api_chunk_gap_ms_p99"],
            f"p99 chunk gap {cc['chunk_gap_ms_p99']} ms (p50 {cc['chunk_gap_ms_p50']}, max "
            f"{cc['chunk_gap_ms_max']}); first token p50 {cc['first_token_ms_p50']} / p99 "
            f"{cc['first_token_ms_p99']} ms; {cc['errors']} errors; server "
            f"{cc['server_cpu_cores']} cores, client {cc['client_cpu_cores']}",
        ),
    ]


def main() -> None:
    """`python -m bench.open_api`: starts its own stack, prints the rows and the JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.open_api")
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--streams", type=int, default=0, help="override the stream count")
    parser.add_argument("--ramp-s", type=float, default=1.0)
    args = parser.parse_args()
    if args.streams:
        (SMOKE if args.smoke else FULL)["streams"] = args.streams
    env: dict[str, str] = {}
    with contextlib.ExitStack() as stack:
        if args.workers:
            from bench.run import _flush_redis, free_redis_db

            env = {"REDIS_URL": free_redis_db(), "GRANIAN_WORKERS": str(args.workers)}
            stack.callback(_flush_redis, env["REDIS_URL"])
            env["DATABASE_URL"] = stack.enter_context(fresh_pg_database())
        st = stack.enter_context(load_stack(CHUNKS_PER_S, env_extra=env))
        result = run(st, args.smoke, args.ramp_s)
    result["workers"] = args.workers or 1
    result["machine"] = machine()
    for name, target, measured in rows(result):
        print(f"{name:55} {target:16} {measured}")
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
