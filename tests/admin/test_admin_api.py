"""`GET /api/v1/admin/usage` over real HTTP against the running app (testkit/app.py): an admin
(from ADMIN_OPENIDS) gets the per-day-and-model rows of the ledger, by Bearer token or session
cookie; a user who is not an admin gets 403, no session 401, a bad `days` 400."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from testkit.app import AppServer, start_app
from testkit.fakes.wechat import dev_login
from testkit.paths import ARTIFACTS

ADMIN = "o_api_admin"
URL = "/api/v1/admin/usage"


@pytest.fixture(scope="module")
def app(tmp_path_factory) -> Iterator[AppServer]:
    ARTIFACTS.mkdir(exist_ok=True)
    server = start_app(
        tmp_path_factory.mktemp("admin-api"),
        ARTIFACTS / "app-admin-api.log",
        name="admin-api",
        ADMIN_OPENIDS=ADMIN,
        BILLING_TIME_ZONE="UTC",
    )
    yield server
    server.stop()


@pytest.fixture(scope="module")
def tokens(app) -> dict[str, str]:
    return {"admin": dev_login(app.url, ADMIN), "user": dev_login(app.url, "o_api_someone")}


def _seed(app: AppServer, openid: str, rows: list[tuple[str, str, int, int]]) -> None:
    """Ledger rows (ISO time, model, prompt, completion) of the user with `openid`."""
    with sqlite3.connect(app.env["DATABASE_URL"].removeprefix("sqlite:///")) as db:
        (user_id,) = db.execute("SELECT id FROM user WHERE openid=?", (openid,)).fetchone()
        db.executemany(
            "INSERT INTO usageentry (user_id, created_at, source, provider, model, prompt_tokens,"
            " completion_tokens, reasoning_tokens, images, estimated, status, multiplier,"
            " reserved, charge) VALUES (?, ?, 'chat', 'main', ?, ?, ?, 0, 0, 0, 'settled', 1, 0, 0)",
            [(user_id, at, model, p, c) for at, model, p, c in rows],
        )


def test_an_admin_gets_usage_per_day_and_model(app, tokens):
    today = datetime.now(UTC).date().isoformat()
    _seed(
        app,
        "o_api_someone",
        [
            (f"{today} 01:00:00", "fake-gpt", 10, 20),
            (f"{today} 02:00:00", "fake-gpt", 1, 2),
            (f"{today} 03:00:00", "fake-gpt-mini", 5, 5),
        ],
    )
    _seed(app, ADMIN, [(f"{today} 04:00:00", "fake-gpt", 100, 0)])
    bearer = httpx.get(
        app.url + URL, params={"days": "7"}, headers={"Authorization": f"Bearer {tokens['admin']}"}
    )
    assert bearer.status_code == 200, bearer.text
    body = bearer.json()
    assert body["days"] == 7
    assert body["data"] == [
        {
            "day": today,
            "model": "fake-gpt",
            "messages": 3,
            "prompt_tokens": 111,
            "completion_tokens": 22,
            "active_users": 2,
        },
        {
            "day": today,
            "model": "fake-gpt-mini",
            "messages": 1,
            "prompt_tokens": 5,
            "completion_tokens": 5,
            "active_users": 1,
        },
    ]
    cookie = httpx.get(app.url + URL, cookies={"chatapp_session": tokens["admin"]})
    assert cookie.status_code == 200 and cookie.json()["days"] == 30
    assert cookie.json()["data"] == body["data"]


def test_a_user_who_is_not_an_admin_gets_403_and_no_rows(app, tokens):
    answer = httpx.get(app.url + URL, headers={"Authorization": f"Bearer {tokens['user']}"})
    assert answer.status_code == 403
    assert "data" not in answer.json()


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer not-a-jwt"}, {"Authorization": "Basic YWRtaW46YWRtaW4="}],
    ids=["none", "bad token", "not bearer"],
)
def test_no_session_gets_401(app, headers):
    answer = httpx.get(app.url + URL, headers=headers)
    assert answer.status_code == 401
    assert "data" not in answer.json()


@pytest.mark.parametrize("days", ["0", "367", "-1", "7.5", "abc", "３"])
def test_a_bad_days_gets_400(app, tokens, days):
    answer = httpx.get(
        app.url + URL, params={"days": days}, headers={"Authorization": f"Bearer {tokens['admin']}"}
    )
    assert answer.status_code == 400
    assert "days" in answer.json()["message"]
