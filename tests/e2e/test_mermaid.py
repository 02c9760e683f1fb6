"""Mermaid diagrams in answers (issue 15, item 3): a complete ```mermaid block is drawn as SVG (code
while its fence is still open), a broken one shows the parser's message and its source, payloads
in a diagram run nothing, the theme is followed, the actions (view source, copy, open as SVG) work
in both languages, and the `mermaid` package is not part of the first page load."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from urllib.parse import urljoin

import httpx
import pytest
from playwright.sync_api import Page, expect

from testkit.browser import log_in, shot, watched_page
from testkit.fakes.openai_server import Reply
from testkit.fakes.wechat import dev_login
from testkit.paths import ARTIFACTS
from tests.e2e.test_accessibility import LANG_COOKIE, axe_violations, describe

FLOWCHART = "flowchart TD\n    A[开始 Start] --> B{检查 Check}\n    B -->|是 yes| C[完成 Done]\n    B -->|否 no| D[重试 Retry]\n    D --> B"
SEQUENCE = "sequenceDiagram\n    participant U as 用户\n    participant S as Server\n    U->>S: 你好\n    S-->>U: Hello"
BROKEN = "flowchart TD\n    A[Start] --> B(\n    B --> ((C"
# Each line tries another way to run script, navigate or reach a foreign host from a diagram.
PAYLOAD = "\n".join(
    [
        '%%{init: {"securityLevel": "loose", "themeCSS": "@import url(http://127.0.0.9/x.css);"}}%%',
        "flowchart LR",
        '    A["<script>window.__pwned = 1</script>Script"] --> B["<img src=x onerror=alert(1)>Image"]',
        "    B --> C[\"<a href='javascript:alert(2)'>Link</a>\"]",
        "    C --> D[Plain]",
        '    click A call alert("click")',
        '    click B "javascript:alert(\'href\')" "tooltip"',
        '    click C href "http://127.0.0.9/steal" _self',
        "    click D callback",
    ]
)


def answer(*diagrams: str, tail: str = "完。") -> str:
    """An answer holding each diagram as a ```mermaid block, with text around them."""
    blocks = "\n\n".join(f"```mermaid\n{d}\n```" for d in diagrams)
    return f"这是图表：\n\n{blocks}\n\n{tail}"


@pytest.fixture
def diagram_page(browser, app, fake_llm, session_token, request) -> Iterator[Page]:
    """A desktop page in 中文 whose clipboard the test may read."""
    fake_llm.reset()
    with watched_page(
        browser,
        request.node.name,
        viewport={"width": 1280, "height": 820},
        locale="zh-CN",
        permissions=["clipboard-read", "clipboard-write"],
    ) as pg:
        log_in(pg.context, app.url, session_token)
        yield pg


def ask(page: Page, app, fake_llm, reply: Reply, tail: str = "完。") -> None:
    """Sends a message whose answer is `reply`, and waits until the answer has ended."""
    fake_llm.queue(reply)
    page.goto(app.url + "/")
    box = page.locator("#composer-input")
    expect(box).to_be_visible()
    box.fill("画个图")
    page.locator("#composer-send").click()
    bubble = page.locator('[data-testid="assistant-bubble"]').last
    expect(bubble).to_contain_text(tail, timeout=20_000)
    expect(bubble).not_to_have_attribute("data-status", "streaming", timeout=20_000)


def test_a_flowchart_is_drawn_and_its_actions_work(diagram_page, app, fake_llm):
    page = diagram_page
    ask(page, app, fake_llm, Reply(text=answer(FLOWCHART), chunk_chars=30, chunks_per_s=200))
    block = page.locator(".mermaid-block")
    expect(block).to_have_attribute("data-state", "diagram", timeout=15_000)
    svg = block.locator(".mermaid-diagram svg")
    expect(svg).to_be_visible()
    expect(svg).to_contain_text("检查 Check")
    assert svg.locator(".node").count() == 4
    shot(page, "mermaid-flowchart-zh-light")

    # View source, and back.
    toggle = block.locator(".mermaid-toggle")
    expect(toggle).to_have_text("查看源码")
    toggle.click()
    expect(block).to_have_attribute("data-state", "source")
    expect(block.locator(".mermaid-source")).to_have_text(FLOWCHART)
    expect(svg).to_be_hidden()
    expect(toggle).to_have_text("查看图表")
    toggle.click()
    expect(svg).to_be_visible()

    # Copy puts the source on the clipboard.
    copy = block.locator(".mermaid-copy")
    expect(copy).to_have_text("复制")
    copy.click()
    expect(copy).to_have_text("✓ 已复制")
    assert page.evaluate("navigator.clipboard.readText()") == FLOWCHART

    # Open as SVG: a tab of its own holding the diagram as an SVG document.
    with page.context.expect_page() as opened:
        block.locator(".mermaid-open").click()
    tab = opened.value
    tab.wait_for_load_state()
    assert tab.url.startswith("blob:")
    assert tab.evaluate("document.contentType") == "image/svg+xml"
    assert tab.evaluate("document.documentElement.localName") == "svg"
    assert "检查 Check" in tab.evaluate("document.documentElement.textContent")
    # On the surface it was drawn on (white here), not on the tab's default.
    assert tab.evaluate("document.documentElement.style.backgroundColor") == "rgb(255, 255, 255)"
    tab.close()

    # The words follow the page's language.
    page.evaluate("document.documentElement.lang = 'en'")
    expect(toggle).to_have_text("View source")
    expect(copy).to_have_text("Copy")
    expect(block.locator(".mermaid-open")).to_have_text("Open as SVG")


def test_a_broken_diagram_shows_the_parser_message_and_its_code(diagram_page, app, fake_llm):
    page = diagram_page
    ask(
        page, app, fake_llm, Reply(text=answer(BROKEN, FLOWCHART), chunk_chars=30, chunks_per_s=200)
    )
    broken, good = page.locator(".mermaid-block").nth(0), page.locator(".mermaid-block").nth(1)
    expect(broken).to_have_attribute("data-state", "error", timeout=15_000)
    expect(broken.locator(".mermaid-error")).to_contain_text("图表有语法错误")
    expect(broken.locator(".mermaid-error-message")).to_contain_text(
        re.compile(r"Parse error|Expecting")
    )
    expect(broken.locator(".mermaid-source")).to_have_text(BROKEN)
    expect(broken.locator(".mermaid-open")).to_have_count(0)
    # The next diagram in the same answer is drawn all the same.
    expect(good).to_have_attribute("data-state", "diagram")
    broken.scroll_into_view_if_needed()
    shot(page, "mermaid-broken-zh-light")


def test_payloads_in_a_diagram_run_nothing(diagram_page, app, fake_llm):
    page = diagram_page
    dialogs: list[str] = []
    console_errors: list[str] = []
    foreign: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("console", lambda m: m.type == "error" and console_errors.append(m.text))
    page.on("request", lambda r: "127.0.0.9" in r.url and foreign.append(r.url))
    ask(page, app, fake_llm, Reply(text=answer(PAYLOAD), chunk_chars=30, chunks_per_s=200))
    url = page.url
    block = page.locator(".mermaid-block")
    expect(block).to_have_attribute("data-state", "diagram", timeout=15_000)
    diagram = block.locator(".mermaid-diagram")
    expect(diagram.locator(".node")).to_have_count(4)
    for node in diagram.locator(".node").all():
        node.click(force=True)  # where a person would click (a label may cover the node)
        node.dispatch_event("click")  # and on the node itself, whatever is on top
    page.wait_for_timeout(500)  # what a click would have started has had time to happen
    shot(page, "mermaid-payloads")
    assert dialogs == []
    assert page.url == url
    assert foreign == []
    assert console_errors == []
    assert page.evaluate("window.__pwned") is None
    found = diagram.evaluate(
        """(d) => ({
          scripts: d.querySelectorAll('script, iframe, object, embed').length,
          links: d.querySelectorAll('a').length,
          images: d.querySelectorAll('img, image').length,
          handlers: [...d.querySelectorAll('*')].flatMap((el) =>
            [...el.attributes].filter((a) => a.name.startsWith('on')).map((a) => a.name)),
          hrefs: [...d.querySelectorAll('[href], [src]')].map((el) =>
            el.getAttribute('href') || el.getAttribute('src')).filter((h) => !h.startsWith('#')),
          foreignUrls: (d.innerHTML.match(/url\\((?!['"]?#)[^)]*\\)/g) || []),
        })"""
    )
    assert found == {
        "scripts": 0,
        "links": 0,
        "images": 0,
        "handlers": [],
        "hrefs": [],
        "foreignUrls": [],
    }
    # The labels show the payloads as text, not as markup.
    expect(diagram).to_contain_text("Plain")


def test_mid_stream_the_block_is_code_then_a_diagram(diagram_page, app, fake_llm):
    page = diagram_page
    text = answer(FLOWCHART)
    # The stream pauses with the diagram's fence still open: 5 chunks of 10 characters.
    assert text.index("```", text.index("```") + 3) > 50
    reply = Reply(
        text=text, chunk_chars=10, chunks_per_s=100, fault="stall", fault_after=5, stall_s=4
    )
    fake_llm.queue(reply)
    page.goto(app.url + "/")
    page.locator("#composer-input").fill("画个图")
    page.locator("#composer-send").click()
    live = page.locator('[data-live-stream="true"]')
    expect(live).to_contain_text("flowchart TD")
    expect(live.locator(".code-block")).to_have_count(1)
    assert page.locator(".mermaid-block").count() == 0
    shot(page, "mermaid-mid-stream")
    bubble = page.locator('[data-testid="assistant-bubble"]').last
    expect(bubble).to_contain_text("完。", timeout=20_000)
    expect(page.locator(".mermaid-block")).to_have_attribute(
        "data-state", "diagram", timeout=15_000
    )
    expect(bubble.locator(".code-block")).to_have_count(0)


def test_an_open_fence_at_the_end_stays_code(diagram_page, app, fake_llm):
    page = diagram_page
    # A drawn diagram, then a four-backtick fence that a three-backtick line does not close.
    cut = f"{answer(FLOWCHART, tail='再画一个：')}\n\n````mermaid\n{SEQUENCE}\n```"
    ask(page, app, fake_llm, Reply(text=cut, chunk_chars=30, chunks_per_s=200), tail="S-->>U")
    bubble = page.locator('[data-testid="assistant-bubble"]').last
    expect(bubble.locator(".mermaid-block")).to_have_count(1)
    expect(bubble.locator(".mermaid-block")).to_have_attribute("data-state", "diagram")
    expect(bubble.locator(".code-block")).to_have_count(1)
    expect(bubble.locator(".code-block")).to_contain_text("sequenceDiagram")


