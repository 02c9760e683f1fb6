"""The chat page as the e2e tests drive it: send a message, find the last answer, wait for it to
end, open the home page ready to type."""

from __future__ import annotations

from playwright.sync_api import Locator, Page, expect

from testkit.app import AppServer

# About 1,400 characters of Chinese: long enough to stream for a while at the fake's pace.
LONG = "".join(f"第{i}段：流式输出测试文本。" for i in range(120))


def send(page: Page, text: str) -> None:
    """Types `text` and sends it with Enter (a desktop page: on a touch screen Enter adds a line)."""
    box = page.locator("#composer-input")
    box.fill(text)
    box.press("Enter")


def last_answer(page: Page) -> Locator:
    """The newest assistant bubble."""
    return page.locator('[data-testid="assistant-bubble"]').last


def wait_done(page: Page, timeout: float = 30_000) -> None:
    """Waits until the newest answer no longer streams (done, stopped or failed)."""
    expect(last_answer(page)).not_to_have_attribute("data-status", "streaming", timeout=timeout)


def open_home(page: Page, app: AppServer) -> None:
    """Opens a new chat, ready to type."""
    page.goto(app.url + "/")
    expect(page.locator("#composer-input")).to_be_visible()
