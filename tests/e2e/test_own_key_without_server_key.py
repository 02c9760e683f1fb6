"""A user's own API key on an instance with NO server key (only the demo model): once saved, with a
base URL pointing at the fake OpenAI server, it answers (the fake server receives the user's key,
the answer shows, no 「演示模型」 badge); a refused save names the rule that refused it, in the
user's language, and keeps what was typed in both fields."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from testkit.app import AppServer, start_extra_app
from testkit.browser import log_in, shot
from testkit.fakes.openai_server import FakeOpenAI, Reply
from testkit.fakes.wechat import dev_login

ANSWER = '[data-testid="assistant-bubble"]'
USER_KEY = "sk-user-own-key-4242"


@pytest.fixture(scope="module")
def keyless(tmp_path_factory) -> Iterator[tuple[AppServer, FakeOpenAI]]:
    data = tmp_path_factory.mktemp("own-key-app")
    # The fake only accepts the user's key: an answer proves which key the request carried.
    with FakeOpenAI(api_key=USER_KEY, default=Reply(chunk_chars=4, chunks_per_s=0)) as llm:
        server = start_extra_app(
            data,
            "own-key",
            OPENAI_API_KEY="",
            CHATAPP_PROVIDERS_FILE="",
            CHATAPP_MODELS="",
            # The fake server listens on 127.0.0.1, an internal address users may not name.
            USER_BASE_URL_ALLOW="127.0.0.1",
        )
        yield server, llm
        server.stop()


def _page(browser, app: AppServer, openid: str, locale: str = "zh-CN", **options) -> Page:
    context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 820}, **options)
    log_in(context, app.url, dev_login(app.url, openid))
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def test_a_saved_own_key_answers_when_the_server_has_none(browser, keyless):
    app, llm = keyless
    page = _page(browser, app, "o_own_key_answers")
    page.goto(app.url + "/")
    expect(page.locator("#demo-badge")).to_have_count(0)  # no conversation open yet
    page.goto(app.url + "/settings")
    page.locator("#settings-api-key").fill(USER_KEY)
    page.locator("#settings-api-base").fill(llm.base_url)
    page.locator("#settings-api-save").click()
    expect(page.locator("#settings-api-hint")).to_have_text("…4242")
    expect(page.locator("#settings-api-error")).to_have_count(0)
    assert USER_KEY not in page.content()
    shot(page, "own-key-saved")

    page.goto(app.url + "/")
    page.locator("#composer-input").fill("用我自己的密钥")
    page.locator("#composer-input").press("Enter")
    expect(page.locator(ANSWER).last).to_have_text("You said: 用我自己的密钥", timeout=20_000)
    expect(page.locator(ANSWER).last).not_to_have_attribute("data-status", "streaming")
    request = llm.requests[-1]
    assert request.headers["authorization"] == f"Bearer {USER_KEY}"
    # The model the picker names is the one the request named (not the demo id).
    assert request.json["model"] == "gpt-4o-mini"
    expect(page.locator("#demo-badge")).to_have_count(0)
    expect(page.get_by_text("未配置 API Key")).to_have_count(0)
    expect(page.locator("#model-picker")).to_contain_text("gpt-4o-mini")
    shot(page, "own-key-answers")


def test_without_a_key_the_demo_model_still_answers_with_its_badge(browser, keyless):
    app, _ = keyless
    page = _page(browser, app, "o_own_key_none")
    page.goto(app.url + "/")
    page.locator("#composer-input").fill("hello")
    page.locator("#composer-input").press("Enter")
    expect(page.locator("#demo-badge")).to_be_visible(timeout=20_000)


@pytest.mark.parametrize(
    ("locale", "base", "rule"),
    [
        ("zh-CN", "http://10.1.2.3/v1", "内网或本机地址"),
        ("en-US", "http://10.1.2.3/v1", "internal or local address"),
        ("zh-CN", "https://me:pw@api.example.com/v1", "用户名或密码"),
        ("en-US", "ftp://api.example.com/v1", "must start with http:// or https://"),
    ],
)
def test_a_refused_save_names_the_rule_and_keeps_what_was_typed(
    browser, keyless, locale, base, rule
):
    app, _ = keyless
    page = _page(browser, app, f"o_own_key_refused_{locale}", locale=locale)
    page.goto(app.url + "/settings")
    if locale.startswith("en"):
        page.locator("#settings-language").get_by_role("radio", name="English").click()
        page.wait_for_timeout(500)
    page.locator("#settings-api-key").fill("sk-typed-but-refused")
    page.locator("#settings-api-base").fill(base)
    page.locator("#settings-api-save").click()
    expect(page.locator("#settings-api-error")).to_contain_text(rule)
    expect(page.locator("#settings-api-key")).to_have_value("sk-typed-but-refused")
    expect(page.locator("#settings-api-base")).to_have_value(base)
    expect(page.locator("#settings-api-hint")).to_have_count(0)
    shot(page, f"own-key-refused-{locale}-{rule[:8]}")
