"""The message list follows the answer (issue 21, item 1): it opens at the latest message, keeps
the streamed answer's last line in view turn after turn, pauses when the reader scrolls up (with a
「↓ 回到底部」 button), resumes on sending or on the button, and 「加载更早的消息」 keeps the reader's
place. Desktop and phone."""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from testkit.browser import log_in, shot, watched_page
from testkit.fakes.openai_server import Reply

# The phone in English and dark, the desktop in 中文 and light: the button's text and colours.
VIEWPORTS = {
    "desktop": {"viewport": {"width": 1280, "height": 820}, "locale": "zh-CN"},
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "is_mobile": True,
        "has_touch": True,
        "locale": "en-US",
        "color_scheme": "dark",
    },
}

# Where the last line of the latest answer is, against the visible part of the list; measured
# after a frame has been painted (what the reader sees), from the last text of the last bubble.
LAST_LINE = """async () => {
  await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
  const box = document.getElementById("message-scroll");
  const bubbles = document.querySelectorAll('[data-testid="assistant-bubble"]');
  const bubble = bubbles[bubbles.length - 1];
  if (!box || !bubble) return null;
  const view = box.getBoundingClientRect();
  let rect = null;
  const walk = document.createTreeWalker(bubble, NodeFilter.SHOW_TEXT);
  for (let n = walk.nextNode(); n; n = walk.nextNode()) {
    if (!n.textContent.trim()) continue;
    const range = document.createRange();
    range.selectNodeContents(n);
    const rects = range.getClientRects();
    if (rects.length) rect = rects[rects.length - 1];
  }
  if (!rect) rect = bubble.getBoundingClientRect();
  return {top: rect.top - view.top, bottom: view.bottom - rect.bottom,
          status: bubble.dataset.status, distance: box.scrollHeight - box.scrollTop - box.clientHeight};
}"""


def answer(i: int) -> str:
    code = "\n".join(f"    total += step({i}, {k})  # line {k}" for k in range(18))
    prose = "".join(f"第{i}轮第{k}段：这是一段用于测试滚动跟随的较长文字。" for k in range(14))
    return (
        f"## 第 {i} 轮\n\n{prose}\n\n```python\ndef run():\n    total = 0\n{code}\n"
        f"    return total\n```\n\n$$\\sum_{{k=1}}^{{{i + 5}}} k^2 = \\frac{{n(n+1)(2n+1)}}{{6}}$$\n\n"
        f"行内公式 $e^{{i\\pi}} + 1 = 0$。\n\n- 要点一\n- 要点二\n\n最后一行 END-{i}"
    )


@pytest.fixture(params=sorted(VIEWPORTS))
def screen(request, browser, app, fake_llm, session_token) -> Iterator[tuple[Page, str]]:
    fake_llm.reset()
    with watched_page(browser, request.node.name, **VIEWPORTS[request.param]) as pg:
        log_in(pg.context, app.url, session_token)
        lang = "en" if request.param == "phone" else "zh"
        pg.context.add_cookies([{"name": "chatapp_lang", "value": lang, "url": app.url}])
        yield pg, request.param


def send(page: Page, text: str) -> None:
    """Sends with the button: on a touch screen Enter adds a line (tests/e2e/test_phone.py)."""
    box = page.locator("#composer-input")
    box.fill(text)
    page.locator("#composer-send").click()


def last_line(page: Page) -> dict:
    return page.evaluate(LAST_LINE)


def assert_in_view(page: Page, what: str) -> dict:
    pos = last_line(page)
    if pos is not None and (pos["bottom"] < -1 or pos["top"] < -1):
        pos = last_line(page)  # one more painted frame: a batch may land between two
    assert pos is not None, what
    assert pos["bottom"] >= -1 and pos["top"] >= -1, f"{what}: last line out of view {pos}"
    return pos


def wheel_up(page: Page, dy: int = 700) -> None:
    box = page.locator("#message-scroll").bounding_box()
    assert box
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, -dy)


def stream_and_check(page: Page, what: str, timeout: float = 40) -> int:
    """Samples while the latest answer streams; every sample must have its last line in view."""
    samples = 0
    deadline = time.monotonic() + timeout
    expect(page.locator('[data-testid="assistant-bubble"]').first).to_be_attached()
    while time.monotonic() < deadline:
        pos = assert_in_view(page, what)
        samples += 1
        if pos["status"] != "streaming" and samples > 1:
            return samples
        time.sleep(0.08)
    raise AssertionError(f"{what}: the answer did not end")


def test_the_answer_stays_in_view_over_many_turns(screen, app, fake_llm):
    page, kind = screen
    page.goto(app.url + "/")
    if kind == "phone":
        page.locator("#new-chat").click()
    expect(page.locator("#composer-input")).to_be_visible()
    turns = 11
    fake_llm.queue(*(Reply(text=answer(i), chunk_chars=24, chunks_per_s=70) for i in range(turns)))
    for i in range(turns):
        send(page, f"第 {i} 个问题：请写一段长回答，带代码和公式。")
        expect(page.locator('[data-testid="user-bubble"]')).to_have_count(i + 1)
        stream_and_check(page, f"turn {i}")
        expect(page.locator('[data-testid="assistant-bubble"]').last).to_contain_text(f"END-{i}")
        pos = assert_in_view(page, f"turn {i} done")
        assert pos["distance"] <= 2, f"turn {i}: not at the bottom {pos}"
        expect(page.locator("#scroll-bottom")).to_be_hidden()
    shot(page, f"scroll-followed-{kind}")


