"""The Official Account API client against a fake server on 127.0.0.1, and the scan-login flow."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from chatapp.auth import accounts, login
from chatapp.auth.wechat_api import WechatApi, WechatApiError
from chatapp.core.db import session_scope
from tests.auth.conftest import make_settings


@pytest.fixture
async def api(tmp_path, db, fake_api):
    fake, url = fake_api
    settings = make_settings(tmp_path, WECHAT_API_BASE=url, WECHAT_LOGIN="both")
    now = [1000.0]
    async with httpx.AsyncClient(timeout=5) as client:
        yield WechatApi(settings, client, clock=lambda: now[0]), fake, now


async def test_token_fetched_once_for_concurrent_callers(api):
    client, fake, _now = api
    fake.delay_s = 0.2
    tokens = await asyncio.gather(*(client.access_token() for _ in range(20)))
    assert set(tokens) == {"TOKEN-1"}
    assert len(fake.token_requests) == 1
    assert fake.token_requests[0] == {
        "grant_type": "client_credential",
        "appid": client.settings.wechat_appid,
        "secret": "test-secret",
        "force_refresh": False,
    }


async def test_token_refreshed_before_expiry(api):
    client, fake, now = api
    assert await client.access_token() == "TOKEN-1"
    now[0] += 7200 - 301
    assert await client.access_token() == "TOKEN-1"
    now[0] += 2
    results = await asyncio.gather(*(client.access_token() for _ in range(5)))
    assert set(results) == {"TOKEN-2"}
    assert len(fake.token_requests) == 2


async def test_qrcode_request_and_expired_token_retry(api):
    client, fake, _now = api
    fake.expire_next_token = True
    url = await client.create_login_qrcode("login:abc", expire_seconds=300)
    assert url.startswith(client.settings.wechat_api_base + "/cgi-bin/showqrcode?ticket=")
    assert "TICKET%2Blogin%3Aabc%2F%3D" in url
    assert [r["token"] for r in fake.qrcode_requests] == ["TOKEN-1", "TOKEN-2"]
    body = fake.qrcode_requests[-1]
    assert body["action_name"] == "QR_STR_SCENE"
    assert body["expire_seconds"] == 300
    assert body["action_info"] == {"scene": {"scene_str": "login:abc"}}


async def test_api_errors_are_typed(api):
    client, fake, _now = api
    fake.qrcode_error = {"errcode": 48001, "errmsg": "api unauthorized"}
    with pytest.raises(WechatApiError) as info:
        await client.create_login_qrcode("login:x")
    assert info.value.errcode == 48001
    dead = WechatApi(
        client.settings.__class__(
            **{**client.settings.__dict__, "wechat_api_base": "http://127.0.0.1:9"}
        ),
        client.client,
    )
    with pytest.raises(WechatApiError):
        await dead.access_token()


@pytest.mark.parametrize("mode", ["plain", "compat", "safe"])
async def test_scan_login_flow(tmp_path, start, fake_api, mode):
    fake, url = fake_api
    run = start(mode, WECHAT_API_BASE=url, WECHAT_LOGIN="both")
    async with httpx.AsyncClient(timeout=5) as client:
        wechat_api = WechatApi(run.settings, client)
        ticket_id, qr_url = await login.begin_scan_login(api=wechat_api)
    assert "showqrcode" in qr_url
    scene = fake.qrcode_requests[0]["action_info"]["scene"]["scene_str"]
    assert scene == f"login:{ticket_id}"
    with session_scope() as session:
        assert (
            accounts.consume_login_ticket(session, settings=run.settings, ticket_id=ticket_id)
            is None
        )
    # The user scans: SCAN for followers, subscribe+qrscene_ for new followers.
    event = "SCAN" if mode != "compat" else "subscribe"
    key = scene if event == "SCAN" else f"qrscene_{scene}"
    reply = await asyncio.to_thread(lambda: run.wx.reply(run.wx.event("o_scan", event, key)))
    assert "成功登录 测试站" in reply["Content"]
    with session_scope() as session:
        result = accounts.consume_login_ticket(session, settings=run.settings, ticket_id=ticket_id)
    assert result is not None and result[0].openid == "o_scan"
    with session_scope() as session:
        again = accounts.consume_login_ticket(session, settings=run.settings, ticket_id=ticket_id)
    assert again is None
    # Scanning a consumed ticket says so (a later push: another CreateTime, so no dedup).
    later = int(run.clock()) + 5
    late = await asyncio.to_thread(
        lambda: run.wx.reply(run.wx.event("o_scan", "SCAN", scene, create_time=later))
    )
    assert "已过期或已被使用" in late["Content"]
