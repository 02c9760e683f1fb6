"""Web hardening of the running app: the websocket and the API answer only the configured origin;
the pages pass their own CSP, load images only from allowed hosts, and survive hostile answers."""

from __future__ import annotations

import base64
import json
import os
import socket

import httpx
from playwright.sync_api import Page, expect

from testkit.fakes.openai_server import Reply
from testkit.fakes.recording_http import RecordingServer

EVIL = "http://evil.example"


def _ws_handshake(app, origin: str) -> int:
    """The status line of a raw websocket upgrade to the event endpoint, sent with `origin`."""
    host, port = "127.0.0.1", app.port
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET /_event/?EIO=4&transport=websocket HTTP/1.1\r\nHost: localhost:{port}\r\n"
        f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
        f"Sec-WebSocket-Version: 13\r\nOrigin: {origin}\r\n\r\n"
    )
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(request.encode())
        status = sock.recv(4096).split(b"\r\n", 1)[0].decode()
    if status.split()[1] != "101":
        return int(status.split()[1])
    return 101


def test_websocket_from_a_foreign_origin_is_refused(app):
    assert _ws_handshake(app, app.url) == 101
    assert _ws_handshake(app, EVIL) in (400, 403)


def test_api_does_not_grant_cors_to_a_foreign_origin(app):
    preflight = httpx.options(
        app.url + "/api/v1/auth/login",
        headers={"Origin": EVIL, "Access-Control-Request-Method": "POST"},
        timeout=10,
    )
    assert preflight.headers.get("access-control-allow-origin") not in (EVIL, "*")
    plain = httpx.get(app.url + "/api/health", headers={"Origin": EVIL}, timeout=10)
    assert plain.headers.get("access-control-allow-origin") not in (EVIL, "*")


def test_hostile_api_input_gets_4xx_not_500(app):
    cases = [
        (
            "POST",
            "/api/v1/auth/login",
            {"content": b"\xff\xfe garbage", "headers": {"Content-Type": "application/json"}},
        ),
        ("POST", "/api/v1/auth/login", {"data": {"code": "1" * 10_000}}),
        ("POST", "/api/v1/auth/login", {"data": {"code": "' OR 1=1 --"}}),
        (
            "GET",
            "/api/v1/auth/verify",
            {"headers": {"Authorization": "Bearer eyJhbGciOiJub25lIn0.e30."}},
        ),
        ("GET", "/api/v1/auth/verify", {"headers": {"Cookie": "chatapp_session=" + "A" * 5000}}),
        ("POST", "/api/v1/wx/portal/wxdev0000000000000", {"content": b"<xml>" * 20_000}),
        (
            "GET",
            "/api/v1/wx/portal/wxdev0000000000000?signature=x&timestamp=y&nonce=z&echostr=e",
            {},
        ),
    ]
    for method, path, kwargs in cases:
        response = httpx.request(method, app.url + path, timeout=10, **kwargs)
        assert 400 <= response.status_code < 500, (path, response.status_code, response.text[:200])


# -- what pages load and how they survive hostile content ----------------------------------------

