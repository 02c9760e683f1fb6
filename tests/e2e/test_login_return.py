"""After login a logged-out deep link reaches its target (the `next` survives the login handoff),
and a browser whose session was revoked by 退出所有设备 elsewhere is told why (issue 21 item 9)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from testkit.app import AppServer
from testkit.browser import log_in, shot
from testkit.fakes.wechat import dev_login


def _fresh(browser: Browser, locale: str = "zh-CN") -> Page:
    context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 820})
    page = context.new_page()
    page.set_default_timeout(20_000)
    return page


def _log_in_on_the_page(page: Page, openid: str) -> None:
    page.locator("#sim-openid").fill(openid)
    page.locator("#sim-send").click()
    page.locator("#sim-fill").click()
    code = page.locator("#login-code")
    expect(code).to_have_value(re.compile(r"^\d{8}$"))
    code.press("Enter")


@pytest.mark.parametrize("target", ["/settings", "/chat/not-a-real-id", "/roles"])
def test_a_logged_out_deep_link_reaches_its_target_after_login(
    browser: Browser, app: AppServer, target: str
):
    page = _fresh(browser)
    page.goto(app.url + target)
    expect(page).to_have_url(re.compile(r"/login\?next="))
    expect(page.locator("#login-signed-out")).to_have_count(0)  # a first visit: nothing to explain
    _log_in_on_the_page(page, "o_deep_link")
    expect(page).to_have_url(re.compile(re.escape(app.url + target) + "/?$"))
    page.context.close()


def test_a_device_signed_out_everywhere_is_told_why(browser: Browser, app: AppServer):
    openid = "o_signed_out_elsewhere"
    here, there = _fresh(browser), _fresh(browser, locale="en-US")
    log_in(here.context, app.url, dev_login(app.url, openid))
    log_in(there.context, app.url, dev_login(app.url, openid))
    there.goto(app.url + "/settings")
    expect(there.locator("#logout-everywhere")).to_be_visible()
    here.goto(app.url + "/settings")
    here.locator("#logout-everywhere").click()
    here.locator("#logout-everywhere-confirm").click()
    expect(here).to_have_url(re.compile(r"/login"))
    # The device that asked for it knows: no notice there.
    expect(here.locator("#login-card")).to_be_visible()
    expect(here.locator("#login-signed-out")).to_have_count(0)
    # The other device, on its next page, is sent to the login page and told why.
    there.goto(app.url + "/")
    expect(there).to_have_url(re.compile(r"/login"))
    there.locator("#lang-en").click()
    expect(there.locator("#login-signed-out")).to_contain_text(
        "You were signed out on another device"
    )
    shot(there, "login-signed-out-elsewhere-en")
    there.locator("#lang-zh").click()
    expect(there.locator("#login-signed-out")).to_contain_text("你已在其他设备上退出登录")
    shot(there, "login-signed-out-elsewhere-zh")
    here.context.close()
    there.context.close()