def test_the_diagram_follows_the_theme_and_is_not_drawn_twice(diagram_page, app, fake_llm):
    page = diagram_page
    ask(
        page,
        app,
        fake_llm,
        Reply(text=answer(FLOWCHART, SEQUENCE), chunk_chars=30, chunks_per_s=200),
    )
    first = page.locator(".mermaid-block").first
    expect(first).to_have_attribute("data-state", "diagram", timeout=15_000)
    expect(first).to_have_attribute("data-theme", "light")
    svg = first.locator(".mermaid-diagram svg")
    light_id = svg.get_attribute("id")
    light_fill = svg.locator(".node rect").first.evaluate("(r) => getComputedStyle(r).fill")

    page.emulate_media(color_scheme="dark")  # the user's theme is 跟随系统 (the default)
    expect(page.locator("html")).to_have_class(re.compile(r"\bdark\b"))
    expect(first).to_have_attribute("data-theme", "dark")
    expect(svg).not_to_have_attribute("id", light_id or "")
    dark_fill = svg.locator(".node rect").first.evaluate("(r) => getComputedStyle(r).fill")
    assert dark_fill != light_fill
    shot(page, "mermaid-theme-switched-dark")
    with page.context.expect_page() as opened:
        first.locator(".mermaid-open").click()
    tab = opened.value
    tab.wait_for_load_state()
    assert tab.evaluate("document.documentElement.style.backgroundColor") == "rgb(31, 31, 31)"
    tab.screenshot(path=str(ARTIFACTS / "mermaid-open-svg-dark.png"))
    tab.close()

    # Back to light: the diagram drawn before comes from the cache, not drawn again.
    page.emulate_media(color_scheme="light")
    expect(first).to_have_attribute("data-theme", "light")
    expect(svg).to_have_attribute("id", light_id or "")


