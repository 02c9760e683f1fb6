"""Debian's Chromium under Playwright (never `playwright install`), and what every browser test
and benchmark does with it: launch it, put a session in a context, watch a page for JavaScript
errors, keep screenshots."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

from testkit.paths import ARTIFACTS

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# The cookie's name on the wire, spelled out rather than imported: renaming it in the app breaks
# every logged-in browser, so it should break the tests too.
SESSION_COOKIE = "chatapp_session"


def launch_chromium(pw: Playwright) -> Browser:
    """Debian's Chromium, headless."""
    return pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


@contextlib.contextmanager
def chromium() -> Iterator[Browser]:
    """A headless Chromium with a sync Playwright of its own, for a module of tests at most: a live
    sync Playwright keeps an event loop running in the main thread, which breaks `asyncio.run` in
    later, unrelated tests."""
    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        try:
            yield browser
        finally:
            browser.close()


def log_in(context: BrowserContext, base_url: str, token: str) -> None:
    """Puts the session cookie into a browser context, as the login route sets it (HttpOnly, so
    the page's scripts never see it; the server reads it from the websocket's handshake). A cookie
    is per host, not per port: one token serves nginx and every instance behind it."""
    context.add_cookies(
        [
            {
                "name": SESSION_COOKIE,
                "value": token,
                "url": base_url,
                "httpOnly": True,
                "sameSite": "Lax",
            }
        ]
    )


@contextlib.contextmanager
def watched_page(
    browser: Browser, name: str, *, timeout_ms: float = 15_000, **context_options: Any
) -> Iterator[Page]:
    """A page in a fresh browser context that fails the test on any uncaught JavaScript error;
    its last screen is kept as `test-artifacts/<name>-final.png`.

    Args:
        browser: From the `browser` fixture.
        name: The artifact's name (the test's).
        timeout_ms: Playwright's default timeout for the page's actions and waits.
        **context_options: For `browser.new_context` (viewport, locale, ...).
    """
    context = browser.new_context(**context_options)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.set_default_timeout(timeout_ms)
    try:
        yield page
    finally:
        ARTIFACTS.mkdir(exist_ok=True)
        with contextlib.suppress(Exception):
            page.screenshot(path=str(ARTIFACTS / f"{name}-final.png"))
        context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def shot(page: Page, name: str) -> None:
    """Saves a screenshot as a test artifact."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
