"""The chat flow in a real browser against the real app and a fake model server: send, stream,
stop, regenerate and edit, rename/pin/search/delete, markdown, errors, the phone layout."""

from __future__ import annotations

import re
import time

from playwright.sync_api import expect

from testkit.browser import log_in, shot
from testkit.fakes.openai_server import Reply
from tests.e2e.chat_page import LONG, last_answer, open_home, send, wait_done


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