def test_many_diagrams_in_one_answer_all_draw(diagram_page, app, fake_llm):
    page = diagram_page
    diagrams = [f"flowchart LR\n    N{i}[图 {i}] --> M{i}[Diagram {i}]" for i in range(24)]
    ask(page, app, fake_llm, Reply(text=answer(*diagrams), chunk_chars=200, chunks_per_s=200))
    blocks = page.locator(".mermaid-block")
    expect(blocks).to_have_count(24)
    # Diagrams are drawn as they come near the screen: the reader scrolls up (a wheel: the list
    # stops following the bottom), then through all of them.
    page.locator("#message-scroll").hover()
    page.mouse.wheel(0, -20_000)
    for i in range(24):
        blocks.nth(i).scroll_into_view_if_needed()
        expect(blocks.nth(i)).to_have_attribute("data-state", "diagram", timeout=15_000)
        expect(blocks.nth(i).locator("svg")).to_contain_text(f"Diagram {i}")


def test_a_renderer_that_does_not_load_keeps_the_code_and_says_so(diagram_page, app, fake_llm):
    page = diagram_page
    # The mermaid chunk cannot be had (a new deploy replaced it, the network dropped).
    page.route(re.compile(r"/assets/mermaid\.core-[^/]*\.js$"), lambda route: route.abort())
    ask(page, app, fake_llm, Reply(text=answer(FLOWCHART), chunk_chars=30, chunks_per_s=200))
    block = page.locator(".mermaid-block")
    expect(block).to_have_attribute("data-state", "error", timeout=15_000)
    expect(block.locator(".mermaid-error")).to_have_text("图表组件没有加载成功，请刷新页面再试。")
    expect(block.locator(".mermaid-source")).to_have_text(FLOWCHART)


