"""The whole code login in Debian Chromium: dev simulator → code → chat page → logout.

Starts the real app (tests/e2e/harness.py, one port, dev mode so the simulator exists) and drives
it with Playwright. Marked e2e: `make test` runs it, `make check` skips it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.e2e.harness import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, AppServer, app_env, free_port

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def app(tmp_path_factory) -> Iterator[AppServer]:
    data = tmp_path_factory.mktemp("login-app")
    port = free_port()
    env = app_env(port, data, CHATAPP_ENV="dev", WECHAT_LOGIN="code", ADMIN_OPENIDS="")
    env.pop("PUBLIC_URL", None)
    server = AppServer(port=port, env=env, log_path=data / "app.log").start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, app, request) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1100, "height": 800}, locale="zh-CN")
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.set_default_timeout(20_000)
    yield pg
    ARTIFACTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"))
    context.close()
    assert not errors, errors


def _session_cookie(page: Page) -> str:
    cookies = {c.get("name"): c for c in page.context.cookies()}
    assert "chatapp_session" in cookies
    assert cookies["chatapp_session"].get("sameSite") == "Lax"
    return cookies["chatapp_session"].get("value", "")


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
    code_input.press("Enter")
    expect(page).not_to_have_url(re.compile(r"/login"))
    token = _session_cookie(page)
    verify = httpx.get(app.url + "/api/v1/auth/verify", cookies={"chatapp_session": token})
    assert verify.status_code == 200
    # Logout (confirm dialog in the toolbar) revokes the token server-side.
    page.locator("#logout-button").click()
    page.locator("#logout-confirm").click()
    expect(page).to_have_url(re.compile(r"/login"))
    again = httpx.get(app.url + "/api/v1/auth/verify", cookies={"chatapp_session": token})
    assert again.status_code == 401


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
