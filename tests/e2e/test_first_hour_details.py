"""Issue 21 item 9, in the browser: each user has an avatar of their own (not 「微」 for all),
re-importing our own role export duplicates nothing and says how many it skipped, and the
font-size slider keeps the focus through arrow-key steps."""

from __future__ import annotations

import json

from playwright.sync_api import Browser, Page, expect

from testkit.app import AppServer
from testkit.browser import log_in, shot
from testkit.fakes.wechat import dev_login


def _page(browser: Browser, app: AppServer, openid: str, **options) -> Page:
    options.setdefault("viewport", {"width": 1280, "height": 820})
    context = browser.new_context(locale="zh-CN", **options)
    log_in(context, app.url, dev_login(app.url, openid))
    page = context.new_page()
    page.set_default_timeout(20_000)
    return page


def test_two_users_have_different_avatars_and_neither_is_wei(browser: Browser, app: AppServer):
    seen = []
    for openid in ("o_avatar_1a2b", "o_avatar_77cd"):
        page = _page(browser, app, openid)
        page.goto(app.url + "/")
        avatar = page.locator("#avatar-self")
        expect(avatar).not_to_have_text("我")  # the nickname has arrived
        text = avatar.inner_text()
        colour = avatar.evaluate("el => getComputedStyle(el).backgroundColor")
        assert text != "微", text
        seen.append((text, colour))
        shot(page, f"avatar-{openid}")
        page.context.close()
    assert seen[0][0] != seen[1][0] and seen[0][1] != seen[1][1], seen


def _import(page: Page, text: str) -> None:
    page.locator("#roles-menu").click()
    page.locator("#roles-import").click()
    page.locator("#role-import-text").fill(text)
    page.locator("#role-import-submit").click()


def test_reimporting_our_own_export_skips_the_identical_roles(browser: Browser, app: AppServer):
    page = _page(browser, app, "o_import_twice")
    doc = {
        "format": "chatapp.roles",
        "version": 1,
        "roles": [{"name": "导入一次", "system_prompt": "你是测试角色。"}],
    }
    page.goto(app.url + "/roles")
    _import(page, json.dumps(doc, ensure_ascii=False))
    expect(page.locator("#roles-notice")).to_contain_text("已导入 1 个角色")
    rows = page.locator(".role-row", has_text="导入一次")
    expect(rows).to_have_count(1)
    _import(page, json.dumps(doc, ensure_ascii=False))
    expect(page.locator("#roles-notice")).to_contain_text("跳过 1 个")
    expect(page.locator("#roles-notice")).to_contain_text("已导入 0 个角色")
    page.reload()
    expect(page.locator(".role-row", has_text="导入一次")).to_have_count(1)
    shot(page, "roles-reimport-skipped")
    page.context.close()


def test_the_font_size_slider_keeps_the_focus_through_arrow_steps(browser: Browser, app: AppServer):
    page = _page(browser, app, "o_font_slider")
    page.goto(app.url + "/settings")
    thumb = page.locator("#settings-font-size [role=slider]")
    expect(thumb).to_have_attribute("aria-valuenow", "15")
    thumb.focus()
    for expected in ("16", "17", "18"):
        page.keyboard.press("ArrowRight")
        expect(thumb).to_have_attribute("aria-valuenow", expected)
        page.wait_for_timeout(300)  # the save's round trip: the focus must survive it
        assert thumb.evaluate("el => el === document.activeElement"), expected
    page.keyboard.press("ArrowLeft")
    expect(thumb).to_have_attribute("aria-valuenow", "17")
    page.reload()
    expect(page.locator("#settings-font-size [role=slider]")).to_have_attribute(
        "aria-valuenow", "17"
    )
    page.context.close()
