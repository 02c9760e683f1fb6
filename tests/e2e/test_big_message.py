"""A text too big to send is refused in the browser with a notice, and kept in the composer.

A websocket message over 1,000,000 characters made the socket server close the connection: the
page went offline and the pasted text was gone. A text over the message limit (32,000) was cut
silently by the textarea.
"""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from chatapp.chat.conversations import MAX_MESSAGE_CHARS


def _paste(page: Page, text: str) -> None:
    """Pastes `text` into the composer the way a user does (clipboard, Ctrl+V)."""
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.evaluate("t => navigator.clipboard.writeText(t)", text)
    page.locator("#composer-input").focus()
    page.keyboard.press("Control+V")


def _open(page: Page, app) -> None:
    page.goto(app.url + "/")
    expect(page.locator("#composer-form")).to_have_attribute("data-ready", "true")


def _still_sends(page: Page) -> None:
    """The socket is still up: a normal message is answered."""
    area = page.locator("#composer-input")
    area.fill("still connected?")
    area.press("Enter")
    expect(page.locator('[data-testid="user-bubble"]').last).to_have_text("still connected?")
    expect(page.locator('[data-testid="assistant-bubble"]').last).to_have_attribute(
        "data-status", "done", timeout=20_000
    )


def test_a_paste_over_a_megabyte_is_refused_kept_and_the_socket_stays(page: Page, app):
    _open(page, app)
    big = "长文本" * 400_000  # 1.2 million characters (3.6 MB of UTF-8)
    _paste(page, big)
    area = page.locator("#composer-input")
    assert page.evaluate("() => document.getElementById('composer-input').value.length") == len(big)
    area.press("Enter")
    expect(page.locator("#send-refused")).to_be_visible()
    expect(page.locator("#send-refused")).to_contain_text(f"最多 {MAX_MESSAGE_CHARS} 字")
    assert page.evaluate("() => document.getElementById('composer-input').value") == big
    expect(page.locator('[data-testid="user-bubble"]')).to_have_count(0)
    # Editing the text takes the notice away; a normal message is sent and answered.
    _still_sends(page)
    expect(page.locator("#send-refused")).to_have_count(0)


def test_a_message_just_over_the_limit_is_refused_in_english_too(page: Page, app):
    page.context.add_cookies([{"name": "chatapp_lang", "value": "en", "url": app.url}])
    _open(page, app)
    text = "x" * (MAX_MESSAGE_CHARS + 1)
    _paste(page, text)
    page.locator("#composer-input").press("Enter")
    notice = page.locator("#send-refused")
    expect(notice).to_contain_text(re.compile(rf"too long: {MAX_MESSAGE_CHARS} characters at most"))
    assert page.locator("#composer-input").input_value() == text
    _still_sends(page)


def test_an_edit_over_a_megabyte_is_refused_and_kept(page: Page, app):
    _open(page, app)
    _still_sends(page)
    page.locator('[data-testid="msg-user"]').last.hover()
    page.locator('[data-testid="edit"]').last.click()
    big = "x" * 1_100_000
    page.evaluate(
        "t => { const a = document.getElementById('edit-input'); a.value = t;"
        " a.dispatchEvent(new Event('input', {bubbles: true})); }",
        big,
    )
    page.locator("#edit-save").click()
    expect(page.locator("#send-refused")).to_be_visible()
    assert page.evaluate("() => document.getElementById('edit-input').value.length") == len(big)
    # The socket is still up: a normal edit is sent and answered.
    page.locator("#edit-input").fill("edited")
    page.locator("#edit-save").click()
    expect(page.locator('[data-testid="user-bubble"]').last).to_have_text("edited")
    expect(page.locator('[data-testid="assistant-bubble"]').last).to_contain_text("edited")