class _Scripts(HTMLParser):
    """The module scripts a page loads at once: <script type=module src> and modulepreload links."""

    def __init__(self) -> None:
        super().__init__()
        self.srcs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "script" and a.get("src"):
            self.srcs.append(a["src"] or "")
        if tag == "link" and a.get("rel") == "modulepreload" and a.get("href"):
            self.srcs.append(a["href"] or "")


# `import{a}from"./x.js"` and `import"./x.js"` are static; `import("./x.js")` (dynamic) is not matched.
STATIC_IMPORT = re.compile(r"""(?:\bfrom|\bimport)\s*["']([^"']+\.js)["']""")
# A message of mermaid's own code (not of ours): it marks a file holding the package.
MERMAID_MARK = "No diagram type detected"


def _static_closure(base: str, entry: list[str], fetch: Callable[[str], str]) -> dict[str, str]:
    seen: dict[str, str] = {}
    todo = [urljoin(base, s) for s in entry]
    while todo:
        url = todo.pop()
        if url in seen:
            continue
        seen[url] = fetch(url)
        todo.extend(urljoin(url, m) for m in STATIC_IMPORT.findall(seen[url]))
    return seen


def test_the_first_load_does_not_bring_mermaid(diagram_page, app, fake_llm):
    # The built frontend as served: the chat page's scripts and everything they import statically.
    with httpx.Client(timeout=10) as http:
        html = http.get(app.url + "/").text
        parser = _Scripts()
        parser.feed(html)
        assert parser.srcs, "the page names no scripts"
        files = _static_closure(app.url + "/", parser.srcs, lambda u: http.get(u).text)
        # The diagram component itself is (its class name survives minifying): the check can fail.
        assert any("mermaid-block" in body for body in files.values()), files.keys()
        assert not [u for u, body in files.items() if MERMAID_MARK in body]

    # In the browser: a conversation without diagrams downloads no mermaid; one with a diagram does.
    page = diagram_page
    scripts: list[str] = []
    page.on(
        "response",
        lambda r: r.request.resource_type == "script" and scripts.append(r.url),
    )
    ask(page, app, fake_llm, Reply(text="没有图表的回答。\n\n```python\nprint(1)\n```\n\n完。"))
    with httpx.Client(timeout=10) as http:
        bodies = {u: http.get(u).text for u in set(scripts)}
    assert bodies and not [u for u, body in bodies.items() if MERMAID_MARK in body]

    scripts.clear()
    ask(page, app, fake_llm, Reply(text=answer(FLOWCHART), chunk_chars=30, chunks_per_s=200))
    expect(page.locator(".mermaid-block")).to_have_attribute(
        "data-state", "diagram", timeout=15_000
    )
    with httpx.Client(timeout=10) as http:
        bodies = {u: http.get(u).text for u in set(scripts)}
    assert [u for u, body in bodies.items() if MERMAID_MARK in body]


