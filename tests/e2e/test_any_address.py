"""The app works from whatever address its page is opened at, and is installable.

The page connects its websocket back to the host and port it was served from: `localhost`,
`127.0.0.1`, and `127.0.0.2` (another address of this machine, standing in for the server's LAN
address seen from a laptop). A page of another origin cannot open the socket.
"""

from __future__ import annotations

import json
import re

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from testkit.browser import CHROMIUM, CHROMIUM_ARGS, log_in
from testkit.fakes.openai_server import Reply
from testkit.fakes.recording_http import Canned, RecordingServer


def _chat_at(browser: Browser, app, session_token: str, host: str) -> Page:
    base = f"http://{host}:{app.port}"
    context = browser.new_context(viewport={"width": 1280, "height": 820}, locale="zh-CN")
    context.add_cookies(
        [{"name": "chatapp_session", "value": session_token, "url": base, "httpOnly": True}]
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(base + "/")
    box = page.locator("#composer-input")
    expect(box).to_be_visible()
    box.fill(f"hello from {host}")
    box.press("Enter")
    expect(page).to_have_url(re.compile(rf"^{re.escape(base)}/chat/[\w-]+$"))
    answer = page.locator('[data-testid="assistant-bubble"]').last
    expect(answer).to_have_attribute("data-status", "done", timeout=30_000)
    expect(answer).to_contain_text("ok from the fake")
    assert not [e for e in errors if "websocket" in e.lower()], errors
    return page


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "127.0.0.2"])
def test_chat_works_from_every_address_of_the_server(browser, app, fake_llm, session_token, host):
    fake_llm.reset()
    fake_llm.queue(Reply(text="ok from the fake model"))
    page = _chat_at(browser, app, session_token, host)
    page.context.close()


def test_a_page_of_another_origin_cannot_open_the_socket(browser, app):
    target = f"ws://127.0.0.1:{app.port}/_event/?EIO=4&transport=websocket"
    probe = f"""<!doctype html><script>
      const ws = new WebSocket({json.dumps(target)});
      ws.onopen = () => {{ document.title = "open"; }};
      ws.onerror = () => {{ document.title = "refused"; }};
    </script>"""
    with RecordingServer(
        "127.0.0.3",
        routes={"/probe": Canned(headers={"content-type": "text/html"}, body=probe.encode())},
    ) as evil:
        context = browser.new_context()
        page = context.new_page()
        page.goto(f"http://127.0.0.3:{evil.port}/probe")
        expect(page).to_have_title("refused", timeout=15_000)
        context.close()
    # The same probe served by the app's own origin would open: the refusal is the origin's.
    same = httpx.get(f"http://127.0.0.2:{app.port}/ping", timeout=10)
    assert same.status_code == 200


def test_the_original_projects_chat_route_serves_the_chat(page: Page, app):
    page.goto(app.url + "/chat")
    expect(page.locator("#composer-input")).to_be_visible()
    expect(page.locator("#not-found")).to_have_count(0)


def test_favicon_manifest_and_chromiums_installability_check(browser, app, session_token, tmp_path):
    assert httpx.get(app.url + "/favicon.ico", timeout=10).status_code == 200
    manifest = httpx.get(app.url + "/manifest.webmanifest", timeout=10).json()
    assert manifest["display"] == "standalone" and manifest["theme_color"]
    sizes = {(i["sizes"], i.get("purpose", "any")) for i in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes
    for icon in manifest["icons"]:
        assert httpx.get(app.url + icon["src"], timeout=10).status_code == 200, icon
    # A profile on disk: Chromium never offers to install from an incognito context.
    context = browser.browser_type.launch_persistent_context(
        str(tmp_path / "profile"), executable_path=CHROMIUM, args=CHROMIUM_ARGS
    )
    try:
        log_in(context, app.url, session_token)
        page = context.new_page()
        page.goto(app.url + "/")
        expect(page.locator("#composer-input")).to_be_visible()
        cdp = context.new_cdp_session(page)
        errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
        assert errors == [], errors
        assert cdp.send("Page.getAppManifest")["errors"] == []
    finally:
        context.close()
