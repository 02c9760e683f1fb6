"""Small trust breakers of issue 21 (item 9): 清除上下文 says what it is and adds one divider however
often it is clicked; the tab's title names the open conversation."""

from __future__ import annotations

import re
import time

from playwright.sync_api import Page, expect

from testkit.browser import shot
from testkit.fakes.openai_server import Reply


def send(page: Page, text: str) -> None:
    box = page.locator("#composer-input")
    box.fill(text)
    box.press("Enter")


def wait_done(page: Page) -> None:
    expect(page.locator('[data-testid="assistant-bubble"]').last).to_have_attribute(
        "data-status", "done", timeout=20_000
    )


def test_clear_context_is_labelled_and_a_second_click_adds_nothing(page, app, fake_llm):
    fake_llm.queue(Reply(text="a1"))
    page.goto(app.url + "/")
    send(page, "before the divider")
    wait_done(page)
    button = page.locator("#clear-context")
    expect(button).to_have_text("清除上下文")
    expect(button).to_have_attribute("aria-label", "清除上下文")
    button.click()
    expect(page.locator('[data-testid="divider"]')).to_have_count(1)
    button.click()
    time.sleep(1.0)  # a second divider would have arrived by now
    expect(page.locator('[data-testid="divider"]')).to_have_count(1)
    page.reload()
    expect(page.locator('[data-testid="divider"]')).to_have_count(1)
    shot(page, "clear-context-zh")
    page.context.add_cookies([{"name": "chatapp_lang", "value": "en", "url": app.url}])
    page.reload()
    expect(button).to_have_text("Clear context")
    expect(button).to_have_attribute("aria-label", "Clear context")
    page.emulate_media(color_scheme="dark")
    shot(page, "clear-context-en-dark")


def test_the_tab_title_names_the_open_conversation(page, app, fake_llm):
    page.goto(app.url + "/")
    expect(page).to_have_title("chatapp")
    send(page, "标题测试的问题")
    expect(page).to_have_url(re.compile(r"/chat/[\w-]+$"))
    wait_done(page)
    title = page.locator("#chat-title")
    expect(title).not_to_have_text("")
    name = title.inner_text().strip()
    expect(page).to_have_title(f"{name} · chatapp")
    page.reload()
    expect(page).to_have_title(f"{name} · chatapp")
    page.locator('[data-testid="conv-item"]').first.wait_for()
    page.goto(app.url + "/")
    expect(page).to_have_title("chatapp")
