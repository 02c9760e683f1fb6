"""Phones (390×844, touch): the tab bar reaches every page, the chat title stays readable, and
Enter adds a line while the button sends (issue 21, item 2)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from testkit.browser import log_in, shot, watched_page
from testkit.fakes.openai_server import Reply

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser, app, fake_llm, session_token, request) -> Iterator[Page]:
    fake_llm.reset()
    with watched_page(
        browser,
        request.node.name,
        viewport=PHONE,
        locale="zh-CN",
        has_touch=True,
        is_mobile=True,
    ) as pg:
        log_in(pg.context, app.url, session_token)
        yield pg


def _open_composer(phone: Page, app) -> None:
    phone.goto(app.url + "/")
    phone.locator("#new-chat").click()


def _start_chat(phone: Page, app, text: str) -> None:
    _open_composer(phone, app)
    box = phone.locator("#composer-input")
    expect(box).to_be_visible()
    box.fill(text)
    phone.locator("#composer-send").click()
    expect(phone).to_have_url(re.compile(r"/chat/[\w-]+$"))


def test_tab_bar_reaches_roles_settings_and_logout(phone, app, fake_llm):
    fake_llm.queue(Reply(text="好的。"))
    _start_chat(phone, app, "手机导航")
    # Inside a conversation: back to the list, where the tab bar is.
    expect(phone.locator(".phone-nav")).to_be_hidden()
    phone.locator(".mobile-back").click()
    expect(phone).to_have_url(re.compile(r"/$"))
    nav = phone.locator(".phone-nav")
    expect(nav).to_be_visible()
    box = nav.bounding_box()
    assert box is not None and box["y"] + box["height"] <= PHONE["height"] + 1
    shot(phone, "phone-list-tabs")
    phone.locator("#phone-tab-roles").click()
    expect(phone).to_have_url(re.compile(r"/roles$"))
    expect(phone.locator('[data-testid="role-item"]').first).to_be_visible()
    expect(phone.locator("#phone-tab-roles")).to_have_attribute("aria-current", "page")
    shot(phone, "phone-roles")
    phone.locator("#phone-tab-settings").click()
    expect(phone).to_have_url(re.compile(r"/settings$"))
    expect(phone.locator("#settings-theme")).to_be_visible()
    expect(phone.locator(".phone-nav")).to_be_visible()
    shot(phone, "phone-settings")
    phone.locator("#phone-logout").click()
    expect(phone.locator("#phone-logout-confirm")).to_be_visible()
    shot(phone, "phone-logout-confirm")
    # Not confirmed: the session is shared with the other browser tests.
    phone.get_by_role("button", name="取消").click()
    expect(phone.locator("#phone-logout-confirm")).to_be_hidden()
    phone.locator("#phone-tab-chat").click()
    expect(phone).to_have_url(re.compile(r"/$"))


def test_chat_title_stays_readable(phone, app, fake_llm):
    fake_llm.queue(Reply(text="好。"))
    _start_chat(phone, app, "周末去杭州西湖的计划")
    title = phone.locator("#chat-title")
    expect(title).to_have_text("周末去杭州西湖的计划")
    box = title.bounding_box()
    assert box is not None and box["width"] >= 96, box
    # The text's own width (a copy without the header's squeeze) fits the title's box.
    widths = title.evaluate(
        """el => { const c = el.cloneNode(true); c.removeAttribute('id');
        c.style.cssText = 'position:absolute;visibility:hidden;width:auto;max-width:none;flex:none';
        el.parentElement.appendChild(c); const w = c.getBoundingClientRect().width; c.remove();
        return [w, el.getBoundingClientRect().width]; }"""
    )
    assert widths[0] <= widths[1] + 0.5, f"a short title is cut off: {widths}"
    # The role picker and ⚙ stay in the header; the model is in the ⚙ panel.
    expect(phone.locator("#role-picker")).to_be_visible()
    expect(phone.locator("#chat-settings")).to_be_visible()
    shot(phone, "phone-chat-header")


def test_enter_adds_a_line_and_the_button_sends(phone, app, fake_llm):
    fake_llm.queue(Reply(text="收到。"))
    _open_composer(phone, app)
    box = phone.locator("#composer-input")
    expect(box).to_be_visible()
    expect(box).to_have_attribute("placeholder", re.compile("换行"))
    box.click()
    box.type("第一行")
    box.press("Enter")
    box.type("第二行")
    expect(box).to_have_value("第一行\n第二行")
    phone.wait_for_timeout(300)
    expect(phone.locator('[data-testid="user-bubble"]')).to_have_count(0)
    assert not fake_llm.requests, "Enter sent the message on a phone"
    phone.locator("#composer-send").click()
    expect(phone.locator('[data-testid="user-bubble"]').last).to_have_text("第一行\n第二行")
    expect(box).to_have_value("")
    shot(phone, "phone-sent-two-lines")
