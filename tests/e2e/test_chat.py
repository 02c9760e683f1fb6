"""The chat flow in a real browser against the real app and a fake model server."""

from __future__ import annotations

import re
import time

from playwright.sync_api import Page, WebSocketRoute, expect

from testkit.browser import log_in, shot
from testkit.fakes.openai_server import Reply

LONG = "".join(f"第{i}段：流式输出测试文本。" for i in range(120))  # ~1,400 chars


def send(page: Page, text: str) -> None:
    box = page.locator("#composer-input")
    box.fill(text)
    box.press("Enter")


def last_answer(page: Page):
    return page.locator('[data-testid="assistant-bubble"]').last


def wait_done(page: Page, timeout: float = 30_000) -> None:
    expect(last_answer(page)).not_to_have_attribute("data-status", "streaming", timeout=timeout)


def open_home(page: Page, app) -> None:
    page.goto(app.url + "/")
    expect(page.locator("#composer-input")).to_be_visible()


def test_send_streams_persists_and_survives_reload(page, app, fake_llm):
    fake_llm.queue(Reply(text=LONG, chunk_chars=4, chunks_per_s=95))
    open_home(page, app)
    shot(page, "chat-home")
    send(page, "请写一段很长的文字")
    expect(page).to_have_url(re.compile(r"/chat/[\w-]+$"))
    expect(page.locator('[data-testid="user-bubble"]').last).to_have_text("请写一段很长的文字")
    # It streams: the text grows while the answer is marked streaming.
    expect(last_answer(page)).to_contain_text("第1段", timeout=10_000)
    first = len(last_answer(page).inner_text())
    page.wait_for_timeout(600)
    second = len(last_answer(page).inner_text())
    assert second > first, "the answer did not grow while streaming"
    shot(page, "chat-streaming")
    wait_done(page)
    expect(last_answer(page)).to_contain_text("第119段")
    assert fake_llm.requests[-1].json["messages"][-1] == {
        "role": "user",
        "content": "请写一段很长的文字",
    }
    assert fake_llm.requests[-1].json["stream"] is True
    shot(page, "chat-done")
    page.reload()
    expect(last_answer(page)).to_contain_text("第119段")
    expect(page.locator("#chat-title")).to_have_text("请写一段很长的文字")


def test_stop_cancels_upstream_and_keeps_partial_answer(page, app, fake_llm):
    fake_llm.queue(Reply(text=LONG, chunk_chars=2, chunks_per_s=20))
    open_home(page, app)
    send(page, "stop me")
    expect(last_answer(page)).to_contain_text("第1段", timeout=10_000)
    page.locator("#stop-button").click()
    expect(page.locator('[data-testid="msg-stopped"]')).to_be_visible()
    assert fake_llm.wait_for(lambda: fake_llm.disconnects >= 1, 5), "upstream request not cancelled"
    kept = last_answer(page).inner_text()
    assert 0 < len(kept) < len(LONG)
    page.reload()
    expect(page.locator('[data-testid="msg-stopped"]')).to_be_visible()
    assert LONG.startswith(last_answer(page).inner_text().strip()[:20])
    expect(page.locator("#composer-send")).to_be_visible()


def test_enter_while_an_answer_streams_keeps_the_typed_text(page, app, fake_llm):
    """The next question typed while the answer streams is not sent (the server would refuse
    it) and not cleared: it goes out with Enter once the answer has ended."""
    fake_llm.queue(
        Reply(text="第一个回答。" * 30, chunk_chars=2, chunks_per_s=30), Reply(text="second")
    )
    open_home(page, app)
    send(page, "first question")
    expect(page.locator("#stop-button")).to_be_visible(timeout=10_000)
    send(page, "typed while streaming")
    expect(page.locator("#composer-input")).to_have_value("typed while streaming")
    wait_done(page)
    expect(page.locator("#composer-send")).to_be_enabled()
    page.locator("#composer-input").press("Enter")
    expect(page.locator('[data-testid="user-bubble"]').last).to_have_text(
        "typed while streaming", timeout=10_000
    )
    expect(last_answer(page)).to_have_text("second", timeout=20_000)


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


