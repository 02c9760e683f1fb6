"""The chat survives what a real network and a real user do to it: Enter before the page is ready,
a reconnect, a reload or a socket drop mid-answer, a long visit; and each text crosses the socket
once."""

from __future__ import annotations

import re
import time

from playwright.sync_api import WebSocketRoute, expect

from testkit.fakes.openai_server import Reply
from tests.e2e.chat_page import LONG, last_answer, open_home, send, wait_done


def test_enter_before_the_page_is_ready_is_sent_once_it_is(page, app, fake_llm):
    """A message sent while the socket connects waits for the page's on_load: sent ahead of it,
    the on_load (for "/") would run after the send and clear the chat the message created (under
    CI load: a sent message whose bubbles never come)."""
    held: list[WebSocketRoute] = []
    page.route_web_socket(re.compile(r".*/_event.*"), lambda ws: held.append(ws))
    page.goto(app.url + "/")
    send(page, "sent while connecting")
    page.wait_for_timeout(300)
    # Not sent (the socket is held) and not cleared: it waits, and Send waits with it.
    expect(page.locator("#composer-input")).to_have_value("sent while connecting")
    expect(page.locator("#composer-send")).to_be_disabled()
    assert held, "the page opened no websocket"
    held[0].connect_to_server()
    expect(page).to_have_url(re.compile(r"/chat/[\w-]+$"))
    wait_done(page)
    expect(page.locator('[data-testid="user-bubble"]')).to_have_text(["sent while connecting"])
    expect(page.locator("#chat-title")).to_have_text("sent while connecting")
    expect(page.locator("#composer-input")).to_have_value("")


def test_a_reconnect_after_the_first_message_keeps_the_chat_on_screen(page, app, fake_llm):
    """The first message from the home page moves the address with replaceState, which React
    Router does not see: the reconnect's on_load ran for "/" and cleared the chat."""
    sockets: list[WebSocketRoute] = []

    def route(ws: WebSocketRoute) -> None:
        ws.connect_to_server()
        sockets.append(ws)

    page.route_web_socket(re.compile(r".*/_event.*"), route)
    open_home(page, app)
    send(page, "before the network blip")
    wait_done(page)
    expect(page).to_have_url(re.compile(r"/chat/[\w-]+$"))
    sockets[-1].close()
    deadline = time.monotonic() + 15
    while len(sockets) < 2 and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    assert len(sockets) >= 2, "the page did not reconnect"
    expect(page.locator("#composer-form")).to_have_attribute("data-ready", "true")
    page.wait_for_timeout(500)
    expect(page.locator('[data-testid="user-bubble"]')).to_have_text(["before the network blip"])
    expect(page.locator("#chat-title")).to_have_text("before the network blip")


def test_reload_mid_stream_shows_partial_and_finishes(page, app, fake_llm):
    fake_llm.queue(Reply(text=LONG, chunk_chars=3, chunks_per_s=40))
    open_home(page, app)
    send(page, "reload while streaming")
    expect(last_answer(page)).to_contain_text("第3段", timeout=10_000)
    page.reload()
    # After the reload the partial answer is there at once and keeps growing to the end.
    expect(last_answer(page)).to_contain_text("第1段", timeout=5_000)
    expect(last_answer(page)).to_have_attribute("data-status", "streaming")
    wait_done(page, timeout=60_000)
    text = last_answer(page).inner_text()
    assert "第119段" in text
    assert text.count("第5段：") == 1, "text was duplicated after the reload"


def test_socket_drop_mid_stream_resyncs_without_loss_or_duplication(page, app, fake_llm):
    fake_llm.queue(Reply(text=LONG, chunk_chars=3, chunks_per_s=40))
    open_home(page, app)
    send(page, "drop the socket")
    expect(last_answer(page)).to_contain_text("第2段", timeout=10_000)
    page.context.set_offline(True)
    page.wait_for_timeout(2500)  # updates sent now are lost
    page.context.set_offline(False)
    wait_done(page, timeout=60_000)
    text = last_answer(page).inner_text()
    assert "第119段" in text
    assert text.count("第30段：") == 1
    page.reload()
    assert last_answer(page).inner_text().count("第30段：") == 1


