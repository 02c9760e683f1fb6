"""axe-core (from the npm registry, installed into .tools by `make setup`) over every page state the
browser tests visit, in 中文 and English, light and dark: no critical and no serious violation."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from testkit.browser import log_in, shot, watched_page
from testkit.fakes.openai_server import Reply
from testkit.fakes.wechat import dev_login

AXE = Path(__file__).resolve().parents[2] / ".tools" / "node_modules" / "axe-core" / "axe.min.js"
LANG_COOKIE = "chatapp_lang"
MARKDOWN = (
    "## 标题 Heading\n\n| a | b |\n| --- | --- |\n| 1 | 2 |\n\n```python\nprint('hi')\n```\n\n"
    "行内 \\(x^2\\) 和 `code`，块级：\n\n\\[\\frac{1}{2}\\]\n\n> 引用 [链接](https://example.com)\n"
)


@pytest.fixture(scope="module")
def a11y_token(app) -> str:
    return dev_login(app.url, openid="o_a11y_user")


@pytest.fixture(scope="module")
def conversation_url(browser, app, fake_llm, a11y_token) -> str:
    """One conversation with markdown, code, a table and math, for the conversation states."""
    fake_llm.reset()
    fake_llm.queue(Reply(text=MARKDOWN, chunk_chars=20, chunks_per_s=95))
    with watched_page(browser, "a11y-setup", viewport={"width": 1280, "height": 820}) as pg:
        log_in(pg.context, app.url, a11y_token)
        pg.goto(app.url + "/")
        box = pg.locator("#composer-input")
        box.fill("markdown please")
        box.press("Enter")
        expect(pg).to_have_url(re.compile(r"/chat/[\w-]+$"))
        bubble = pg.locator('[data-testid="assistant-bubble"]').last
        expect(bubble).not_to_have_attribute("data-status", "streaming", timeout=30_000)
        expect(bubble.locator(".katex-display")).to_have_count(1)
        return pg.url


def _home(page: Page, url: str, _conv: str) -> None:
    page.goto(url + "/")
    expect(page.locator("#composer-input")).to_be_visible()


def _conversation(page: Page, _url: str, conv: str) -> None:
    page.goto(conv)
    expect(page.locator('[data-testid="assistant-bubble"] .katex-display')).to_be_visible()


def _chat_settings(page: Page, url: str, conv: str) -> None:
    _conversation(page, url, conv)
    page.locator("#chat-settings").click()
    expect(page.locator("#chat-settings-save")).to_be_visible()


def _roles(page: Page, url: str, _conv: str) -> None:
    page.goto(url + "/roles")
    expect(page.locator("#role-new")).to_be_visible()


def _role_editor(page: Page, url: str, conv: str) -> None:
    _roles(page, url, conv)
    page.locator("#role-new").click()
    expect(page.locator("#role-form-save")).to_be_visible()


def _settings(page: Page, url: str, _conv: str) -> None:
    page.goto(url + "/settings")
    expect(page.locator("#settings-language")).to_be_visible()


def _login(page: Page, url: str, _conv: str) -> None:
    page.goto(url + "/login")
    expect(page.locator("#login-card")).to_be_visible()


STATES: dict[str, Callable[[Page, str, str], None]] = {
    "login": _login,
    "home": _home,
    "conversation": _conversation,
    "chat-settings": _chat_settings,
    "roles": _roles,
    "role-editor": _role_editor,
    "settings": _settings,
}


# Known violations waived: none. (rule, selector part) pairs go here only with a reason.
ELSEWHERE: set[tuple[str, str]] = set()


def _elsewhere(rule: str, node: dict) -> bool:
    target = " ".join(node["target"])
    return any(rule == r and part in target for r, part in ELSEWHERE)


def axe_violations(page: Page) -> list[dict]:
    """axe-core's critical and serious violations on the page as it is now."""
    page.wait_for_timeout(400)  # transitions (popover, dialog) settle before colours are read
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']}))")
    found = []
    for v in result["violations"]:
        if v["impact"] not in ("critical", "serious"):
            continue
        v["nodes"] = [n for n in v["nodes"] if not _elsewhere(v["id"], n)]
        if v["nodes"]:
            found.append(v)
    return found


def describe(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"[{v['impact']}] {v['id']}: {v['help']} ({len(v['nodes'])} nodes)")
        for node in v["nodes"][:6]:
            lines.append(f"    {' '.join(node['target'])}: {node['html'][:160]}")
            lines.append(f"        {node['failureSummary'][:300]!r}")
    return "\n".join(lines)


@pytest.fixture
def a11y_page(request, browser, app, a11y_token) -> Iterator[Callable[[str, str], Page]]:
    """Opens a page for a language and a colour scheme (the user keeps the theme "system")."""
    opened: list = []

    def open_page(lang: str, scheme: str) -> Page:
        cm = watched_page(
            browser,
            request.node.name,
            viewport={"width": 1280, "height": 820},
            locale="zh-CN" if lang == "zh" else "en-US",
            color_scheme=scheme,
        )
        page = cm.__enter__()
        opened.append(cm)
        page.context.add_cookies([{"name": LANG_COOKIE, "value": lang, "url": app.url}])
        log_in(page.context, app.url, a11y_token)
        return page

    yield open_page
    for cm in opened:
        cm.__exit__(None, None, None)


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("state", list(STATES))
def test_no_serious_axe_violations(state, lang, scheme, a11y_page, app, conversation_url):
    page = a11y_page(lang, scheme)
    if state == "login":
        page.context.clear_cookies()
        page.context.add_cookies([{"name": LANG_COOKIE, "value": lang, "url": app.url}])
    STATES[state](page, app.url, conversation_url)
    violations = axe_violations(page)
    shot(page, f"a11y-{state}-{lang}-{scheme}")
    assert not violations, f"axe on {state} ({lang}, {scheme}):\n{describe(violations)}"
    # axe rates these "moderate": one main landmark and one h1 on every page.
    assert page.locator("main, [role=main]").count() == 1
    # (A modal dialog's title is its own h1.)
    assert page.locator("h1:not([role=dialog] h1)").count() == 1


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_first_tab_reaches_a_skip_link_to_the_chat(lang, a11y_page, app, conversation_url):
    page = a11y_page(lang, "light")
    _conversation(page, app.url, conversation_url)
    link = page.locator("#skip-link")
    expect(link).not_to_be_in_viewport()
    # From the top of the page (the chat page focuses the composer on its own).
    page.evaluate("document.body.tabIndex = -1; document.body.focus()")
    page.keyboard.press("Tab")
    expect(link).to_be_focused()
    expect(link).to_have_text("跳到对话" if lang == "zh" else "Skip to chat")
    expect(link).to_be_in_viewport()
    shot(page, f"a11y-skip-link-{lang}")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#main-content$"))
    assert page.evaluate("document.getElementById('main-content').getAttribute('role')") == "main"
