"""Keyboard and dialogs (issue 21, item 5): Esc closes the 删除对话 dialog and cancels a message
edit, dialog buttons keep a gap, and the
message actions' tips do not cover the message."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from testkit.browser import shot
from testkit.fakes.openai_server import Reply


def _chat(page: Page, app, fake_llm, text: str) -> None:
    fake_llm.queue(Reply(text="好的。"))
    page.goto(app.url + "/")
    box = page.locator("#composer-input")
    expect(box).to_be_visible()
    box.fill(text)
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"/chat/[\w-]+$"))
    expect(page.locator('[data-testid="assistant-bubble"]').last).to_contain_text("好的。")


def _open_menu(page: Page):
    row = page.locator('[data-testid="conv-item"].active')
    row.hover()
    row.locator(".menu").click()
    expect(page.get_by_role("menu")).to_be_visible()


def test_esc_closes_the_delete_dialog_whose_buttons_keep_a_gap(page, app, fake_llm):
    _chat(page, app, fake_llm, "键盘测试")
    _open_menu(page)
    page.get_by_role("menuitem", name="删除对话").click()
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_be_visible()
    cancel = dialog.get_by_role("button", name="取消").bounding_box()
    confirm = page.locator("#delete-confirm").bounding_box()
    assert cancel and confirm and confirm["x"] - (cancel["x"] + cancel["width"]) >= 8
    shot(page, "delete-dialog")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    # Closed for good (the state too): it does not come back, and the conversation is still there.
    page.wait_for_timeout(500)
    expect(dialog).to_be_hidden()
    expect(page.locator('[data-testid="conv-item"].active')).to_have_count(1)


def test_esc_cancels_a_message_edit_and_tips_stay_off_the_message(page, app, fake_llm):
    _chat(page, app, fake_llm, "要编辑的消息")
    row = page.locator('[data-testid="msg-user"]').last
    row.hover()
    edit = row.locator(".act-edit")
    edit.hover()
    page.wait_for_timeout(200)
    tip_top = edit.evaluate("el => getComputedStyle(el, '::after').top")
    bubble = row.locator('[data-testid="user-bubble"]').bounding_box()
    button = edit.bounding_box()
    assert bubble and button
    # The tip is below the action buttons, which are below the bubble.
    assert button["y"] >= bubble["y"] + bubble["height"] - 1
    assert tip_top not in ("auto", "") and float(tip_top.rstrip("px")) > 0, tip_top
    edit.click()
    area = page.locator("#edit-input")
    expect(area).to_be_visible()
    area.press("End")
    area.type("（改）")
    page.keyboard.press("Escape")
    expect(area).to_have_count(0)
    expect(row.locator('[data-testid="user-bubble"]')).to_have_text("要编辑的消息")
    assert len(fake_llm.requests) == 1, "Esc sent the edit"


def test_max_tokens_field_says_what_zero_means(page, app, fake_llm):
    _chat(page, app, fake_llm, "参数提示")
    page.locator("#chat-settings").click()
    expect(page.locator("#max-tokens-hint")).to_have_text("0 = 使用模型的默认长度")
    expect(page.locator('input[name="max_tokens"]')).to_have_attribute(
        "aria-describedby", "max-tokens-hint"
    )