def test_each_text_crosses_the_socket_once(page, app, fake_llm):
    """Stream cost (bench/README.md): the answer goes out in batches only — the finished answer
    is not sent again, and a later send does not re-send the earlier messages — yet the bubble,
    the list preview, copy, and a reload all show the whole text."""
    first = "".join(f"琥珀{i}段落文本。" for i in range(60))
    second = "".join(f"翡翠{i}段落文本。" for i in range(60))
    frames: list[str] = []
    page.on(
        "websocket",
        lambda ws: ws.on(
            "framereceived", lambda p: frames.append(p if isinstance(p, str) else p.decode())
        ),
    )
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    open_home(page, app)
    fake_llm.queue(Reply(text=first, chunk_chars=8, chunks_per_s=60))
    send(page, "第一个问题")
    wait_done(page)
    expect(last_answer(page)).to_contain_text("琥珀59段落文本。")
    page.wait_for_timeout(300)  # the end-of-stream frames
    batches = [f for f in frames if "cs.a(" in f]
    others = "".join(f for f in frames if "cs.a(" not in f)
    assert "".join(batches).count("琥珀59段") == 1
    assert "琥珀59段" not in others, "the finished answer was sent a second time"
    # The list row shows the answer's start (patched, not re-sent as a whole list).
    expect(page.locator(".conv-item.active .preview")).to_contain_text("琥珀0段")
    last_answer(page).hover()
    page.locator('[data-testid="msg-assistant"] [data-testid="copy"]').last.click()
    page.wait_for_timeout(200)
    copied = page.evaluate("() => navigator.clipboard.readText()")
    assert copied == first

    frames.clear()
    fake_llm.queue(Reply(text=second, chunk_chars=8, chunks_per_s=60))
    send(page, "第二个问题")
    wait_done(page)
    expect(last_answer(page)).to_contain_text("翡翠59段落文本。")
    page.wait_for_timeout(300)
    # (Messages added during this visit are one small var; the first answer's text is not in it.)
    assert not any("琥珀" in f for f in frames), "the earlier answer was re-sent"
    expect(page.locator('[data-testid="assistant-bubble"]').first).to_contain_text("琥珀59段")

    page.reload()
    expect(page.locator('[data-testid="assistant-bubble"]').first).to_contain_text("琥珀59段")
    expect(last_answer(page)).to_contain_text("翡翠59段落文本。")


def test_a_long_visit_keeps_every_message_in_order(page, app, fake_llm):
    """Messages sent during a visit are folded into the history every few sends (RECENT_MAX):
    nothing is lost or reordered, and the trimmed part comes back with "load earlier"."""
    open_home(page, app)
    for i in range(11):
        fake_llm.queue(Reply(text=f"答复{i:02d}", chunks_per_s=0))
        send(page, f"问题{i:02d}")
        expect(last_answer(page)).to_have_text(f"答复{i:02d}")
        wait_done(page)
        if i == 0:  # a conversation started from the home page shows its settings at once
            expect(page.locator("#model-picker")).to_contain_text("fake-gpt")
    users = page.locator('[data-testid="user-bubble"]')
    # textContent: rows out of view are not rendered (content-visibility), so innerText is "".
    shown = users.all_text_contents()
    assert shown == [f"问题{i:02d}" for i in range(11 - len(shown), 11)]
    assert len(shown) >= 10
    if len(shown) < 11:
        page.locator("#load-earlier").click()
        expect(users).to_have_count(11)
    assert users.all_text_contents() == [f"问题{i:02d}" for i in range(11)]
    answers = page.locator('[data-testid="assistant-bubble"]').all_text_contents()
    assert [a.strip() for a in answers] == [f"答复{i:02d}" for i in range(11)]
