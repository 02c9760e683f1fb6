"""PostgreSQL goes away (every connection dropped, new ones refused) and comes back: requests fail
with a clear message, the user's text stays in the composer, and the app recovers by itself."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import expect

from testkit.app import AppServer, start_extra_app
from testkit.browser import log_in
from testkit.fakes.openai_server import FakeOpenAI, Reply
from testkit.fakes.tcp_proxy import TcpProxy
from testkit.fakes.wechat import dev_login
from testkit.postgres import pg_database_behind_proxy


@pytest.fixture(scope="module")
def pg_proxy() -> Iterator[tuple[TcpProxy, str]]:
    with pg_database_behind_proxy("chatapp_outage") as proxy_and_url:
        yield proxy_and_url


@pytest.fixture(scope="module")
def outage_app(pg_proxy, tmp_path_factory) -> Iterator[tuple[AppServer, FakeOpenAI]]:
    _, url = pg_proxy
    data = tmp_path_factory.mktemp("outage-app")
    with FakeOpenAI(default=Reply(chunk_chars=4, chunks_per_s=0)) as llm:
        server = start_extra_app(
            data,
            "outage",
            DATABASE_URL=url,
            OPENAI_API_KEY="k",
            OPENAI_BASE_URL=llm.base_url,
            CHATAPP_MODELS="fake-gpt",
        )
        yield server, llm
        server.stop()


def test_database_outage_is_explained_and_recovers(browser, outage_app, pg_proxy):
    app, _ = outage_app
    proxy, _ = pg_proxy
    context = browser.new_context()
    log_in(context, app.url, dev_login(app.url, "o_outage"))
    page = context.new_page()
    page.goto(app.url + "/")
    page.locator("#composer-input").fill("before the outage")
    page.locator("#composer-input").press("Enter")
    expect(page).to_have_url(re.compile(r"/chat/[\w-]+$"))
    expect(page.locator('[data-testid="assistant-bubble"]').last).to_have_text(
        "You said: before the outage"
    )
    # The answer has ended (saved, the page out of "answering"), not only shown: cut earlier and
    # the Enter below lands while Stop still shows, which keeps the text and sends nothing.
    expect(page.locator('[data-testid="assistant-bubble"]').last).not_to_have_attribute(
        "data-status", "streaming"
    )
    expect(page.locator("#composer-send")).to_be_attached()

    proxy.cut()
    assert httpx.get(app.url + "/api/health", timeout=10).status_code == 503
    page.locator("#composer-input").fill("during the outage")
    page.locator("#composer-input").press("Enter")
    expect(page.locator("#notice")).to_contain_text("数据库暂时不可用", timeout=20_000)
    expect(page.locator("#composer-input")).to_have_value("during the outage")
    # The bubbles shown while it was being stored are gone: it was not stored.
    expect(page.locator('[data-testid="user-bubble"]')).to_have_count(1)
    expect(page.locator('[data-testid="assistant-bubble"]')).to_have_count(1)
    assert "Traceback" not in page.content()

    proxy.restore()
    for _ in range(40):
        if httpx.get(app.url + "/api/health", timeout=10).status_code == 200:
            break
        page.wait_for_timeout(250)
    page.locator("#composer-send").click()
    expect(page.locator('[data-testid="assistant-bubble"]').last).to_have_text(
        "You said: during the outage", timeout=20_000
    )
    expect(page.locator('[data-testid="user-bubble"]')).to_have_count(2)
    expect(page.locator("#notice")).to_have_count(0)
    context.close()
