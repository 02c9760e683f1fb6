"""The whole code login in Debian Chromium: dev simulator → code → chat page → logout; scan login.

Starts the real app (`testkit.app`, one port, dev mode so the simulator exists) and drives it
with Playwright. Marked e2e: `make test` runs it, `make check` skips it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import jwt
import pytest
from playwright.sync_api import Browser, Page, expect

from chatapp.core.config import load_settings
from testkit.app import AppServer, app_env
from testkit.browser import watched_page
from testkit.fakes.wechat import FakeWechatApi, WechatSimulator
from testkit.net import free_port, serve

pytestmark = pytest.mark.e2e


def _start_dev_app(data: Path, **env_extra: str) -> AppServer:
    """A dev-mode app (the simulator exists) on its own URL: no PUBLIC_URL from the environment."""
    port = free_port()
    env = app_env(port, data, CHATAPP_ENV="dev", **env_extra)
    env.pop("PUBLIC_URL", None)
    return AppServer(port=port, env=env, log_path=data / "app.log").start()


@pytest.fixture(scope="module")
def app(tmp_path_factory) -> Iterator[AppServer]:
    server = _start_dev_app(
        tmp_path_factory.mktemp("login-app"), WECHAT_LOGIN="code", ADMIN_OPENIDS=""
    )
    yield server
    server.stop()


@pytest.fixture
def page(browser, app, request) -> Iterator[Page]:
    with watched_page(
        browser,
        request.node.name,
        timeout_ms=20_000,
        viewport={"width": 1100, "height": 800},
        locale="zh-CN",
    ) as pg:
        yield pg


def _session_cookie(page: Page) -> str:
    cookies = {c.get("name"): c for c in page.context.cookies()}
    assert "chatapp_session" in cookies
    cookie = cookies["chatapp_session"]
    assert cookie.get("sameSite") == "Lax"
    assert cookie.get("httpOnly") is True
    # The page's own scripts cannot read it (an injected script could not steal the session).
    assert "chatapp_session" not in page.evaluate("document.cookie")
    return cookie.get("value", "")


def _assert_set_cookie_matches_the_jwt(set_cookie: str) -> None:
    """The Set-Cookie of the real login: HttpOnly, and Max-Age = the JWT's own lifetime."""
    parts = {p.strip().split("=", 1)[0].lower(): p.strip() for p in set_cookie.split(";")}
    assert "httponly" in parts, set_cookie
    token = parts["chatapp_session"].split("=", 1)[1]
    claims = jwt.decode(token, options={"verify_signature": False})
    max_age = int(parts["max-age"].split("=", 1)[1])
    assert max_age == claims["exp"] - claims["iat"] == 7 * 24 * 3600


def test_code_login_with_the_dev_simulator_then_logout(page: Page, app: AppServer):
    page.goto(app.url + "/")
    expect(page).to_have_url(re.compile(r"/login"))
    expect(page.locator("#login-card")).to_be_visible()
    page.locator("#sim-openid").fill("o_e2e_browser")
    page.locator("#sim-send").click()
    expect(page.locator("#sim-reply")).to_contain_text("验证码")
    page.locator("#sim-fill").click()
    code_input = page.locator("#login-code")
    expect(code_input).to_have_value(re.compile(r"^\d{8}$"))
    with page.expect_response(lambda r: "/api/v1/auth/session" in r.url) as login_response:
        code_input.press("Enter")
    expect(page).not_to_have_url(re.compile(r"/login"))
    _assert_set_cookie_matches_the_jwt(login_response.value.header_value("set-cookie") or "")
    token = _session_cookie(page)
    verify = httpx.get(app.url + "/api/v1/auth/verify", cookies={"chatapp_session": token})
    assert verify.status_code == 200
    # Logout (confirm dialog in the toolbar) revokes the token server-side.
    page.locator("#logout-button").click()
    page.locator("#logout-confirm").click()
    expect(page).to_have_url(re.compile(r"/login"))
    again = httpx.get(app.url + "/api/v1/auth/verify", cookies={"chatapp_session": token})
    assert again.status_code == 401
    assert "chatapp_session" not in {c.get("name") for c in page.context.cookies()}


def test_wrong_codes_show_errors_then_lock(page: Page, app: AppServer):
    page.goto(app.url + "/login")
    code_input = page.locator("#login-code")
    code_input.fill("00000001")
    code_input.press("Enter")
    expect(page.locator("#login-error")).to_contain_text("验证码不正确")
    for i in range(2, 6):
        code_input.fill(f"0000000{i}")
        code_input.press("Enter")
    expect(page.locator("#login-error")).to_contain_text("15 分钟")


@pytest.fixture(scope="module")
def scan_app(tmp_path_factory) -> Iterator[tuple[AppServer, FakeWechatApi]]:
    fake = FakeWechatApi()
    with serve(fake.app()) as api_url:
        server = _start_dev_app(
            tmp_path_factory.mktemp("scan-app"),
            WECHAT_LOGIN="both",
            WECHAT_API_BASE=api_url,
            WECHAT_APPSECRET="scan-secret",
            CHATAPP_SITE_NAME="扫码测试站",
        )
        yield server, fake
        server.stop()


def test_scan_login_logs_in_the_waiting_page(browser: Browser, scan_app, request):
    server, fake = scan_app
    with watched_page(browser, request.node.name, timeout_ms=20_000, locale="zh-CN") as page:
        page.goto(server.url + "/login?next=/")
        expect(page.locator("#login-scan-qr")).to_be_visible()
        src = page.locator("#login-scan-qr").get_attribute("src") or ""
        assert "/cgi-bin/showqrcode?ticket=" in src
        assert len(fake.qrcode_requests) == 1 and len(fake.token_requests) == 1
        scene = fake.qrcode_requests[0]["action_info"]["scene"]["scene_str"]
        assert scene.startswith("login:")
        # The user scans with WeChat: WeChat pushes a SCAN event to the app's callback.
        settings = load_settings(
            {"CHATAPP_ENV": "dev", "CHATAPP_DATA_DIR": str(server.log_path.parent)}
        )
        wx = WechatSimulator(settings, server.url)
        # The page's server-side wait notices within about a second and logs this tab in.
        with page.expect_response(lambda r: "/api/v1/auth/session" in r.url) as login_response:
            reply = wx.reply(wx.event("o_scanner", "SCAN", scene))
        assert "成功登录 扫码测试站" in reply["Content"]
        expect(page).not_to_have_url(re.compile(r"/login"), timeout=10_000)
        _assert_set_cookie_matches_the_jwt(login_response.value.header_value("set-cookie") or "")
        token = _session_cookie(page)
        ok = httpx.get(server.url + "/api/v1/auth/verify", cookies={"chatapp_session": token})
        assert ok.status_code == 200