def test_scrolling_up_pauses_following_and_the_button_resumes(screen, app, fake_llm):
    page, kind = screen
    page.goto(app.url + "/")
    if kind == "phone":
        page.locator("#new-chat").click()
    fake_llm.queue(Reply(text=answer(0), chunk_chars=24, chunks_per_s=90))
    send(page, "first")
    stream_and_check(page, "first answer")
    slow = answer(1) + "\n\n" + answer(2)
    fake_llm.queue(Reply(text=slow, chunk_chars=8, chunks_per_s=30))
    send(page, "second, a slow one")
    expect(page.locator('[data-testid="assistant-bubble"]').last).to_have_attribute(
        "data-status", "streaming"
    )
    time.sleep(0.6)
    assert_in_view(page, "streaming before scrolling up")
    wheel_up(page)
    expect(page.locator("#scroll-bottom")).to_be_visible()
    # In the page's language (the user's saved preference wins over the test's language cookie,
    # and other tests of the session may have saved one).
    english = page.evaluate("document.documentElement.lang").startswith("en")
    expect(page.locator("#scroll-bottom")).to_have_text(
        "↓ Back to bottom" if english else "↓ 回到底部"
    )
    shot(page, f"scroll-button-{kind}")
    top = page.evaluate("document.getElementById('message-scroll').scrollTop")
    time.sleep(1.0)  # the answer keeps growing below; the reader's view does not move
    assert page.evaluate("document.getElementById('message-scroll').scrollTop") == pytest.approx(
        top, abs=2
    )
    pos = last_line(page)
    assert pos["status"] == "streaming" and pos["bottom"] < 0, pos
    page.locator("#scroll-bottom").click()
    expect(page.locator("#scroll-bottom")).to_be_hidden()
    stream_and_check(page, "after 回到底部", timeout=60)
    # Scrolling up then sending follows again.
    wheel_up(page)
    expect(page.locator("#scroll-bottom")).to_be_visible()
    fake_llm.queue(Reply(text=answer(3), chunk_chars=24, chunks_per_s=90))
    send(page, "third")
    expect(page.locator("#scroll-bottom")).to_be_hidden()
    stream_and_check(page, "after sending")


def _seed(app, conversation_id: str, turns: int) -> None:
    db = sqlite3.connect(app.env["DATABASE_URL"].removeprefix("sqlite:///"))
    with db:
        (user_id,) = db.execute(
            "SELECT user_id FROM conversation WHERE id=?", (conversation_id,)
        ).fetchone()
        db.execute("DELETE FROM message WHERE conversation_id=?", (conversation_id,))
        for i in range(turns):
            for kind, text in (("user", f"问题 {i}"), ("assistant", answer(i))):
                db.execute(
                    "INSERT INTO message (conversation_id, user_id, kind, content, status,"
                    " model, created_at, updated_at) VALUES (?, ?, ?, ?, 'done', 'fake-gpt',"
                    " datetime('now'), datetime('now'))",
                    (conversation_id, user_id, kind, text),
                )
    db.close()


def _at_bottom(page: Page, what: str) -> None:
    expect(page.locator('[data-testid="assistant-bubble"]').last).to_contain_text(
        "END-29", timeout=20_000
    )
    page.wait_for_timeout(400)
    pos = assert_in_view(page, what)
    assert pos["distance"] <= 2, f"{what}: {pos}"


def test_a_long_conversation_opens_at_the_bottom_and_load_earlier_keeps_the_place(
    screen, app, fake_llm
):
    page, kind = screen
    page.goto(app.url + "/")
    if kind == "phone":
        page.locator("#new-chat").click()
    send(page, f"seed {kind}")
    expect(page).to_have_url(re.compile(r"/chat/[\w-]+$"))
    expect(page.locator('[data-testid="assistant-bubble"]').last).to_have_attribute(
        "data-status", "done"
    )
    cid = page.url.rsplit("/", 1)[-1]
    _seed(app, cid, 30)  # 60 messages

    page.goto(app.url + f"/chat/{cid}")  # by URL
    _at_bottom(page, "opened by URL")
    page.reload()
    _at_bottom(page, "reloaded")
    shot(page, f"scroll-opened-{kind}")
    page.goto(app.url + "/")  # by a click in the list
    page.locator('[data-testid="conv-item"]', has_text=f"seed {kind}").first.click()
    expect(page).to_have_url(re.compile(cid))
    _at_bottom(page, "opened by a click")

    # Up to the top, then 加载更早的消息: the first row seen before stays where it was.
    for _ in range(40):
        wheel_up(page, 3000)
        if page.evaluate("document.getElementById('message-scroll').scrollTop") == 0:
            break
        page.wait_for_timeout(50)
    button = page.locator("#load-earlier")
    expect(button).to_be_visible()
    before = page.locator('[data-testid="msg-user"]').count()
    first = page.locator('[data-testid="msg-user"]').first
    expect(first).to_contain_text("问题 20")
    y0 = first.bounding_box()["y"]  # type: ignore[index]
    button.click()
    expect(page.locator('[data-testid="msg-user"]')).to_have_count(before + 10)
    page.wait_for_timeout(600)
    seen = page.locator('[data-testid="msg-user"]', has_text="问题 20")
    y1 = seen.bounding_box()["y"]  # type: ignore[index]
    assert abs(y1 - y0) <= 4, (y0, y1)
    expect(page.locator("#scroll-bottom")).to_be_visible()
    shot(page, f"scroll-earlier-{kind}")
    page.locator("#scroll-bottom").click()
    _at_bottom(page, "back to the bottom")
