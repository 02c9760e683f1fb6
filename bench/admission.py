"""Benchmark — what the rule chain and the quota reservation add to each send.

For every send, as a chat turn does it: `billing.gate.admit_call` (the plan, the wallet, the rule
chain with 1,000 敏感词 matched against a 300-character message, and `wallet.reserve`'s
conditional UPDATE and ledger row), a commit, then `wallet.settle` and a commit. The per-send cost
is admit + settle, the work billing adds inside the turn's transactions; the two commits are
timed apart (a chat turn commits its message and its answer anyway, the ledger rides along). The
plan has a daily quota (every rule runs, the reservation touches the wallet). Calls rotate over
50 users, on a fresh PostgreSQL database and a fresh SQLite file; p50 and p99 of each step and
of the whole per-send cost, against the goal of 2 ms p99 per send. `--smoke`: 200 calls.

    python -m bench.admission [--smoke]
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlmodel import Session, SQLModel

from bench.common import machine, percentile
from chatapp.billing import gate, sensitive, wallet
from chatapp.billing.wallet import Usage
from chatapp.core.config import load_settings
from chatapp.core.db import make_engine
from chatapp.models import User
from testkit.postgres import fresh_pg_database, postgres_reachable

GOAL_P99_MS = 2.0
CALLS = {"full": 2_000, "smoke": 200}
USERS = 50
WORDS = 1_000
MODEL = "gpt-4o-mini"
# 常用汉字: the words and the message are drawn from them, so a hit is as likely as in real text.
HAN = "的一是了我不人在他有这个上们来到时大地为子中你说生国年着就那和要她出也得里后自以会家可下而过天去能对小多然于心学么之都好看起发当没成只如事把还用第样道想作种开美总从无情己面最女但现前些所同日手又行意动方期它头经长儿回位分爱老因很给名法间斯知世什两次使身者被高已亲其进此话常与活正感"


def _words(rnd: random.Random) -> list[str]:
    words: set[str] = set()
    while len(words) < WORDS:
        words.add("".join(rnd.choice(HAN) for _ in range(rnd.randrange(3, 6))))
    return sorted(words)


def _message(rnd: random.Random, words: set[str]) -> str:
    while True:
        text = "".join(rnd.choice(HAN) for _ in range(300))
        if not sensitive.WordList(words).find(text):
            return text  # a message that is let through: every rule runs to the end


@contextmanager
def _database(name: str) -> Iterator[str]:
    if name == "postgresql":
        with fresh_pg_database("chatapp_bench_admit") as url:
            yield url
    else:
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{Path(tmp) / 'admission.db'}"


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def _stats(values: list[float]) -> dict[str, float]:
    return {"p50_ms": round(percentile(values, 50), 3), "p99_ms": round(percentile(values, 99), 3)}


def run_on(backend: str, calls: int) -> dict[str, Any]:
    """Times `calls` admitted, reserved and settled sends on one database."""
    rnd = random.Random(16)
    words = _words(rnd)
    text = _message(rnd, set(words))
    with _database(backend) as url, tempfile.TemporaryDirectory() as data:
        settings = load_settings(
            {
                "DATABASE_URL": url,
                "CHATAPP_DATA_DIR": data,
                "BILLING_DEFAULT_DAILY_FREE": str(10**9),
                "BILLING_TIME_ZONE": "Asia/Shanghai",
            }
        )
        engine = make_engine(url)
        SQLModel.metadata.create_all(engine)
        with Session(engine) as session:
            people = [User(openid=f"bench_{i}") for i in range(USERS)]
            session.add_all(people)
            session.flush()
            ids = [u.id for u in people if u.id is not None]
            sensitive.save_words(
                session, words=words, refuse_input=True, mask_output=True, actor_id=None
            )
            session.commit()
        sensitive.forget_cached_policy()
        admit: list[float] = []
        settle: list[float] = []
        total: list[float] = []
        commits: list[float] = []
        with Session(engine, expire_on_commit=False) as session:
            for n in range(calls + USERS):  # the first round makes each wallet: not timed
                user = ids[n % USERS]
                started = time.perf_counter()
                hold = gate.admit_call(
                    session,
                    settings=settings,
                    user_id=user,
                    model=MODEL,
                    text=text,
                    prompt_tokens=1_200,
                    reply_tokens=1_000,
                    max_message_chars=10_000,
                )
                admitted = _ms(started)
                started = time.perf_counter()
                session.commit()
                committed = _ms(started)
                started = time.perf_counter()
                wallet.settle(
                    session, hold=hold, usage=Usage(prompt_tokens=1_150, completion_tokens=640)
                )
                settled = _ms(started)
                started = time.perf_counter()
                session.commit()
                committed += _ms(started)
                if n >= USERS:
                    admit.append(admitted)
                    settle.append(settled)
                    total.append(admitted + settled)
                    commits.append(committed)
        engine.dispose()
    sensitive.forget_cached_policy()
    return {
        "calls": calls,
        "admit_and_reserve": _stats(admit),
        "settle": _stats(settle),
        "per_send": _stats(total),
        "commits": _stats(commits),
        "within_goal": percentile(total, 99) <= GOAL_P99_MS,
    }


def run(smoke: bool = False) -> dict[str, Any]:
    """Both databases (PostgreSQL when it is reachable), with the machine's load."""
    import os

    calls = CALLS["smoke" if smoke else "full"]
    backends = ["postgresql", "sqlite"] if postgres_reachable() else ["sqlite"]
    load_before = os.getloadavg()[0]
    out: dict[str, Any] = {name: run_on(name, calls) for name in backends}
    return {
        "goal_p99_ms": GOAL_P99_MS,
        "words": WORDS,
        "users": USERS,
        "machine": machine(),
        "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "backends": out,
    }


def table_rows(result: dict[str, Any]) -> list[tuple[str, str, str]]:
    """Rows for bench/run.py's table."""
    if "error" in result:
        return [("admission", "", "FAILED: " + result["error"][:80])]
    rows = []
    for name, r in result["backends"].items():
        for step in ("admit_and_reserve", "settle", "per_send", "commits"):
            goal = f"p99 <= {GOAL_P99_MS} ms" if step == "per_send" else ""
            s = r[step]
            rows.append(
                (
                    f"admission ({name}, {r['calls']:,} calls, {WORDS:,} 敏感词): {step}",
                    goal,
                    f"p50 {s['p50_ms']} ms, p99 {s['p99_ms']} ms",
                )
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.admission", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="200 calls (seconds)")
    result = run(parser.parse_args().smoke)
    for row in table_rows(result):
        print(" | ".join(row))
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