def test_text_in_the_composer_survives_the_first_new_chat(page, app, fake_llm):
    """After a message from the home page, "new chat" switches React routes and mounts a new
    composer; what was typed carries over (the new textarea starts empty)."""
    open_home(page, app)
    send(page, "first one")
    wait_done(page)
    first_url = page.url
    page.locator("#composer-input").fill("a draft")
    old = page.locator("#composer-input").element_handle()
    page.locator("#new-chat").click()
    expect(page).not_to_have_url(first_url)
    page.wait_for_function("e => !e.isConnected", arg=old)
    expect(page.locator("#composer-input")).to_have_value("a draft")
    page.locator("#composer-input").press("Enter")
    expect(page.locator('[data-testid="user-bubble"]')).to_have_text(["a draft"])
    wait_done(page)


def test_regenerate_and_edit_resend(page, app, fake_llm):
    fake_llm.queue(
        Reply(text="first answer"), Reply(text="second answer"), Reply(text="answer to edited")
    )
    open_home(page, app)
    send(page, "original question")
    expect(last_answer(page)).to_have_text("first answer")
    wait_done(page)
    last_answer(page).hover()
    page.locator('[data-testid="regenerate"]').last.click()
    expect(last_answer(page)).to_have_text("second answer")
    wait_done(page)
    assert len(page.locator('[data-testid="assistant-bubble"]').all()) == 1
    page.locator('[data-testid="msg-user"]').last.hover()
    page.locator('[data-testid="edit"]').last.click()
    edit = page.locator("#edit-input")
    edit.fill("edited question")
    page.locator("#edit-save").click()
    expect(last_answer(page)).to_have_text("answer to edited")
    expect(page.locator('[data-testid="user-bubble"]')).to_have_count(1)
    expect(page.locator('[data-testid="user-bubble"]').last).to_have_text("edited question")
    assert fake_llm.requests[-1].json["messages"] == [
        {"role": "user", "content": "edited question"}
    ]


def test_rename_pin_search_and_delete_conversation(page, app, fake_llm):
    open_home(page, app)
    send(page, "会话甲 unique-alpha")
    wait_done(page)
    first_url = page.url
    page.locator("#new-chat").click()
    expect(page).not_to_have_url(first_url)
    expect(page.locator("#chat-title")).to_have_text("新的对话")
    send(page, "会话乙 unique-beta")
    wait_done(page)
    item = page.locator('[data-testid="conv-item"]', has_text="会话乙").first
    item.hover()
    item.locator(".menu").click()
    page.get_by_role("menuitem", name="重命名").click()
    rename = page.locator("#rename-input")
    rename.fill("改名后的会话")
    rename.press("Enter")
    expect(page.locator("#chat-title")).to_have_text("改名后的会话")
    expect(page.locator('[data-testid="conv-item"]', has_text="改名后的会话")).to_be_visible()
    # Search by content finds only the matching conversation.
    page.locator("#conv-search").fill("unique-alpha")
    expect(page.locator('[data-testid="conv-item"]')).to_have_count(1)
    expect(page.locator('[data-testid="conv-item"]').first).to_contain_text("会话甲")
    page.locator("#conv-search").fill("")
    expect(page.locator('[data-testid="conv-item"]', has_text="改名后的会话")).to_be_visible()
    # Pin the older one to the top.
    older = page.locator('[data-testid="conv-item"]', has_text="会话甲").first
    older.hover()
    older.locator(".menu").click()
    page.get_by_role("menuitem", name="置顶").click()
    expect(page.locator('[data-testid="conv-item"]').first).to_contain_text("会话甲")
    shot(page, "chat-list-pinned")
    # Delete with confirmation.
    item = page.locator('[data-testid="conv-item"]', has_text="改名后的会话").first
    item.hover()
    item.locator(".menu").click()
    page.get_by_role("menuitem", name="删除对话").click()
    page.locator("#delete-confirm").click()
    expect(page.locator('[data-testid="conv-item"]', has_text="改名后的会话")).to_have_count(0)


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


