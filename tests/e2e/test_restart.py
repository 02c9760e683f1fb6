"""`kill -9` of the backend mid-stream, then a restart: nothing earlier is lost, the partial answer
is there up to its last checkpoint (≤ 1 s of text lost), marked interrupted, and the chat goes on."""

from __future__ import annotations

import re
import signal
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from testkit.app import AppServer, start_extra_app
from testkit.browser import log_in, shot
from testkit.fakes.openai_server import FakeOpenAI, Reply
from testkit.fakes.wechat import dev_login

PACE_CHARS_PER_S = 3 * 20
LONG = "".join(f"[{i:04d}] checkpoint text. " for i in range(2000))


@pytest.fixture(scope="module")
def slow_llm() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(default=Reply(chunk_chars=3, chunks_per_s=20)) as srv:
        yield srv


@pytest.fixture(scope="module")
def restart_app(slow_llm, tmp_path_factory) -> Iterator[AppServer]:
    data = tmp_path_factory.mktemp("restart-app")
    server = start_extra_app(
        data,
        "restart",
        OPENAI_API_KEY="k",
        OPENAI_BASE_URL=slow_llm.base_url,
        CHATAPP_MODELS="fake-gpt",
    )
    yield server
    server.stop()


def _answer_row(app: AppServer, conversation_id: str) -> tuple[str, str]:
    import sqlite3

    with sqlite3.connect(app.env["DATABASE_URL"].removeprefix("sqlite:///")) as db:
        return db.execute(
            "SELECT content, status FROM message WHERE conversation_id=? AND kind='assistant' ORDER BY id DESC LIMIT 1",
            (conversation_id,),
        ).fetchone()


def test_kill_9_mid_stream_keeps_everything_up_to_the_last_checkpoint(
    browser, restart_app, slow_llm
):
    app = restart_app
    context = browser.new_context()
    log_in(context, app.url, dev_login(app.url, "o_restart"))
    page = context.new_page()
    page.goto(app.url + "/")
    slow_llm.queue(Reply(text="first answer", chunks_per_s=0))
    page.locator("#composer-input").fill("an earlier question")
    page.locator("#composer-input").press("Enter")
    expect(page).to_have_url(re.compile(r"/chat/[\w-]+$"))
    cid = page.url.rsplit("/", 1)[-1]
    answer = page.locator('[data-testid="assistant-bubble"]').last
    expect(answer).to_have_attribute("data-status", "done")
    slow_llm.queue(Reply(text=LONG, chunk_chars=3, chunks_per_s=20))
    page.locator("#composer-input").fill("a long answer please")
    page.locator("#composer-input").press("Enter")
    expect(answer).to_contain_text("[0040]", timeout=20_000)
    shown = answer.inner_text().strip()
    app.stop(signal.SIGKILL)
    saved, status = _answer_row(app, cid)
    assert status == "streaming"
    assert LONG.startswith(saved) and saved, "the checkpoint is not a prefix of the answer"
    lost = len(shown) - len(saved)
    # One checkpoint interval of text at this pace, plus one 80 ms batch of slack.
    assert lost <= PACE_CHARS_PER_S * 1.0 + 12, f"{lost} chars lost at {PACE_CHARS_PER_S} chars/s"

    app.start()
    page.reload()
    expect(page.locator('[data-testid="user-bubble"]').first).to_have_text("an earlier question")
    expect(page.locator('[data-testid="assistant-bubble"]').first).to_have_text("first answer")
    expect(page.locator('[data-testid="assistant-bubble"]').last).to_have_attribute(
        "data-status", "interrupted", timeout=30_000
    )
    assert (
        page.locator('[data-testid="assistant-bubble"]').last.inner_text().strip() == saved.strip()
    )
    expect(page.get_by_text("已中断")).to_be_visible()
    shot(page, "restart-interrupted")
    slow_llm.queue(Reply(text="still here", chunks_per_s=0))
    page.locator("#composer-input").fill("are you back?")
    page.locator("#composer-input").press("Enter")
    expect(page.locator('[data-testid="assistant-bubble"]').last).to_have_text(
        "still here", timeout=20_000
    )
    context.close()
