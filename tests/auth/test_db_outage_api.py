"""PostgreSQL goes away: `/login`, `/verify`, `/logout`, the login handoff and the WeChat callback
answer 503 with the reason (never a 500), the login page says so, and all work again once it is
back."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from limits.aio.storage import MemoryStorage

from chatapp.api.routes import build_api
from chatapp.auth.ratelimit import LoginGuard
from chatapp.core.config import set_settings
from chatapp.core.db import init_db
from testkit.fakes.tcp_proxy import TcpProxy
from testkit.fakes.wechat import WechatSimulator
from testkit.net import serve
from testkit.postgres import pg_database_behind_proxy
from tests.auth.conftest import make_settings


@pytest.fixture
def outage(tmp_path) -> Iterator[tuple[TcpProxy, WechatSimulator, str]]:
    with pg_database_behind_proxy("chatapp_auth_outage") as (proxy, url):
        init_db(url)
        settings = make_settings(tmp_path)
        set_settings(settings)
        try:
            with serve(build_api(settings, guard=LoginGuard(MemoryStorage()))) as base:
                yield proxy, WechatSimulator(settings, base), base
        finally:
            set_settings(None)


def code_from(wx: WechatSimulator, openid: str) -> str:
    match = re.search(r"验证码：(\d{8})", wx.reply(wx.text(openid, "登录"))["Content"])
    assert match
    return match.group(1)


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, (response.status_code, response.text)
    assert response.headers["retry-after"] == "5"
    body = response.json()
    assert body["code"] == "0001" and body["reason"] == "database"
    assert "数据库暂时不可用" in body["message"]


def test_auth_routes_and_callback_answer_503_while_the_database_is_down(outage):
    proxy, wx, base = outage
    token = httpx.post(f"{base}/api/v1/auth/login", data={"code": code_from(wx, "o_a")}).json()[
        "data"
    ]
    code = code_from(wx, "o_b")
    bearer = {"Authorization": f"Bearer {token}"}

    proxy.cut()
    assert_unavailable(httpx.get(f"{base}/api/v1/auth/verify", headers=bearer, timeout=30))
    assert_unavailable(httpx.post(f"{base}/api/v1/auth/login", data={"code": code}, timeout=30))
    assert_unavailable(httpx.post(f"{base}/api/v1/auth/logout", headers=bearer, timeout=30))
    push = wx.text("o_c", "登录")
    assert (push.status_code, push.text) == (503, "database_unavailable")
    page = httpx.get(f"{base}/api/v1/auth/session", params={"ticket": "x" * 43}, timeout=30)
    assert page.status_code == 503 and "数据库暂时不可用" in page.text

    proxy.restore()
    assert httpx.get(f"{base}/api/v1/auth/verify", headers=bearer, timeout=30).status_code == 200
    # The code typed during the outage was not used up.
    again = httpx.post(f"{base}/api/v1/auth/login", data={"code": code}, timeout=30)
    assert again.status_code == 200, again.text
    assert code_from(wx, "o_c")


async def test_the_login_page_says_the_database_is_down_and_keeps_the_code(outage):
    import asyncio

    import reflex as rx

    from chatapp.state.auth import LoginState

    proxy, wx, _base = outage
    code = await asyncio.to_thread(code_from, wx, "o_page")
    root = rx.State(_reflex_internal_init=True)  # type: ignore[call-arg]
    page = root.get_substate(LoginState.get_full_name().split(".")[1:])
    assert isinstance(page, LoginState)
    proxy.cut()
    result = await LoginState.submit_code.fn(page, {"code": code})  # type: ignore[attr-defined]
    assert result is None  # no navigation
    assert "数据库暂时不可用" in page.error
    assert page.code == code and not page.busy
