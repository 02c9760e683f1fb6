"""`make bench` / `make bench-smoke`: runs every benchmark against the real app in production mode,
prints a table and writes the results as JSON (`results_file`: latest.json only for `make bench`).

Two app instances are started in turn: one wired to an in-process fake model (stream cost, first
token, big conversations — replies queued per case) and one wired to a fake model running as its
own process at a fixed pace (concurrency and idle memory — the load client needs the CPU).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright

from bench import admission, big, dashboard, load, open_api, stream_cost, ttft
from bench.common import RESULTS, launch_browser, load_stack, machine, stack
from testkit.postgres import fresh_pg_database

TARGETS = {
    "payload_bytes_per_char": "<= 10, flat (64k/1k <= 1.2)",
    "added_ttft_ms_p50": "<= 15 ms",
    "max_concurrent_streams": ">= 300",
    "click_to_rendered_ms": "<= 500 ms",
    "rss_per_idle_user_kb": "<= 1024 KB",
    "dashboard_query_ms": f"<= {dashboard.GOAL_MS} ms each",
    "admission_per_send_ms_p99": f"<= {admission.GOAL_P99_MS} ms",
}

FULL = {
    "ttft_runs": 20,
    "big_conversations": 2_000,
    "big_messages": 1_000,
    "load_steps": [50, 100, 200, 300, 400, 500],
    "load_answer_chars": 1_200,
    "idle_sockets": 1_000,
}
SMOKE = {
    "ttft_runs": 3,
    "big_conversations": 150,
    "big_messages": 120,
    "load_steps": [5],
    "load_answer_chars": 200,
    "idle_sockets": 20,
}
LOAD_CHUNKS_PER_S = 30


def free_redis_db(url: str = "redis://127.0.0.1:6379") -> str:
    """A Redis database number nobody uses now (other developers share this Redis): the highest
    empty one, so that the low numbers people pick by hand stay free."""
    import redis

    client = redis.Redis.from_url(url)
    used = {int(k[2:]) for k in client.info("keyspace")}  # type: ignore[union-attr]
    db = max(set(range(1, 16)) - used)
    return f"{url}/{db}"


def _flush_redis(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


def results_file(
    smoke: bool,
    only: set[str] | None = None,
    workers: int = 0,
    load_steps: list[int] | None = None,
    database: str = "sqlite",
    ramp_s: float = 1.0,
) -> Path:
    """Where a run's JSON goes. latest.json is committed (bench/README.md quotes it), so only
    `make bench` (full sizes, every benchmark, one worker on SQLite) replaces it; a smoke run (CI's
    `make bench-smoke`) or a run with options writes a git-ignored file of its own, and a clean
    checkout stays clean."""
    if smoke:
        return RESULTS / "smoke.json"
    custom = bool(only or workers or load_steps) or database != "sqlite" or ramp_s != 1.0
    return RESULTS / ("custom.json" if custom else "latest.json")


def run(
    smoke: bool,
    only: set[str] | None,
    workers: int = 0,
    load_steps: list[int] | None = None,
    database: str = "sqlite",
    ramp_s: float = 1.0,
) -> dict[str, Any]:
    """Runs the benchmarks; returns everything measured."""
    target = results_file(smoke, only, workers, load_steps, database, ramp_s)
    p = dict(SMOKE if smoke else FULL)
    if load_steps:
        p["load_steps"] = load_steps
    out: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "smoke": smoke,
        "machine": machine(),
        # Other developers share this 2-core machine: the load average says how much.
        "loadavg_at_start": [round(x, 1) for x in os.getloadavg()],
        "targets": TARGETS,
    }
    want = (lambda name: name in only) if only else (lambda name: True)
    started = time.monotonic()

    def step(key: str, fn: Callable[[], Any]) -> None:
        # One failing benchmark (a timeout on a busy machine) must not lose the others.
        try:
            out[key] = fn()
        except Exception as exc:
            out[key] = {"error": f"{type(exc).__name__}: {str(exc)[:300]}"}
        save(out, target)

    if want("dashboard"):
        # No app or browser: the admin dashboard's queries on a seeded PostgreSQL.
        step("dashboard", lambda: dashboard.run(smoke))
    if want("admission"):
        # No app or browser: the rule chain and the reservation against the databases.
        step("admission", lambda: admission.run(smoke))
    with sync_playwright() as pw:
        browser = launch_browser(pw)
        try:
            if want("stream") or want("ttft") or want("big"):
                with stack() as st:
                    out["startup_warm_s"] = round(st.startup_s, 1)
                    if want("stream"):
                        step("stream_cost", lambda: stream_cost.run(browser, st, smoke))
                    if want("ttft"):
                        step("first_token", lambda: ttft.run(browser, st, p["ttft_runs"]))
                    if want("big"):
                        step(
                            "big_conversations",
                            lambda: big.run(browser, st, p["big_conversations"], p["big_messages"]),
                        )
            if want("load") or want("memory") or want("api"):
                env: dict[str, str] = {}
                if workers:
                    # Several workers need the Redis state manager (reflex/utils/exec.py).
                    env = {"REDIS_URL": free_redis_db(), "GRANIAN_WORKERS": str(workers)}
                    out["load_workers"] = {"workers": workers, "redis": env["REDIS_URL"]}
                out["load_database"] = database
                with contextlib.ExitStack() as stack_:
                    if workers:
                        # Leave the database empty for the next run (the states of a thousand
                        # users otherwise stay behind, and the numbers run out after 15 runs).
                        stack_.callback(_flush_redis, env["REDIS_URL"])
                    if database == "postgres":
                        # The scale-out topology (docs/deploy.md): several workers share one
                        # PostgreSQL, not one SQLite file (whose single writer they queue on).
                        env["DATABASE_URL"] = stack_.enter_context(fresh_pg_database())
                    ls = stack_.enter_context(load_stack(LOAD_CHUNKS_PER_S, env_extra=env))
                    out.setdefault("startup_warm_s", round(ls.startup_s, 1))
                    proto = load.capture_protocol(browser, ls)
                    # Load first: the memory step leaves 1,000 idle states behind, which made
                    # the next step's update gaps spikier (one run each: p99 431 ms at 100
                    # streams right after it, 203 ms without it).
                    if want("load"):
                        step(
                            "concurrency",
                            lambda: load.concurrency(
                                ls,
                                proto,
                                p["load_steps"],
                                p["load_answer_chars"],
                                LOAD_CHUNKS_PER_S,
                                ramp_s,
                            ),
                        )
                    if want("api"):
                        # Before the memory step, for the same reason as the load.
                        step("open_api", lambda: open_api.run(ls, smoke, ramp_s))
                    if want("memory"):
                        step("idle_memory", lambda: load.idle_memory(ls, proto, p["idle_sockets"]))
        finally:
            browser.close()
    out["bench_seconds"] = round(time.monotonic() - started, 1)
    out["loadavg_at_end"] = [round(x, 1) for x in os.getloadavg()]
    return out


def save(result: dict[str, Any], path: Path) -> None:
    """Writes the results to `path` (after every benchmark, so a crash keeps what was measured)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(result, indent=2, ensure_ascii=False)
    path.write_text(text + "\n")