@pytest.fixture(scope="module")
def diagram_conversation(browser, app, fake_llm) -> tuple[str, str]:
    """(session token, URL) of a conversation with a flowchart, a sequence diagram and a broken one."""
    token = dev_login(app.url, openid="o_mermaid_user")
    fake_llm.reset()
    with watched_page(browser, "mermaid-setup", viewport={"width": 1280, "height": 820}) as pg:
        log_in(pg.context, app.url, token)
        ask(pg, app, fake_llm, Reply(text=answer(FLOWCHART, SEQUENCE, BROKEN), chunk_chars=30))
        expect(pg).to_have_url(re.compile(r"/chat/[\w-]+$"))
        return token, pg.url


WORDS = {"zh": ("查看源码", "复制", "打开 SVG"), "en": ("View source", "Copy", "Open as SVG")}


@pytest.mark.parametrize("device", ["desktop", "phone"])
@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_diagrams_look_right_and_pass_axe(
    lang, scheme, device, browser, app, diagram_conversation, request
):
    token, url = diagram_conversation
    options: dict = {"viewport": {"width": 1280, "height": 820}}
    if device == "phone":
        options = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}
    with watched_page(
        browser,
        request.node.name,
        locale="zh-CN" if lang == "zh" else "en-US",
        color_scheme=scheme,
        **options,
    ) as page:
        page.context.add_cookies([{"name": LANG_COOKIE, "value": lang, "url": app.url}])
        log_in(page.context, app.url, token)
        page.goto(url)
        blocks = page.locator(".mermaid-block")
        expect(blocks).to_have_count(3)
        page.locator("#message-scroll").hover()
        page.mouse.wheel(0, -5000)  # the reader scrolls up: the list stops following the bottom
        for i, state in enumerate(["diagram", "diagram", "error"]):
            blocks.nth(i).scroll_into_view_if_needed()
            expect(blocks.nth(i)).to_have_attribute("data-state", state, timeout=15_000)
            expect(blocks.nth(i)).to_have_attribute("data-theme", scheme)
        source, copy, open_svg = WORDS[lang]
        first = blocks.first
        expect(first.locator(".mermaid-toggle")).to_have_text(source)
        expect(first.locator(".mermaid-copy")).to_have_text(copy)
        expect(first.locator(".mermaid-open")).to_have_text(open_svg)
        # The diagram fits the bubble: nothing sticks out sideways.
        box, bubble = (
            first.bounding_box(),
            page.locator('[data-testid="assistant-bubble"]').last.bounding_box(),
        )
        assert box and bubble and box["x"] + box["width"] <= bubble["x"] + bubble["width"] + 1
        first.scroll_into_view_if_needed()
        shot(page, f"mermaid-{lang}-{scheme}-{device}")
        blocks.nth(2).scroll_into_view_if_needed()
        shot(page, f"mermaid-{lang}-{scheme}-{device}-error")
        violations = axe_violations(page)
        assert not violations, describe(violations)
