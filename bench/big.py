"""Benchmark 4 — big conversations: a list of thousands of conversations and a conversation of
1,000 messages, click-to-rendered in a real browser.

Seeding goes straight into the app's database through `chatapp.chat.store` (the user is the one the
app logs in as). Timing runs inside the page: `performance.now()` just before the synthetic click,
then a requestAnimationFrame poll until the expected DOM is there — so it includes the websocket
round trip, the server handler, the state delta and React's render, and ends at the frame that
would paint it.
"""

from __future__ import annotations

import time
from datetime import timedelta

from playwright.sync_api import Browser, Page

from bench.common import BENCH_OPENID, Stack, open_chat
from chatapp.auth import accounts
from chatapp.chat import store
from chatapp.core.config import load_settings
from chatapp.core.db import init_db, session_scope
from chatapp.models import Message, utcnow

_WAIT_JS = """
async ([click, sel, text]) => {
  const ok = () => {
    const els = document.querySelectorAll(sel);
    if (!els.length) return false;
    if (text === null) return true;
    if (typeof text === 'number') return els.length >= text;
    return els[els.length - 1].textContent.includes(text);
  };
  const t0 = performance.now();
  if (click) document.querySelector(click).click();
  await new Promise((res, rej) => {
    const stop = setTimeout(() => rej(new Error('timeout waiting for ' + sel)), 30000);
    const check = () => ok() ? (clearTimeout(stop), res()) : requestAnimationFrame(check);
    requestAnimationFrame(check);
  });
  return [performance.timeOrigin + t0, performance.timeOrigin + performance.now()];
}
"""


def seed(st: Stack, conversations: int, messages: int) -> tuple[str, str]:
    """`conversations` small conversations plus one of `messages` messages (the newest).
    Returns (big conversation id, a small conversation id)."""
    init_db(st.app.env["DATABASE_URL"])
    base = utcnow() - timedelta(days=30)
    with session_scope() as session:
        # The user `open_chat` logs in as (the login finds this row by its openid).
        settings = load_settings(st.app.env)
        user_id = accounts.upsert_user(session, settings=settings, openid=BENCH_OPENID).id
        assert user_id is not None
        small = ""
        for i in range(conversations):
            conv = store.create_conversation(session, user_id=user_id, title=f"对话 chat {i}")
            conv.preview = f"preview of conversation {i} 预览"
            conv.updated_at = base + timedelta(minutes=i)
            small = conv.id
        big = store.create_conversation(session, user_id=user_id, title="big conversation 长对话")
        session.flush()
        for i in range(messages):
            kind = "user" if i % 2 == 0 else "assistant"
            content = f"message {i}: " + ("这是一条用于测试的消息。 Some text to render. " * 4)
            session.add(
                Message(conversation_id=big.id, user_id=user_id, kind=kind, content=content)
            )
        big.updated_at = utcnow()
        session.add(big)
        return big.id, small


# Times every websocket frame in the page's own clock as it is sent or arrives (Playwright's
# frame events reach Python late on a busy machine), to split a click into the browser before
# sending, the server, and the browser rendering.
_WS_LOG = """
(() => {
  const Base = window.WebSocket;
  window.__wsLog = [];
  const now = () => performance.timeOrigin + performance.now();
  window.WebSocket = class extends Base {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (e) =>
        window.__wsLog.push(['R', now(), e.data.length || e.data.byteLength || 0]));
    }
    send(data) {
      window.__wsLog.push(['S', now(), data.length || data.byteLength || 0]);
      return super.send(data);
    }
  };
})();
"""


def _measure(page: Page, click: str | None, sel: str, text: str | int | None) -> dict[str, float]:
    page.evaluate("window.__wsLog.length = 0")
    t0, t1 = page.evaluate(_WAIT_JS, [click, sel, text])
    log = page.evaluate("window.__wsLog")
    sent = [t for d, t, _ in log if d == "S" and t >= t0]
    got = [(t, n) for d, t, n in log if d == "R" and t <= t1]
    out = {"total_ms": round(t1 - t0, 1)}
    if sent and got:
        out["browser_before_send_ms"] = round(sent[0] - t0, 1)
        out["server_ms"] = round(got[-1][0] - sent[0], 1)
        out["browser_render_ms"] = round(t1 - got[-1][0], 1)
        out["received_bytes"] = sum(n for _, n in got)
    return out


def run(browser: Browser, st: Stack, conversations: int, messages: int) -> dict[str, object]:
    """Seeds, then times: list page load, opening the big conversation, switching, searching."""
    big_id, small_id = seed(st, conversations, messages)
    context = browser.new_context(viewport={"width": 1280, "height": 820})
    context.add_init_script(_WS_LOG)
    page = context.new_page()
    out: dict[str, object] = {"conversations": conversations + 1, "messages": messages}
    try:
        t0 = time.monotonic()
        open_chat(page, st.app.url)
        page.locator('[data-testid="conv-item"]').first.wait_for(timeout=60_000)
        out["list_page_load_ms"] = round((time.monotonic() - t0) * 1000, 1)
        out["list_rows_rendered"] = page.locator('[data-testid="conv-item"]').count()
        last = f"message {messages - 1}:"
        bubbles = '[data-testid="assistant-bubble"], [data-testid="user-bubble"]'
        out["open_big_conversation"] = _measure(
            page, f'a[href="/chat/{big_id}"]', '[data-testid="assistant-bubble"]', last
        )
        out["messages_rendered"] = page.locator(bubbles).count()
        if page.locator("#load-earlier").count():
            shown = page.locator(bubbles).count()
            out["load_earlier"] = _measure(page, "#load-earlier", bubbles, shown + 1)
        small_link = f'a[href="/chat/{small_id}"]'
        if page.locator(small_link).count():
            out["switch_to_small_conversation"] = _measure(
                page, small_link, "#chat-title", "对话 chat"
            )
        page.locator("#conv-search").fill("chat 7")
        out["search_incl_300ms_debounce"] = _measure(
            page, None, '[data-testid="conv-item"] .title', "chat 7"
        )
        if page.locator("#conv-load-more").count() == 0:
            page.locator("#conv-search").fill("")
            page.wait_for_timeout(1500)
        if page.locator("#conv-load-more").count():
            rows = page.locator('[data-testid="conv-item"]').count()
            out["load_more"] = _measure(
                page, "#conv-load-more", '[data-testid="conv-item"]', rows + 1
            )
    finally:
        context.close()
    return out
