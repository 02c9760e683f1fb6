"""Benchmark — the admin dashboard's queries on a large ledger: 1,000,000 usage rows of 10,000
users over 60 days (and 20,000 refusals in the audit log), seeded on PostgreSQL with COPY.

Each query of `chatapp.admin.dashboard` (and the user list sorted by tokens, and one user's own
usage page) runs `RUNS` times after one warm-up; the median and the slowest are reported against
the goal of 300 ms each; the first read of the per-day series, which fills the daily rollup, is
timed on its own. `--smoke` seeds 20,000 rows of 500 users.

    python -m bench.dashboard [--smoke]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from sqlalchemy import make_url
from sqlmodel import Session, SQLModel, create_engine

from chatapp.admin import dashboard, users
from chatapp.billing import rollup, usage
from chatapp.core.config import load_settings
from testkit.postgres import fresh_pg_database

GOAL_MS = 300
RUNS = 5
FULL = {"rows": 1_000_000, "users": 10_000, "refusals": 20_000, "days": 60}
SMOKE = {"rows": 20_000, "users": 500, "refusals": 1_000, "days": 60}
MODELS = ("gpt-4o", "gpt-4o-mini", "deepseek-chat", "qwen-max", "glm-4")
PROVIDERS = ("openai", "deepseek", "dashscope")
RULES = ("quota", "model", "sensitive", "rate", "size", "status")


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def seed(url: str, size: dict[str, int], now: datetime) -> float:
    """Creates the tables and bulk-loads the rows; returns the seconds it took."""
    started = time.monotonic()
    SQLModel.metadata.create_all(create_engine(url))
    rnd = random.Random(16)
    span = size["days"] * 86400
    with psycopg.connect(_libpq(url)) as conn, conn.cursor() as cur:
        with cur.copy(
            'COPY "user" (id, openid, nickname, avatar, is_admin, admin_granted,'
            " created_at, last_login_at) FROM STDIN"
        ) as copy:
            for uid in range(1, size["users"] + 1):
                joined = now - timedelta(seconds=rnd.randrange(span))
                copy.write_row((uid, f"o_{uid:06d}", f"用户{uid}", "", False, False, joined, now))
        columns = (
            "user_id, created_at, source, provider, model, prompt_tokens, completion_tokens,"
            " reasoning_tokens, images, estimated, status, multiplier, reserved, charge,"
            " first_token_ms, error_code"
        )
        with cur.copy(f"COPY usageentry ({columns}) FROM STDIN") as copy:
            for _ in range(size["rows"]):
                # Heavier users and recent days are more common, as in a real ledger.
                uid = int(rnd.paretovariate(1.2)) % size["users"] + 1
                at = now - timedelta(seconds=int(span * rnd.random() ** 1.5))
                failed = rnd.random() < 0.01
                prompt, completion = rnd.randrange(50, 4000), rnd.randrange(20, 2000)
                copy.write_row(
                    (
                        uid,
                        at,
                        "chat",
                        rnd.choice(PROVIDERS),
                        rnd.choice(MODELS),
                        0 if failed else prompt,
                        0 if failed else completion,
                        0,
                        0,
                        rnd.random() < 0.05,
                        "refunded" if failed else "settled",
                        1.0,
                        0,
                        0 if failed else prompt + completion,
                        rnd.randrange(150, 3000),
                        "timeout" if failed else None,
                    )
                )
        with cur.copy(
            "COPY auditevent (created_at, actor_id, action, target, detail) FROM STDIN"
        ) as copy:
            for _ in range(size["refusals"]):
                at = now - timedelta(seconds=rnd.randrange(span))
                copy.write_row(
                    (at, rnd.randrange(1, size["users"]), "refusal", rnd.choice(RULES), "{}")
                )
        cur.execute("SELECT setval('user_id_seq', %s)", (size["users"],))
        conn.commit()
        conn.autocommit = True
        cur.execute("VACUUM ANALYZE")
    return time.monotonic() - started


def _time(fn: Callable[[], Any]) -> dict[str, float]:
    fn()  # warm-up: plans and caches, as on a dashboard opened twice
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return {"median_ms": round(statistics.median(times), 1), "max_ms": round(max(times), 1)}


def run(smoke: bool = False) -> dict[str, Any]:
    """Seeds a fresh PostgreSQL database and times each dashboard query."""
    size = SMOKE if smoke else FULL
    now = datetime.now(UTC)
    with fresh_pg_database("chatapp_bench_dash") as url:
        seed_s = seed(url, size, now)
        settings = load_settings({"DATABASE_URL": url, "BILLING_TIME_ZONE": "Asia/Shanghai"})
        engine = create_engine(url)
        heavy = 1  # the Pareto draw makes user 1 the heaviest
        queries: dict[str, Callable[[Session], Any]] = {
            "summary": lambda s: dashboard.summary(s, settings=settings, now=now),
            "tokens_by_day_and_model_30d": lambda s: dashboard.tokens_by_day_and_model(
                s, settings=settings, days=30, now=now
            ),
            # Today read live at its fullest: a whole day of the newest rows.
            "live_part_for_a_full_day": lambda s: rollup.from_ledger(
                s, settings.billing_time_zone, now - timedelta(days=1), None
            ),
            "calls_by_hour_7d": lambda s: dashboard.calls_by_hour(s, settings=settings, now=now),
            "top_users_30d": lambda s: dashboard.top_users(s, now=now),
            "refusals_by_rule_30d": lambda s: dashboard.refusals_by_rule(s, now=now),
            "errors_by_provider_30d": lambda s: dashboard.errors_by_provider(s, now=now),
            "user_list_by_tokens": lambda s: users.list_users(
                s, settings=settings, sort="tokens", now=now
            ),
            "one_users_usage_page": lambda s: usage.my_usage(
                s, settings=settings, user_id=heavy, now=now
            ),
        }
        out: dict[str, Any] = {}
        with Session(engine) as session:
            # The first read after start-up rolls up the finished days (once, then stored).
            started = time.perf_counter()
            dashboard.tokens_by_day_and_model(session, settings=settings, days=30, now=now)
            session.commit()
            first_read_ms = round((time.perf_counter() - started) * 1000, 1)
            for name, query in queries.items():
                out[name] = _time(lambda q=query: q(session))
                session.rollback()
        engine.dispose()
    slowest = max(v["median_ms"] for v in out.values())
    return {
        "rows": size["rows"],
        "users": size["users"],
        "days": size["days"],
        "seed_s": round(seed_s, 1),
        "rollup_first_read_ms": first_read_ms,
        "goal_ms": GOAL_MS,
        "queries": out,
        "all_within_goal": slowest <= GOAL_MS,
    }


def table_rows(result: dict[str, Any]) -> list[tuple[str, str, str]]:
    """Rows for bench/run.py's table."""
    if "error" in result:
        return [("dashboard", "", "FAILED: " + result["error"][:80])]
    label = f"dashboard ({result['rows']:,} rows, {result['users']:,} users, PostgreSQL)"
    return [
        (
            f"{label}: {name}",
            f"<= {GOAL_MS} ms",
            f"median {q['median_ms']} ms, max {q['max_ms']} ms",
        )
        for name, q in result["queries"].items()
    ] + [
        (
            f"{label}: tokens_by_day_and_model first read (rolls up 29 days, once)",
            "",
            f"{result['rollup_first_read_ms']} ms",
        )
    ]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.dashboard", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="a small ledger (seconds)")
    result = run(parser.parse_args().smoke)
    for row in table_rows(result):
        print(" | ".join(row))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