# The shared app (conftest) allows images from 127.0.0.3 on any port; 127.0.0.2 is a foreign host.
ALLOWED_IMAGE_HOST = "127.0.0.3"
CSP_WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push({directive: e.effectiveDirective, blocked: e.blockedURI});
});
"""
MARKDOWN = (
    "# 标题\n\n**粗体** 和 `code`，链接 [docs](https://example.com)。\n\n"
    "| a | b |\n|---|---|\n| 1 | 2 |\n\n"
    "```python\ndef f(x):\n    return x * 2\n```\n\n"
    "行内公式 $x^2 + y^2$，块公式：\n\n$$\\int_0^1 x\\,dx = \\frac{1}{2}$$\n"
)


def _watch_csp(page: Page) -> list[str]:
    """Records CSP violations: console reports in a list, events in `window.__csp`."""
    page.add_init_script(CSP_WATCH)
    console: list[str] = []
    page.on(
        "console",
        lambda m: (
            console.append(m.text)
            if "Content Security Policy" in m.text or "Refused to" in m.text
            else None
        ),
    )
    return console


def _send_and_wait(page: Page, text: str) -> None:
    box = page.locator("#composer-input")
    box.fill(text)
    box.press("Enter")
    expect(page.locator('[data-testid="user-bubble"]').last).to_have_text(text)
    expect(page.locator('[data-testid="assistant-bubble"]').last).not_to_have_attribute(
        "data-status", "streaming", timeout=30_000
    )


def test_the_apps_own_pages_pass_its_csp_with_no_violation(page, browser, app, fake_llm):
    console = _watch_csp(page)
    home = page.goto(app.url + "/")
    assert home is not None
    csp = home.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and home.headers["x-frame-options"] == "DENY"
    assert home.headers["x-content-type-options"] == "nosniff"
    assert home.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert f"img-src 'self' data: blob: {ALLOWED_IMAGE_HOST}:*;" in csp
    fake_llm.queue(Reply(text=MARKDOWN, chunk_chars=40))
    _send_and_wait(page, "markdown please")
    answer = page.locator('[data-testid="assistant-bubble"]').last
    expect(answer.locator(".katex").first).to_be_visible()
    expect(answer.locator(".code-block")).to_be_visible()
    expect(answer.locator("table")).to_be_visible()
    page.goto(app.url + "/roles")
    expect(page.locator('[data-testid="role-item"]').first).to_be_visible()
    page.goto(app.url + "/settings")
    expect(page.locator("#settings-language")).to_be_visible()
    assert page.evaluate("window.__csp") == []
    # The login page, signed out.
    context = browser.new_context()
    login = context.new_page()
    login_console = _watch_csp(login)
    login.goto(app.url + "/login")
    expect(login.locator("#login-card")).to_be_visible()
    login_events = login.evaluate("window.__csp")
    context.close()
    assert login_events == [] and login_console == [] and console == []


def test_images_in_answers_load_only_from_allowed_hosts(page, app, fake_llm):
    with (
        RecordingServer("127.0.0.2") as foreign,
        RecordingServer(ALLOWED_IMAGE_HOST) as allowed,
    ):
        leak = f"http://127.0.0.2:{foreign.port}/leak?q=secret"
        fake_llm.queue(
            Reply(
                text=f"看图 ![x]({leak}) 和 ![ok](http://{ALLOWED_IMAGE_HOST}:{allowed.port}/ok.png)",
                chunk_chars=40,
            )
        )
        page.add_init_script(CSP_WATCH)
        page.goto(app.url + "/")
        _send_and_wait(page, "show me images")
        answer = page.locator('[data-testid="assistant-bubble"]').last
        # The allow-listed image loads...
        ok = answer.locator("img[alt='ok']")
        expect(ok).to_be_visible()
        page.wait_for_function(
            "(img) => img.complete && img.naturalWidth > 0", arg=ok.element_handle()
        )
        assert allowed.paths() == ["/ok.png"]
        # ...the foreign one is a placeholder naming its host, and was never requested.
        blocked = answer.locator('[data-testid="img-blocked"]')
        expect(blocked).to_contain_text(f"127.0.0.2:{foreign.port}")
        expect(blocked).to_contain_text("外部图片未加载")
        assert answer.locator("img[alt='x']").count() == 0
        # Even a page that tried (a renderer bug, an extension) is stopped by the CSP's img-src.
        page.evaluate(
            "(src) => { const i = new Image(); i.src = src; document.body.appendChild(i); }",
            f"http://127.0.0.2:{foreign.port}/forced?q=secret",
        )
        page.wait_for_function("window.__csp.some((v) => v.directive === 'img-src')")
        assert foreign.hits == []
        # Only the user's click on 「打开图片」 contacts the host, in a new tab, with no referrer.
        with page.expect_popup() as popup:
            blocked.locator('[data-testid="img-open"]').click()
        popup.value.wait_for_load_state()
        # (The new tab asks for its favicon too.)
        assert [p for p in foreign.paths() if p != "/favicon.ico"] == ["/leak?q=secret"]
        assert "referer" not in foreign.hits[0].headers
        popup.value.close()


def test_an_imported_roles_external_avatar_is_never_requested(page, app):
    with RecordingServer("127.0.0.2") as foreign:
        page.goto(app.url + "/roles")
        page.locator("#roles-menu").click()
        page.locator("#roles-import").click()
        mask = [
            {
                "name": "外链头像角色",
                "avatar": f"http://127.0.0.2:{foreign.port}/avatar.png?who=secret",
                "context": [{"role": "system", "content": "你好"}],
            }
        ]
        page.locator("#role-import-text").fill(json.dumps(mask, ensure_ascii=False))
        page.locator("#role-import-submit").click()
        expect(page.locator("#role-name")).to_have_text("外链头像角色")
        row = page.locator('[data-testid="role-item"]', has_text="外链头像角色")
        expect(row.locator('[data-testid="avatar-blocked"]')).to_be_visible()
        expect(page.locator('.role-avatar.lg [data-testid="avatar-blocked"]')).to_be_visible()
        page.reload()
        expect(row.locator('[data-testid="avatar-blocked"]')).to_be_visible()
        assert page.locator(f"img[src*='127.0.0.2:{foreign.port}']").count() == 0
        assert foreign.hits == []


def test_a_deeply_nested_answer_keeps_the_conversation_readable(page, app, fake_llm):
    """7,000 nested `>` crashed the renderer and with it the whole conversation page."""
    deep = ">" * 7000 + " 最深处"
    # Nested emphasis took the parser ~20 s before it overflowed the stack the same way.
    emphasis = "*a " * 5000 + "emphasis" + " a*" * 5000
    fake_llm.queue(
        Reply(text="正常的 **回答**", chunk_chars=40),
        Reply(text=deep, chunk_chars=700),
        Reply(text=emphasis, chunk_chars=3000),
    )
    page.goto(app.url + "/")
    for question in ("first", "second", "third"):
        _send_and_wait(page, question)
    for opened in (False, True):  # as streamed, and as stored when the conversation is reopened
        if opened:
            page.reload()
        answers = page.locator('[data-testid="assistant-bubble"]')
        expect(answers).to_have_count(3)
        expect(answers.first.locator("strong")).to_have_text("回答")
        for index, words in ((1, "最深处"), (2, "emphasis")):
            raw = answers.nth(index).locator('[data-testid="md-raw"]')
            expect(raw).to_contain_text("嵌套层级过深")
            expect(raw.locator("pre")).to_contain_text(words)
        expect(page.locator("#composer-input")).to_be_visible()
