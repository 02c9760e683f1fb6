"""50 calls at once from one user on 2 workers + PostgreSQL + Redis, at a balance that covers 10:
exactly 10 run, 40 are refused with OpenAI's `insufficient_quota`, and the ledger read back
never spent more than the wallet held (the reservation is one conditional UPDATE)."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import update
from sqlmodel import Session, select

from chatapp.auth import sessions
from chatapp.billing import plans
from chatapp.core.config import load_settings
from chatapp.core.db import make_engine
from chatapp.models import UsageEntry, User, Wallet
from testkit.app import start_app
from testkit.fakes.openai_server import FakeOpenAI, Reply
from testkit.postgres import fresh_pg_database
from testkit.topology import flush_redis

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]
REDIS_URL = "redis://127.0.0.1:6379/9"
JWT = "parallel-sends-" + "j" * 40
# A call reserves its prompt (one token: "hi") and its max_tokens (100): 101 units.
PER_CALL = 101


def test_fifty_parallel_calls_at_a_balance_for_ten(tmp_path):
    flush_redis(REDIS_URL)
    with FakeOpenAI(api_key="sk-up") as upstream, fresh_pg_database("chatapp_par") as db_url:
        # Every answer takes 3 s: all 50 reservations happen while the first 10 still run.
        upstream.queue(*[Reply(text="ok", first_byte_delay_s=3.0) for _ in range(50)])
        env = {
            "DATABASE_URL": db_url,
            "REDIS_URL": REDIS_URL,
            "WEB_CONCURRENCY": "2",
            "JWT_SECRET": JWT,
            "OPENAI_API_KEY": "sk-up",
            "OPENAI_BASE_URL": upstream.base_url,
            "CHATAPP_MODELS": "fake-gpt",
            "BILLING_DEFAULT_DAILY_FREE": "0",
            "API_KEY_REQUESTS_PER_MINUTE": "0",
        }
        app = start_app(tmp_path / "data", tmp_path / "app.log", name="parallel", **env)
        engine = make_engine(db_url)
        try:
            settings = load_settings({**env, "CHATAPP_DATA_DIR": str(tmp_path / "data")})
            with Session(engine, expire_on_commit=False) as s:
                user = User(openid="o_parallel")
                s.add(user)
                s.commit()
                assert user.id is not None
                uid = user.id
                plans.wallet(s, settings=settings, user_id=uid)
                s.execute(update(Wallet).where(Wallet.user_id == uid).values(balance=10 * PER_CALL))
                token = sessions.issue_session(s, settings=settings, user_id=uid)
                s.commit()
            made = httpx.post(
                app.url + "/api/v1/keys",
                json={"name": "burst"},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert made.status_code == 201, made.text
            key = made.json()["key"]

            async def burst() -> list[httpx.Response]:
                async with httpx.AsyncClient(timeout=60) as client:
                    body = {
                        "model": "fake-gpt",
                        "messages": [{"role": "user", "content": "hi"}],
                        "max_tokens": 100,
                    }
                    return await asyncio.gather(
                        *[
                            client.post(
                                app.url + "/v1/chat/completions",
                                json=body,
                                headers={"Authorization": f"Bearer {key}"},
                            )
                            for _ in range(50)
                        ]
                    )

            replies = asyncio.run(burst())
            codes = sorted(r.status_code for r in replies)
            assert codes.count(200) == 10, codes
            refused = [r.json()["error"] for r in replies if r.status_code == 429]
            assert len(refused) == 40
            assert {e["code"] for e in refused} == {"insufficient_quota"}
            assert "余额不足" in refused[0]["message"]
            with Session(engine) as s:
                rows = s.exec(select(UsageEntry).where(UsageEntry.user_id == uid)).all()
                wallet = s.get(Wallet, uid)
            assert wallet is not None
            settled = [r for r in rows if r.status == "settled"]
            assert len(rows) == 10 and len(settled) == 10
            assert {r.source for r in rows} == {"api"}
            spent = sum(r.charge for r in settled)
            assert 0 < spent <= 10 * PER_CALL
            assert wallet.reserved == 0
            assert wallet.balance == 10 * PER_CALL - spent
        finally:
            app.stop()
            engine.dispose()
            flush_redis(REDIS_URL)
