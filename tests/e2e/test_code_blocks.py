"""Code blocks (issue 21, item 4): a dark syntax theme under the dark appearance (every token at
least 4.5:1 against the block), a copy button that stays reachable on a long block and confirms
the copy in the page's language only."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from testkit.browser import log_in, shot, watched_page
from testkit.fakes.openai_server import Reply

CODE_LINES = [
    "# 注释：计算斐波那契数列 (a comment)",
    "import math",
    "from typing import List",
    "",
    "def fib(n: int) -> List[int]:",
    '    """Docstring with a string."""',
    "    out = [0, 1]",
    "    for i in range(2, n):",
    "        out.append(out[i - 1] + out[i - 2])  # trailing comment",
    "    return out",
    "",
    "class Point:",
    "    x: float = 1.5",
    "    y = True and None",
    "",
]
CODE = "\n".join(CODE_LINES + [f"print(fib({i}), 'line {i}', math.pi * {i})" for i in range(60)])
ANSWER = f"下面是代码：\n\n```python\n{CODE}\n```\n\n完。"

CONTRAST_JS = """
(pre) => {
  const rgb = (s) => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  let bgEl = pre, bg = getComputedStyle(pre).backgroundColor;
  while (bgEl && (rgb(bg).length === 4 && rgb(bg)[3] === 0 || bg === "transparent")) {
    bgEl = bgEl.parentElement; bg = getComputedStyle(bgEl).backgroundColor;
  }
  const B = lum(rgb(bg));
  const out = [];
  for (const el of [pre, ...pre.querySelectorAll("span, code")]) {
    if (!el.textContent.trim()) continue;
    const c = getComputedStyle(el).color;
    const L = lum(rgb(c));
    const ratio = (Math.max(L, B) + 0.05) / (Math.min(L, B) + 0.05);
    out.push([el.className, c, bg, Math.round(ratio * 100) / 100]);
  }
  return out;
}
"""


@pytest.fixture
def dark_page(browser, app, fake_llm, session_token, request) -> Iterator[Page]:
    """The user's theme is 跟随系统 (the default): a dark system makes the page dark."""
    fake_llm.reset()
    with watched_page(
        browser,
        request.node.name,
        viewport={"width": 1280, "height": 820},
        locale="zh-CN",
        color_scheme="dark",
        permissions=["clipboard-read", "clipboard-write"],
    ) as pg:
        log_in(pg.context, app.url, session_token)
        yield pg


def _answer_with_code(page: Page, app, fake_llm) -> None:
    fake_llm.queue(Reply(text=ANSWER, chunk_chars=40, chunks_per_s=200))
    page.goto(app.url + "/")
    box = page.locator("#composer-input")
    expect(box).to_be_visible()
    box.fill("写一段代码")
    box.press("Enter")
    expect(page.locator('[data-testid="assistant-bubble"]').last).to_contain_text(
        "完。", timeout=20_000
    )
    expect(page.locator(".code-block pre")).to_be_visible()


def test_dark_code_tokens_are_readable(dark_page, app, fake_llm):
    page = dark_page
    _answer_with_code(page, app, fake_llm)
    expect(page.locator("html")).to_have_class(re.compile(r"\bdark\b"))
    page.locator(".code-block").first.scroll_into_view_if_needed()
    shot(page, "code-dark")
    rows = page.locator(".code-block pre").first.evaluate(CONTRAST_JS)
    assert len(rows) > 20, rows
    bad = [r for r in rows if r[3] < 4.5]
    assert not bad, f"tokens below 4.5:1: {bad[:8]}"


def test_copy_button_sticks_and_confirms_in_the_page_language(dark_page, app, fake_llm):
    page = dark_page
    _answer_with_code(page, app, fake_llm)
    page.evaluate("document.documentElement.lang = 'zh-CN'")
    copy = page.locator(".code-copy").first
    expect(copy).to_have_text("复制")
    # Scroll so the block's top is above the list's top while its bottom is still below.
    block = page.locator(".code-block").first
    scroller = page.locator("#message-scroll")
    page.evaluate(
        """() => { const s = document.getElementById('message-scroll');
        const b = document.querySelector('.code-block');
        s.scrollTop += b.getBoundingClientRect().top - s.getBoundingClientRect().top + 300; }"""
    )
    page.wait_for_timeout(200)
    sbox, bbox, cbox = scroller.bounding_box(), block.bounding_box(), copy.bounding_box()
    assert sbox and bbox and cbox
    assert bbox["y"] < sbox["y"] - 100, "the block's top is not scrolled away"
    head = page.locator(".code-head").first.bounding_box()
    assert head is not None
    assert sbox["y"] - 1 <= head["y"] <= sbox["y"] + 2, (sbox, head)
    assert sbox["y"] <= cbox["y"] <= sbox["y"] + 30, (sbox, cbox)
    shot(page, "code-dark-sticky")
    copy.click()
    expect(copy).to_have_text("✓ 已复制")
    assert page.evaluate("navigator.clipboard.readText()") == CODE
    expect(copy).not_to_contain_text("Copied")
    expect(copy).to_have_text("复制", timeout=4000)
    page.evaluate("document.documentElement.lang = 'en'")
    expect(copy).to_have_text("Copy")
    copy.click()
    expect(copy).to_have_text("✓ Copied")
    expect(copy).not_to_contain_text("已复制")
    shot(page, "code-dark-copied-en")