def test_markdown_code_table_and_math_render_and_html_does_not_run(page, app, fake_llm):
    answer = (
        "## 标题\n\n| a | b |\n| --- | --- |\n| 1 | 2 |\n\n```python\nprint('hi')\n```\n\n"
        "行内 \\(x^2\\) 和 $y$，块级：\n\n\\[\\frac{1}{2}\\]\n\n"
        '<img src=x onerror="window.__xss=1"> [click](javascript:window.__xss=2) <script>window.__xss=3</script>'
    )
    fake_llm.queue(Reply(text=answer, chunk_chars=7, chunks_per_s=95))
    open_home(page, app)
    send(page, "render test")
    wait_done(page)
    bubble = last_answer(page)
    expect(bubble.locator("h2")).to_have_text("标题")
    expect(bubble.locator("table td").first).to_have_text("1")
    expect(bubble.locator(".code-block .code-copy")).to_have_count(1)
    assert bubble.locator(".katex").count() >= 3  # \( \), $ $ and \[ \]
    assert bubble.locator(".katex-display").count() == 1
    assert bubble.locator("img").count() == 0
    href = bubble.locator("a", has_text="click").get_attribute("href") or ""
    assert "javascript" not in href
    bubble.locator("a", has_text="click").click(modifiers=["Control"]) if href else None
    assert page.evaluate("window.__xss") is None
    shot(page, "chat-markdown")


def test_upstream_error_is_explained_and_retry_works(page, app, fake_llm):
    # 500 on every attempt (the client retries 5xx before the first token), then success.
    fake_llm.queue(*[Reply(status=500)] * 3, Reply(text="recovered answer"))
    open_home(page, app)
    send(page, "trigger an error")
    expect(page.locator('[data-testid="msg-error"]')).to_contain_text(
        "模型服务出错了", timeout=20_000
    )
    assert "Traceback" not in page.content()
    shot(page, "chat-error")
    page.locator('[data-testid="retry"]').click()
    expect(last_answer(page)).to_have_text("recovered answer", timeout=20_000)
    expect(page.locator('[data-testid="msg-error"]')).to_have_count(0)


def test_clear_context_divider_limits_what_the_model_sees(page, app, fake_llm):
    fake_llm.queue(Reply(text="a1"), Reply(text="a2"))
    open_home(page, app)
    send(page, "before divider")
    wait_done(page)
    page.locator("#clear-context").click()
    expect(page.locator('[data-testid="divider"]')).to_be_visible()
    send(page, "after divider")
    expect(last_answer(page)).to_have_text("a2")
    assert fake_llm.requests[-1].json["messages"] == [{"role": "user", "content": "after divider"}]


def test_shift_enter_adds_a_line_and_empty_text_is_not_sent(page, app, fake_llm):
    open_home(page, app)
    expect(page.locator("#composer-send")).to_be_disabled()
    box = page.locator("#composer-input")
    box.press("Enter")
    box.type("line one")
    box.press("Shift+Enter")
    box.type("line two")
    expect(page.locator("#composer-send")).to_be_enabled()
    page.locator("#composer-send").click()
    expect(page.locator('[data-testid="user-bubble"]').last).to_have_text("line one\nline two")
    wait_done(page)
    # Had the empty Enter sent anything, it would have been handled before this message was:
    # one question on the page, one request to the model.
    expect(page.locator('[data-testid="user-bubble"]')).to_have_count(1)
    asked = [r.json["messages"][-1]["content"] for r in fake_llm.requests if r.method == "POST"]
    assert asked == ["line one\nline two"]


def test_unknown_conversation_shows_not_found(page, app):
    page.goto(app.url + "/chat/does-not-exist")
    expect(page.locator("#not-found")).to_be_visible()


def test_phone_layout_shows_one_pane(browser, app, fake_llm, session_token):
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, locale="zh-CN"
    )
    log_in(context, app.url, session_token)
    page = context.new_page()
    page.goto(app.url + "/")
    expect(page.locator(".sidebar")).to_be_visible()
    page.locator("#new-chat").click()
    expect(page).to_have_url(re.compile(r"/chat/[\w-]+$"))
    expect(page.locator(".sidebar")).to_be_hidden()
    send(page, "phone question")
    wait_done(page)
    shot(page, "chat-phone")
    page.locator(".mobile-back").click()
    expect(page.locator(".sidebar")).to_be_visible()
    time.sleep(0.2)
    context.close()


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


def test_titles_and_list_previews_render_html_as_text(page, app, fake_llm):
    hostile = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
    fake_llm.queue(Reply(text="ok"))
    open_home(page, app)
    send(page, hostile)
    wait_done(page)
    expect(page.locator("#chat-title")).to_contain_text("<img")
    assert page.locator(".sidebar img, .dialog-head img, .bubble.user img").count() == 0
    assert page.evaluate("window.__xss") is None
    page.reload()
    expect(page.locator("#chat-title")).to_contain_text("<img")
    assert page.evaluate("window.__xss") is None


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
