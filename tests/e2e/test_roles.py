"""Roles and settings in a real browser: a role's prompt reaches the model, import, the header role
picker, language / theme / send key, and a user's own API key.

The suite shares one logged-in user with the chat tests, so every test that changes a preference
puts it back.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from testkit.browser import shot
from testkit.fakes.openai_server import Reply

PROMPT = "你是 E2E 测试角色，只用一句话回答。"


def wait_done(page: Page) -> None:
    expect(page.locator('[data-testid="assistant-bubble"]').last).not_to_have_attribute(
        "data-status", "streaming", timeout=30_000
    )


def send(page: Page, text: str, fake_llm=None) -> None:
    """Sends a message; with `fake_llm`, waits until the model request for it arrived."""
    before = len(fake_llm.requests) if fake_llm is not None else 0
    box = page.locator("#composer-input")
    box.fill(text)
    box.press("Enter")
    expect(page.locator('[data-testid="user-bubble"]').last).to_have_text(text)
    if fake_llm is not None:
        assert fake_llm.wait_for(lambda: len(fake_llm.requests) > before, 10), "no model request"


def create_role(page: Page, app, name: str) -> None:
    page.goto(app.url + "/roles")
    page.locator("#role-new").click()
    page.locator("#role-form-save").click()
    expect(page.locator("#role-form-error")).to_contain_text("名称")  # a clear error, nothing saved
    page.locator("#role-form-name").fill(name)
    page.locator("#role-form-avatar").fill("🧪")
    page.locator("#role-form-system_prompt").fill(PROMPT)
    rows = page.locator('[data-testid="opening-row"]')
    for count, text in enumerate(("示例问题", "示例回答"), start=1):
        page.locator("#role-form-add-opening").click()
        # The row is added by the server: fill it only once it is there, not the previous one.
        expect(rows).to_have_count(count)
        rows.nth(count - 1).locator("textarea").fill(text)
    page.locator("#role-form-temperature").fill("9")
    page.locator("#role-form-save").click()
    expect(page.locator("#role-form-error")).to_contain_text("温度")
    page.locator("#role-form-temperature").fill("0.3")
    page.locator("#role-form-save").click()
    expect(page.locator("#role-name")).to_have_text(name)


@pytest.fixture
def settings_restored(page: Page, app) -> Iterator[Page]:
    """Puts language, theme, send key and the API key back for the next tests."""
    yield page
    page.goto(app.url + "/settings")
    page.locator("#settings-language").get_by_role("radio", name="中文").click()
    page.locator("#settings-theme button").nth(0).click()
    page.locator("#settings-send-key").get_by_role("radio").nth(0).click()
    if page.locator("#settings-api-clear").count():
        page.locator("#settings-api-clear").click()
    page.wait_for_timeout(500)


def test_role_prompt_and_opening_reach_the_model(page, app, fake_llm):
    create_role(page, app, "E2E 角色")
    shot(page, "roles-created")
    page.locator("#role-start").click()
    expect(page).to_have_url(re.compile(r"/chat/[\w-]+$"))
    expect(page.locator("#chat-title")).to_have_text("E2E 角色")
    expect(page.locator("#role-picker")).to_contain_text("E2E 角色")
    fake_llm.queue(Reply(text="好的。"))
    send(page, "你好", fake_llm)
    wait_done(page)
    sent = fake_llm.requests[-1].json
    assert sent["messages"] == [
        {"role": "system", "content": PROMPT},
        {"role": "user", "content": "示例问题"},
        {"role": "assistant", "content": "示例回答"},
        {"role": "user", "content": "你好"},
    ]
    assert sent["temperature"] == 0.3
    shot(page, "roles-chat")

    # Switching the role in the header changes the next request's system prompt.
    page.locator("#role-picker").click()
    page.get_by_role("option", name=re.compile("Java 面试官")).click()
    expect(page.locator("#role-picker")).to_contain_text("Java 面试官")
    fake_llm.queue(Reply(text="第一题。"))
    send(page, "开始", fake_llm)
    wait_done(page)
    messages = fake_llm.requests[-1].json["messages"]
    assert messages[0]["role"] == "system" and "Java 后端技术面试官" in messages[0]["content"]
    page.reload()
    expect(page.locator("#role-picker")).to_contain_text("Java 面试官")


def test_import_is_all_or_nothing(page, app):
    page.goto(app.url + "/roles")
    page.locator("#roles-menu").click()
    page.locator("#roles-import").click()
    page.locator("#role-import-text").fill('[{"name": "坏面具", "context": [{"role": "tool"}]}]')
    page.locator("#role-import-submit").click()
    expect(page.locator("#role-import-error")).to_contain_text("没有导入任何内容")
    shot(page, "roles-import-error")
    mask = [
        {
            "avatar": "1f916",
            "name": "导入的面具",
            "context": [
                {"role": "system", "content": "你是导入的面具。"},
                {"role": "user", "content": "问"},
                {"role": "assistant", "content": "答"},
            ],
            "modelConfig": {"model": "fake-gpt", "temperature": 0.4},
            "lang": "cn",
        }
    ]
    page.locator("#role-import-text").fill(json.dumps(mask, ensure_ascii=False))
    page.locator("#role-import-submit").click()
    expect(page.locator("#role-name")).to_have_text("导入的面具")
    expect(page.locator("#role-prompt")).to_have_text("你是导入的面具。")
    expect(page.locator('[data-testid="role-item"]', has_text="坏面具")).to_have_count(0)


def test_language_theme_and_send_key(settings_restored, app):
    page = settings_restored
    page.goto(app.url + "/settings")
    shot(page, "settings-zh-light")
    page.locator("#settings-language").get_by_role("radio", name="English").click()
    expect(page.locator(".dialog-head .title")).to_have_text("Settings")
    page.locator("#settings-theme button").nth(1).click()
    expect(page.locator("html")).to_have_class(re.compile(r"\bdark\b"))
    page.locator("#settings-send-key").get_by_role("radio").nth(1).click()
    page.wait_for_timeout(300)
    shot(page, "settings-en-dark")
    page.goto(app.url + "/roles")
    expect(page.locator("#role-search")).to_have_attribute("placeholder", re.compile("Search"))
    expect(page.locator('[data-testid="role-item"]', has_text="SQL Helper")).to_be_visible()
    shot(page, "roles-en-dark")
    page.goto(app.url + "/")
    expect(page.locator("#composer-input")).to_have_attribute("data-sendkey", "ctrl")
    expect(page.locator("html")).to_have_class(re.compile(r"\bdark\b"))
    shot(page, "chat-en-dark")


def test_own_api_key_is_used_and_never_shown(settings_restored, app, fake_llm):
    page = settings_restored
    page.goto(app.url + "/settings")
    page.locator("#settings-api-key").fill("sk-own-key-e2e-7777")
    page.locator("#settings-api-save").click()
    expect(page.locator("#settings-api-hint")).to_have_text("…7777")
    assert "sk-own-key-e2e-7777" not in page.content()
    page.goto(app.url + "/")
    send(page, "用我的密钥", fake_llm)
    wait_done(page)
    # The fake server only accepts the deployment's key, so this answer fails; what matters is
    # which key the request carried.
    assert fake_llm.requests[-1].headers["authorization"] == "Bearer sk-own-key-e2e-7777"
    expect(page.locator('[data-testid="assistant-bubble"]').last).to_have_attribute(
        "data-status", "error"
    )


def test_roles_on_a_phone_show_one_pane_at_a_time(page, app):
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(app.url + "/roles")
    row = page.locator('[data-testid="role-item"]', has_text="SQL 助手")
    expect(row).to_be_visible()
    shot(page, "roles-phone-list")
    row.click()
    expect(page.locator("#role-prompt")).to_be_visible()
    expect(row).to_be_hidden()
    shot(page, "roles-phone-detail")
    page.locator(".dialog-head .mobile-back").click()
    expect(row).to_be_visible()


def test_role_text_renders_as_text_not_html(page, app):
    page.goto(app.url + "/roles")
    page.locator("#role-new").click()
    page.locator("#role-form-name").fill('<img src=x onerror="window.__xss=1">')
    page.locator("#role-form-system_prompt").fill(
        "<script>window.__xss=2</script> [x](javascript:window.__xss=3)"
    )
    page.locator("#role-form-save").click()
    expect(page.locator("#role-name")).to_contain_text("<img")
    expect(page.locator("#role-prompt")).to_contain_text("<script>")
    assert page.locator("#role-prompt a[href^='javascript']").count() == 0
    assert page.evaluate("window.__xss") is None
