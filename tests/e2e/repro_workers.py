"""Reproduces an intermittent failure with several workers in one instance (`WEB_CONCURRENCY=2`,
Redis): now and then a tab's message gets no answer bubbles at all within 20 s. Seen in 1 of 3 runs
of this test and in 1 of about 4 `bench.run --workers 2` starts; cause unknown (see the note on
issue #7). Not collected by `make test` (a flaky test would make CI red at random); run it with
`.venv/bin/python -m pytest tests/e2e/repro_workers.py`, several times.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from testkit.app import AppServer, start_extra_app
from testkit.browser import log_in
from testkit.fakes.openai_server import FakeOpenAI, Reply
from testkit.fakes.wechat import dev_login
from testkit.topology import flush_redis

REDIS_URL = os.environ.get("TEST_REDIS_WORKERS_URL", "redis://127.0.0.1:6379/8")
ANSWER = "".join(f"第{i}句。" for i in range(40))


@pytest.fixture(scope="module")
def llm() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(api_key="k", default=Reply(text=ANSWER, chunk_chars=4, chunks_per_s=60)) as srv:
        yield srv


@pytest.fixture(scope="module")
def two_worker_app(llm, tmp_path_factory) -> Iterator[AppServer]:
    data = tmp_path_factory.mktemp("workers-app")
    flush_redis(REDIS_URL)
    server = start_extra_app(
        data,
        "workers",
        OPENAI_API_KEY="k",
        OPENAI_BASE_URL=llm.base_url,
        CHATAPP_MODELS="fake-gpt",
        REDIS_URL=REDIS_URL,
        WEB_CONCURRENCY="2",
    )
    try:
        yield server
    finally:
        server.stop()
        flush_redis(REDIS_URL)


def test_answers_stream_to_every_tab_whichever_worker_handles_it(browser, two_worker_app):
    app = two_worker_app
    pages = []
    for n in range(3):
        context = browser.new_context()
        log_in(context, app.url, dev_login(app.url, f"o_worker_{n}"))
        page = context.new_page()
        page.goto(app.url + "/")
        expect(page.locator("#composer-input")).to_be_visible()
        pages.append(page)
    for round_ in range(2):
        for n, page in enumerate(pages):
            page.locator("#composer-input").fill(f"用户{n} 第{round_}轮")
            page.locator("#composer-input").press("Enter")
        for page in pages:
            answer = page.locator('[data-testid="assistant-bubble"]').last
            expect(answer).to_have_attribute("data-status", "done", timeout=20_000)
            expect(answer).to_have_text(ANSWER)
    for page in pages:
        page.context.close()
