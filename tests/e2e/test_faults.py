"""Upstream faults through the whole app, injected by the third-party llmock server.

For each fault: the user sees a clear, specific message (never a stack trace), the partial answer is
kept and marked, "retry" works and the conversation stays usable.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from testkit.app import AppServer, start_extra_app
from testkit.browser import log_in, shot
from testkit.fakes.llmock import llmock_server
from testkit.fakes.wechat import dev_login


@pytest.fixture(scope="module")
def llmock_url() -> Iterator[str]:
    with llmock_server() as url:
        yield url


@pytest.fixture(scope="module")
def llmock_app(llmock_url, tmp_path_factory) -> Iterator[AppServer]:
    data = tmp_path_factory.mktemp("llmock-app")
    server = start_extra_app(
        data,
        "faults",
        OPENAI_API_KEY="sk-llmock",
        OPENAI_BASE_URL=llmock_url + "/v1",
        CHATAPP_MODELS="gpt-4o-mini",
        LLM_TIMEOUT="2",
    )
    yield server
    server.stop()


@pytest.fixture(scope="module")
def llmock_token(llmock_app) -> str:
    return dev_login(llmock_app.url)


@pytest.fixture
def fpage(browser, llmock_app, llmock_url, llmock_token) -> Iterator[Page]:
    httpx.post(llmock_url + "/_llmock/reset").raise_for_status()
    context = browser.new_context(viewport={"width": 1280, "height": 820}, locale="zh-CN")
    log_in(context, llmock_app.url, llmock_token)
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(llmock_app.url + "/")
    expect(page.locator("#composer-input")).to_be_visible()
    yield page
    context.close()


def scenario(url: str, *behaviors: dict[str, Any]) -> None:
    httpx.post(url + "/_llmock/scenario", json={"behaviors": list(behaviors)}).raise_for_status()


FAULTS = [
    (
        "rate_limit",
        {"type": "fail", "status": 429, "retry_after": 0.2, "times": 3},
        "请求太频繁",
        False,
    ),
    ("server_500", {"type": "fail", "status": 500, "times": 3}, "模型服务出错了", False),
    ("server_503", {"type": "fail", "status": 503, "times": 3}, "模型服务出错了", False),
    (
        "dropped",
        {"type": "stream_fault", "kind": "disconnect", "after_chunks": 3},
        "连接中途断开了",
        True,
    ),
    (
        "truncated",
        {"type": "stream_fault", "kind": "truncate", "after_chunks": 3},
        "回答中途断开了",
        True,
    ),
    (
        "stalled",
        {"type": "stream_fault", "kind": "stall", "after_chunks": 3, "stall_seconds": 8},
        "长时间没有继续输出",
        True,
    ),
    (
        "malformed",
        {"type": "stream_fault", "kind": "malformed", "after_chunks": 3},
        "无法解析",
        True,
    ),
]


@pytest.mark.parametrize(
    ("name", "behavior", "says", "partial"), FAULTS, ids=[f[0] for f in FAULTS]
)
def test_fault_is_explained_partial_kept_and_retry_works(
    fpage, llmock_url, name, behavior, says, partial
):
    page = fpage
    scenario(llmock_url, behavior)
    page.locator("#composer-input").fill(f"fault {name}")
    page.locator("#composer-input").press("Enter")
    error = page.locator('[data-testid="msg-error"]')
    expect(error).to_contain_text(says, timeout=30_000)
    assert "Traceback" not in page.content() and "sk-llmock" not in page.content()
    bubble = page.locator('[data-testid="assistant-bubble"]').last
    kept = bubble.inner_text().strip()
    if partial:
        assert kept, "the partial answer was not kept"
    shot(page, f"fault-{name}")
    page.reload()  # the mark and the partial text are stored, not just shown
    expect(page.locator('[data-testid="msg-error"]')).to_contain_text(says)
    if partial:
        assert page.locator('[data-testid="assistant-bubble"]').last.inner_text().strip() == kept
    page.locator('[data-testid="retry"]').click()
    expect(page.locator('[data-testid="msg-error"]')).to_have_count(0, timeout=30_000)
    expect(page.locator('[data-testid="assistant-bubble"]').last).to_have_attribute(
        "data-status", "done", timeout=30_000
    )
    # Still usable: another message gets an answer.
    page.locator("#composer-input").fill("and now?")
    page.locator("#composer-input").press("Enter")
    expect(page.locator('[data-testid="assistant-bubble"]')).to_have_count(2)
    expect(page.locator('[data-testid="assistant-bubble"]').last).to_have_attribute(
        "data-status", "done", timeout=30_000
    )


def test_slow_first_token_shows_typing_then_answers(fpage, llmock_url):
    page = fpage
    scenario(llmock_url, {"type": "slow_first_token", "seconds": 1.5})
    page.locator("#composer-input").fill("slow start")
    page.locator("#composer-input").press("Enter")
    expect(page.locator(".typing")).to_be_visible()
    expect(page.locator('[data-testid="assistant-bubble"]').last).to_have_attribute(
        "data-status", "done", timeout=30_000
    )
    assert page.locator('[data-testid="assistant-bubble"]').last.inner_text().strip()
