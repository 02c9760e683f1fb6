"""The rule chain and 敏感词 as a user meets them in the chat page: a spent quota and a refused
word say what to do and keep the typed text; a word in the model's answer is masked before the
browser sees it, even split across chunks."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import update
from sqlmodel import Session, select

from chatapp.billing import plans, sensitive
from chatapp.core.config import load_settings
from chatapp.core.db import make_engine
from chatapp.models import User, Wallet
from testkit.browser import log_in, shot, watched_page
from testkit.fakes.openai_server import Reply
from testkit.fakes.wechat import dev_login


@pytest.fixture
def own(browser, app, request) -> Iterator[tuple[Page, int, object]]:
    """A page of a user of its own (the quota changes must not reach other tests), its id, and
    an engine on the app's database."""
    openid = f"o_rules_{request.node.name[-24:]}"
    token = dev_login(app.url, openid)
    engine = make_engine(app.env["DATABASE_URL"])
    with Session(engine) as s:
        uid = s.exec(select(User.id).where(User.openid == openid)).one()
    with watched_page(
        browser, request.node.name, viewport={"width": 1280, "height": 820}, locale="zh-CN"
    ) as pg:
        log_in(pg.context, app.url, token)
        yield pg, uid, engine
    with Session(engine) as s:  # the process-wide word list goes back to empty
        sensitive.save_words(s, words=[], refuse_input=True, mask_output=True, actor_id=None)
        s.commit()
    engine.dispose()


def _send(page: Page, text: str) -> None:
    box = page.locator("#composer-input")
    box.fill(text)
    box.press("Enter")


def _reload_words(page: Page) -> None:
    # Each worker reads the stored list again at most every RELOAD_CHECK_S.
    time.sleep(sensitive.RELOAD_CHECK_S + 0.5)


def test_a_spent_balance_is_refused_with_what_to_do_and_the_text_stays(own, app, tmp_path):
    page, uid, engine = own
    settings = load_settings({"CHATAPP_DATA_DIR": str(tmp_path)})
    with Session(engine) as s:
        plan = plans.save_plan(
            s, plan_id=None, data=plans.parse_plan({"name": "零额度", "daily_free": "0"})
        )
        plans.wallet(s, settings=settings, user_id=uid)
        s.execute(update(Wallet).where(Wallet.user_id == uid).values(plan_id=plan.id, balance=0))
        s.commit()
    page.goto(app.url + "/")
    _send(page, "今天的天气怎么样？")
    expect(page.locator("#notice")).to_contain_text("余额不足（剩余 0）")
    expect(page.locator("#notice")).to_contain_text("设置 → 用量")
    expect(page.locator("#composer-input")).to_have_value("今天的天气怎么样？")
    expect(page.locator('[data-testid="assistant-bubble"]')).to_have_count(0)
    shot(page, "rules-quota-refused-zh")


def test_a_refused_word_names_itself_and_the_text_stays(own, app, fake_llm):
    page, _, engine = own
    with Session(engine) as s:
        sensitive.save_words(s, words=["机密"], refuse_input=True, mask_output=True, actor_id=None)
        s.commit()
    _reload_words(page)
    page.goto(app.url + "/")
    _send(page, "把这份机密文件总结一下")
    expect(page.locator("#notice")).to_contain_text("消息包含不允许的内容「机密」")
    expect(page.locator("#composer-input")).to_have_value("把这份机密文件总结一下")
    assert not [r for r in fake_llm.requests if "机密" in json.dumps(r.json, ensure_ascii=False)]
    shot(page, "rules-word-refused-zh")


def test_a_word_in_the_answer_is_masked_even_split_across_chunks(own, app, fake_llm):
    page, _, engine = own
    with Session(engine) as s:
        sensitive.save_words(s, words=["机密"], refuse_input=False, mask_output=True, actor_id=None)
        s.commit()
    _reload_words(page)
    frames: list[str] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda p: frames.append(str(p))))
    fake_llm.queue(Reply(text="这是机密文件，机密到此为止。", chunk_chars=1, chunks_per_s=40))
    page.goto(app.url + "/")
    _send(page, "讲讲这个文件")
    answer = page.locator('[data-testid="assistant-bubble"]').last
    expect(answer).to_have_attribute("data-status", "done", timeout=20_000)
    expect(answer).to_contain_text("这是＊＊文件，＊＊到此为止。")
    assert "机密" not in answer.inner_text()
    # Not even half a word crossed the socket: the mask holds text back until it can tell.
    assert not [f for f in frames if "机密" in f or "\\u673a\\u5bc6" in f]
    shot(page, "rules-word-masked-zh")