def table(r: dict[str, Any]) -> str:
    """A markdown table of the headline numbers."""
    rows = [("benchmark", "target", "measured")]
    for key in ("stream_cost", "first_token", "concurrency", "big_conversations", "idle_memory"):
        if "error" in r.get(key, {}):
            rows.append((key, "", "FAILED: " + r[key]["error"][:80]))
            r = {k: v for k, v in r.items() if k != key}
    sc = r.get("stream_cost")
    if sc:
        for c in sc["cases"]:
            rows.append(
                (
                    f"stream cost {c['case']}",
                    TARGETS["payload_bytes_per_char"],
                    f"{c['payload_bytes_per_char']} B/char payload ({c['batch_bytes_per_char']} in "
                    f"text batches), {c['wire_bytes_per_char']} wire, "
                    f"{c['deflate_bytes_per_char']} if deflated; {c['frames']} frames",
                )
            )
        rows.append(("stream cost flatness 64k/1k", "<= 1.2", str(sc["flatness_64k_over_1k"])))
        rows.append(("websocket extensions negotiated", "", sc["websocket_extensions"]))
    ft = r.get("first_token")
    if ft and "error" not in ft:
        for name, f in ft.items():
            rows.append(
                (
                    f"added time to first token ({name})",
                    TARGETS["added_ttft_ms_p50"],
                    f"p50 {f['added_ttft_ms_p50']} ms (server {f['server_part_ms_p50']}, "
                    f"browser {f['browser_part_ms_p50']}), p95 {f['added_ttft_ms_p95']} ms "
                    f"({f['runs']} runs)",
                )
            )
    cc = r.get("concurrency")
    if cc:
        last = cc["steps"][-1]
        rows.append(
            (
                f"concurrent streams @{cc['chunks_per_s']} chunks/s, sends over "
                f"{cc.get('ramp_s', 1.0):g} s",
                TARGETS["max_concurrent_streams"],
                f"{cc['max_users_ok']} ok; last step {last['users']} users: p99 gap "
                f"{last['update_gap_ms_p99']} ms (while all stream: "
                f"{last.get('update_gap_ms_p99_all_streaming')} ms), {last['errors']} errors, "
                f"{last['backend_cpu_cores']} cores, {last['backend_cpu_ms_per_stream']} CPU-ms "
                f"per stream, {last['backend_rss_peak_mb']} MB, load avg "
                f"{last['loadavg_1min_before']}",
            )
        )
    bg = r.get("big_conversations")
    if bg:
        rows.append(("big: list page load (goto)", "", f"{bg['list_page_load_ms']} ms"))
        for key in (
            "open_big_conversation",
            "switch_to_small_conversation",
            "load_earlier",
            "search_incl_300ms_debounce",
            "load_more",
        ):
            if key in bg:
                m = bg[key]
                parts = f"{m['total_ms']} ms"
                if "server_ms" in m:
                    parts += (
                        f" (browser {m['browser_before_send_ms']} + server {m['server_ms']} + "
                        f"render {m['browser_render_ms']}; {m['received_bytes']} B)"
                    )
                rows.append((f"big: {key}", TARGETS["click_to_rendered_ms"], parts))
        rows.append(("big: list rows rendered", "", str(bg.get("list_rows_rendered"))))
    im = r.get("idle_memory")
    if im:
        rows.append(
            (
                f"RSS per idle user ({im['connected']} sockets)",
                TARGETS["rss_per_idle_user_kb"],
                f"{im['rss_per_idle_user_kb']} KB",
            )
        )
    if "open_api" in r:
        rows.extend(open_api.rows(r["open_api"]))
    if "dashboard" in r:
        rows.extend(dashboard.table_rows(r["dashboard"]))
    if "admission" in r:
        rows.extend(admission.table_rows(r["admission"]))
    if "startup_warm_s" in r:
        rows.append(("warm start to first page", "", f"{r['startup_warm_s']} s"))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"
        for row in rows
    ]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description="chatapp benchmarks")
    parser.add_argument(
        "--smoke", action="store_true", help="tiny sizes (CI); writes bench/results/smoke.json"
    )
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated: stream,ttft,big,load,api,memory,dashboard,admission (default all)",
    )
    parser.add_argument(
        "--workers", type=int, default=0, help="load/memory with N workers + Redis (default: 1)"
    )
    parser.add_argument(
        "--load-steps",
        default="",
        help="comma-separated user counts for the concurrency steps (default 50,100,200,...)",
    )
    parser.add_argument(
        "--database",
        choices=("sqlite", "postgres"),
        default=None,
        help="the load/memory app's database: a SQLite file, or a fresh PostgreSQL database on "
        "127.0.0.1:5432 (the scale-out topology); default: SQLite for one worker, PostgreSQL for "
        "several (docs/deploy.md: SQLite is for one instance; 3 workers on one SQLite file "
        "waited past its 5 s busy timeout under 300 sends)",
    )
    parser.add_argument(
        "--load-ramp-s",
        type=float,
        default=1.0,
        help="the concurrency steps' users press send spread over this many seconds (default 1)",
    )
    args = parser.parse_args()
    only = {x.strip() for x in args.only.split(",") if x.strip()} or None
    steps = [int(x) for x in args.load_steps.split(",") if x.strip()]
    database = args.database or ("postgres" if args.workers > 1 else "sqlite")
    options = (args.smoke, only, args.workers, steps or None, database, args.load_ramp_s)
    result = run(*options)
    target = results_file(*options)
    save(result, target)
    if not args.smoke:
        # A dated copy of every measuring run (git-ignored), to compare runs later.
        stamp = datetime.now(UTC).strftime("%Y-%m-%d-%H%M")
        save(result, RESULTS / f"{stamp}.json")
    print(table(result))
    print(
        f"\n{result['machine']}; load average {result['loadavg_at_start']} -> "
        f"{result['loadavg_at_end']}; {result['bench_seconds']} s; written to {target}"
    )
    # A benchmark that stops running fails the command (and CI's bench-smoke): a failure kept
    # only in the JSON goes unnoticed.
    broken = sorted(k for k, v in result.items() if isinstance(v, dict) and "error" in v)
    if broken:
        print(f"benchmarks that failed: {', '.join(broken)}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
