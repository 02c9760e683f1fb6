"""What one user may spend, in the browser, on an instance with tight limits (3 sends a minute, 1
answer at once): a refused send says why in the user's language, keeps the typed text and stores
nothing; the ⚙ form refuses values over the ceilings; values stored over them anyway never go
upstream (the fake model server records what it received)."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from testkit.app import AppServer, start_extra_app
from testkit.browser import log_in
from testkit.fakes.openai_server import FakeOpenAI, Reply
from testkit.fakes.wechat import dev_login

ANSWER = '[data-testid="assistant-bubble"]'
QUESTION = '[data-testid="user-bubble"]'


@pytest.fixture(scope="module")
def limited(tmp_path_factory) -> Iterator[tuple[AppServer, FakeOpenAI]]:
    data = tmp_path_factory.mktemp("spend-app")
    with FakeOpenAI(api_key="k", default=Reply(chunk_chars=4, chunks_per_s=0)) as llm:
        server = start_extra_app(
            data,
            "spend",
            OPENAI_API_KEY="k",
            OPENAI_BASE_URL=llm.base_url,
            CHATAPP_MODELS="fake-gpt",
            CHAT_SENDS_PER_MINUTE="3",
            CHAT_MAX_CONCURRENT_ANSWERS="1",
        )
        yield server, llm
        server.stop()


def _db(app: AppServer) -> sqlite3.Connection:
    return sqlite3.connect(app.env["DATABASE_URL"].removeprefix("sqlite:///"))


def _user_messages(app: AppServer, openid: str) -> int:
    with _db(app) as db:
        return db.execute(
            "SELECT count(*) FROM message m JOIN user u ON u.id = m.user_id "
            "WHERE u.openid = ? AND m.kind = 'user'",
            (openid,),
        ).fetchone()[0]


def _page(browser, app: AppServer, openid: str) -> Page:
    context = browser.new_context(locale="zh-CN")
    log_in(context, app.url, dev_login(app.url, openid))
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def _send(page: Page, text: str) -> None:
    page.locator("#composer-input").fill(text)
    page.locator("#composer-input").press("Enter")


def _send_and_wait(page: Page, text: str) -> None:
    _send(page, text)
    expect(page.locator(ANSWER).last).to_have_text(f"You said: {text}", timeout=20_000)
    expect(page.locator(ANSWER).last).not_to_have_attribute("data-status", "streaming")
    expect(page.locator("#composer-send")).to_be_attached()


def test_the_send_past_the_rate_is_refused_with_the_text_kept_and_nothing_stored(browser, limited):
    app, _ = limited
    page = _page(browser, app, "o_spend_rate")
    page.goto(app.url + "/")
    for i in range(3):
        _send_and_wait(page, f"message {i}")
    expect(page).to_have_url(re.compile(r"/chat/[\w-]+$"))

    _send(page, "the fourth within a minute")
    expect(page.locator("#notice")).to_contain_text("发送太频繁了：每人每分钟最多 3 次")
    expect(page.locator("#composer-input")).to_have_value("the fourth within a minute")
    expect(page.locator(QUESTION)).to_have_count(3)  # the pending bubble went away
    expect(page.locator(ANSWER)).to_have_count(3)
    assert _user_messages(app, "o_spend_rate") == 3
    page.context.close()


def test_a_second_answer_at_once_is_refused_until_the_first_ends(browser, limited):
    app, llm = limited
    first = _page(browser, app, "o_spend_conc")
    first.goto(app.url + "/")
    llm.queue(Reply(text="慢慢地回答。" * 200, chunk_chars=2, chunks_per_s=20))  # ~30 s
    _send(first, "a long one")
    expect(first.locator("#stop-button")).to_be_visible()
    expect(first.locator(ANSWER).last).to_contain_text("慢慢地")

    second = _page(browser, app, "o_spend_conc")  # another tab of the same user
    second.goto(app.url + "/")
    _send(second, "from the second tab")
    expect(second.locator("#notice")).to_contain_text("同时生成的回答太多了：每人最多 1 个")
    expect(second.locator("#composer-input")).to_have_value("from the second tab")
    assert _user_messages(app, "o_spend_conc") == 1

    first.locator("#stop-button").click()
    expect(first.locator('[data-testid="msg-stopped"]')).to_be_visible()
    second.locator("#composer-send").click()  # the kept text, sent as it is
    expect(second.locator(ANSWER).last).to_have_text("You said: from the second tab")
    expect(second.locator("#notice")).to_have_count(0)
    first.context.close()
    second.context.close()


def test_the_settings_form_refuses_values_over_the_ceilings_and_stored_ones_are_clamped(
    browser, limited
):
    app, llm = limited
    page = _page(browser, app, "o_spend_ceil")
    page.goto(app.url + "/")
    _send_and_wait(page, "hello")
    cid = page.url.rsplit("/", 1)[-1]

    page.locator("#chat-settings").click()
    page.locator('input[name="context_window"]').fill("200")
    page.locator("#chat-settings-save").click()
    expect(page.locator("#context_window-status")).to_have_text(
        "上下文消息数必须是 1–50 之间的整数，未保存。"
    )
    with _db(app) as db:
        assert db.execute(
            "SELECT context_window FROM conversation WHERE id = ?", (cid,)
        ).fetchone() == (20,)

    # A client that skips the form, or a row from before the ceilings: stored over them.
    with _db(app) as db:
        db.execute(
            "UPDATE conversation SET context_window = 200, token_budget = 1000000, "
            "max_tokens = 128000 WHERE id = ?",
            (cid,),
        )
    page.reload()
    page.locator("#chat-settings").click()
    expect(page.locator('input[name="context_window"]')).to_have_value("50")  # shown clamped
    page.keyboard.press("Escape")
    _send_and_wait(page, "and now")
    [body] = [r.json for r in llm.requests if r.path.endswith("/chat/completions")][-1:]
    assert body["messages"][-1] == {"role": "user", "content": "and now"}
    assert body["max_tokens"] == 8192
    page.context.close()
