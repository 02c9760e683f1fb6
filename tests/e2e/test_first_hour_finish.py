"""Issue 21, the rest of the first hour, in the browser: Esc gives the focus back to a menu's
opener; a role's opening shows in its chat, marked as the role's; rows and bubbles carry the role's
and the user's avatars; the ⚙ form answers field by field; a deleted message can be undone and the
list's preview follows; copying says 「已复制」; search highlights what matched; one Tab stop per
row; the roles tag bar wraps."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from testkit.app import AppServer
from testkit.browser import log_in, shot
from testkit.fakes.openai_server import FakeOpenAI, Reply
from testkit.fakes.wechat import dev_login

ROW = '[data-testid="conv-item"]'
ANSWER = '[data-testid="assistant-bubble"]'
PHONE = {"width": 390, "height": 844}


def _page(browser: Browser, app: AppServer, openid: str, **options) -> Page:
    options.setdefault("viewport", {"width": 1280, "height": 820})
    options.setdefault("locale", "zh-CN")
    context = browser.new_context(**options)
    log_in(context, app.url, dev_login(app.url, openid))
    page = context.new_page()
    page.set_default_timeout(20_000)
    return page


def _chat(page: Page, app: AppServer, fake_llm: FakeOpenAI, text: str, answer: str) -> None:
    fake_llm.queue(Reply(text=answer))
    page.goto(app.url + "/")
    box = page.locator("#composer-input")
    expect(box).to_be_visible()
    box.fill(text)
    page.locator("#composer-send").click()
    expect(page).to_have_url(re.compile(r"/chat/[\w-]+$"))
    expect(page.locator(ANSWER).last).to_contain_text(answer)
    expect(page.locator(ANSWER).last).not_to_have_attribute("data-status", "streaming")


def test_esc_on_a_row_menu_gives_the_focus_back_to_the_row(browser, app, fake_llm):
    page = _page(browser, app, "o_fh_esc")
    _chat(page, app, fake_llm, "菜单焦点", "好的。")
    link = page.locator(f"{ROW}.active .conv-link")
    link.focus()
    page.keyboard.press("ArrowRight")  # the row's menu, from its link
    menu = page.get_by_role("menu")
    expect(menu).to_be_visible()
    shot(page, "fh-row-menu-keyboard")
    page.keyboard.press("Escape")
    expect(menu).to_be_hidden()
    expect(link).to_be_focused()
    # 删除对话 from the keyboard-opened menu: Esc on its dialog comes back to the row too.
    page.keyboard.press("ArrowRight")
    expect(menu).to_be_visible()
    page.get_by_role("menuitem", name="删除对话").click()
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(link).to_be_focused()
    # The header's role picker: Esc returns to it, not to <body>.
    picker = page.locator("#role-picker")
    picker.click()
    listbox = page.get_by_role("listbox")
    expect(listbox).to_be_visible()
    page.keyboard.press("Escape")  # one press: no tooltip takes it first
    expect(listbox).to_be_hidden()
    expect(picker).to_be_focused()
    # The roles page's ⋯ menu.
    page.goto(app.url + "/roles")
    roles_menu = page.locator("#roles-menu")
    roles_menu.click()
    expect(menu).to_be_visible()
    page.keyboard.press("Escape")
    expect(menu).to_be_hidden()
    expect(roles_menu).to_be_focused()
    page.context.close()


def test_each_row_is_one_tab_stop(browser, app, fake_llm):
    page = _page(browser, app, "o_fh_tabs")
    _chat(page, app, fake_llm, "第一个对话", "一。")
    _chat(page, app, fake_llm, "第二个对话", "二。")
    page.locator("#new-chat").focus()
    stops = []
    for _ in range(3):
        page.keyboard.press("Tab")
        stops.append(page.evaluate("document.activeElement.className"))
    assert [("conv-link" in s) for s in stops] == [True, True, False], stops
    # From the top of the page, the open conversation's header comes before the rows.
    page.evaluate("document.body.tabIndex = -1; document.body.focus()")
    order = []
    for _ in range(40):
        page.keyboard.press("Tab")
        order.append(page.evaluate("document.activeElement.id || document.activeElement.className"))
    settings_at = order.index("chat-settings")
    first_row = next(i for i, s in enumerate(order) if "conv-link" in s)
    assert settings_at < first_row, order
    row = page.locator(ROW).first.bounding_box()
    head = page.locator(".dialog-head").bounding_box()
    assert row and head and row["x"] < head["x"], "the list moved off the left"
    page.context.close()


def test_a_roles_opening_shows_marked_and_its_avatar_is_on_row_and_answer(browser, app, fake_llm):
    page = _page(browser, app, "o_fh_opening")
    page.goto(app.url + "/roles")
    page.locator('[data-testid="role-item"]', has_text="Linux 终端").first.click()
    page.locator("#role-start").click()
    expect(page).to_have_url(re.compile(r"/chat/[\w-]+$"))
    opening = page.locator("#role-opening")
    expect(opening).to_be_visible()
    expect(opening).to_contain_text("角色开场白")
    expect(opening.locator('[data-testid="opening-line"]').first).to_contain_text("预设提问")
    expect(opening.locator('[data-testid="opening-line"]').first).to_contain_text("pwd")
    # Not a bubble the user typed.
    expect(page.locator('[data-testid="user-bubble"]')).to_have_count(0)
    fake_llm.queue(Reply(text="/home/user"))
    page.locator("#composer-input").fill("ls")
    page.locator("#composer-send").click()
    expect(page.locator(ANSWER).last).to_contain_text("/home/user")
    avatar = page.locator('[data-testid="avatar-assistant"]').last
    expect(avatar).not_to_have_text("🤖")
    role_face = avatar.inner_text()
    expect(page.locator(f"{ROW}.active .conv-avatar")).to_have_text(role_face)
    expect(opening).to_be_visible()  # still above the first message
    user_avatar = page.locator('[data-testid="avatar-user"]').last
    expect(user_avatar).not_to_have_text("微")
    expect(user_avatar).to_have_text(page.locator("#avatar-self").inner_text())
    shot(page, "fh-role-opening")
    page.context.close()


def test_the_settings_form_answers_field_by_field(browser, app, fake_llm):
    page = _page(browser, app, "o_fh_params")
    _chat(page, app, fake_llm, "参数", "好。")
    page.locator("#chat-settings").click()
    page.locator('input[name="temperature"]').fill("1.2")
    page.locator('input[name="context_window"]').fill("0")
    page.locator("#chat-settings-save").click()
    expect(page.locator("#temperature-status")).to_have_text("✓ 已保存")
    expect(page.locator("#context_window-status")).to_contain_text("上下文消息数必须是")
    expect(page.locator('input[name="context_window"]')).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#chat-settings-summary")).to_contain_text("有的值没有保存")
    # What was typed stays, for the user to correct.
    expect(page.locator('input[name="context_window"]')).to_have_value("0")
    expect(page.locator("#max-tokens-hint")).to_be_visible()
    shot(page, "fh-params-field-by-field")
    page.locator('input[name="context_window"]').fill("12")
    page.locator("#chat-settings-save").click()
    expect(page.locator("#context_window-status")).to_have_text("✓ 已保存")
    expect(page.locator("#chat-settings-summary")).to_contain_text("已保存")
    page.keyboard.press("Escape")
    page.reload()
    page.locator("#chat-settings").click()
    expect(page.locator('input[name="temperature"]')).to_have_value("1.2")
    expect(page.locator('input[name="context_window"]')).to_have_value("12")
    page.context.close()


def test_a_deleted_message_can_be_undone_and_the_preview_follows(browser, app, fake_llm):
    page = _page(browser, app, "o_fh_undo")
    _chat(page, app, fake_llm, "第一问", "第一答")
    preview = page.locator(f"{ROW}.active .preview")
    expect(preview).to_have_text("第一答")
    answer_row = page.locator('[data-testid="msg-assistant"]').last
    answer_row.hover()
    answer_row.locator(".act-delete-msg").click()
    expect(page.locator('[data-testid="msg-assistant"]')).to_have_count(0)
    expect(preview).to_have_text("第一问")
    expect(page.locator("#undo-bar")).to_contain_text("已删除一条消息")
    shot(page, "fh-undo-bar")
    page.locator("#undo-delete").click()
    expect(page.locator('[data-testid="msg-assistant"]')).to_have_count(1)
    expect(page.locator(ANSWER).last).to_contain_text("第一答")
    expect(preview).to_have_text("第一答")
    expect(page.locator("#undo-bar")).to_have_count(0)
    page.reload()
    expect(page.locator(ANSWER).last).to_contain_text("第一答")
    page.context.close()


def test_copy_says_copied(browser, app, fake_llm):
    page = _page(browser, app, "o_fh_copy")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    _chat(page, app, fake_llm, "复制我", "复制的回答")
    row = page.locator('[data-testid="msg-user"]').last
    row.hover()
    button = row.locator(".act-copy")
    button.click()
    expect(button).to_have_attribute("data-copied", "")
    tip = button.evaluate("el => getComputedStyle(el, '::after').content")
    assert tip == '"已复制"', tip
    expect(page.locator("#copy-status")).to_have_text("已复制")
    shot(page, "fh-copied")
    expect(button).not_to_have_attribute("data-copied", "", timeout=5000)
    page.context.close()


def test_search_highlights_the_match_in_titles_and_messages(browser, app, fake_llm):
    page = _page(browser, app, "o_fh_search")
    _chat(page, app, fake_llm, "周末去西湖", "可以先去断桥，再坐船游湖。")
    page.locator("#conv-search").fill("断桥")
    row = page.locator(ROW).first
    expect(row.locator(".preview.hit mark")).to_have_text("断桥")
    page.locator("#conv-search").fill("西湖")
    expect(row.locator(".title mark")).to_have_text("西湖")
    shot(page, "fh-search-highlight")
    page.context.close()


def test_the_roles_tag_bar_wraps_instead_of_clipping(browser, app):
    page = _page(browser, app, "o_fh_tags")
    page.goto(app.url + "/roles")
    bar = page.locator(".tag-bar")
    expect(bar.locator(".tag-chip").nth(3)).to_be_visible()
    clipped = bar.evaluate("el => el.scrollWidth > el.clientWidth + 1")
    assert not clipped
    last = bar.locator(".tag-chip").last.bounding_box()
    box = bar.bounding_box()
    assert last and box and last["x"] + last["width"] <= box["x"] + box["width"] + 1
    shot(page, "fh-roles-tags")
    page.context.close()


@pytest.mark.parametrize(
    ("lang", "scheme", "device"),
    [
        (lang, scheme, device)
        for lang in ("zh", "en")
        for scheme in ("light", "dark")
        for device in ("desktop", "phone")
    ],
)
def test_screens_in_both_languages_schemes_and_sizes(browser, app, fake_llm, lang, scheme, device):
    """The new pieces on one screen each: the role opening with avatars, the undo bar, the ⚙
    form's answers, a highlighted search — looked at in every combination."""
    phone = device == "phone"
    options = {"viewport": PHONE, "has_touch": True, "is_mobile": True} if phone else {}
    page = _page(
        browser,
        app,
        f"o_fh_look_{lang}_{scheme}_{device}",
        locale="zh-CN" if lang == "zh" else "en-US",
        color_scheme=scheme,
        **options,
    )
    page.context.add_cookies([{"name": "chatapp_lang", "value": lang, "url": app.url}])
    page.goto(app.url + "/roles")
    role = "Linux 终端" if lang == "zh" else "Linux Terminal"
    page.locator('[data-testid="role-item"]', has_text=role).first.click()
    page.locator("#role-start").click()
    expect(page.locator("#role-opening")).to_be_visible()
    fake_llm.queue(Reply(text="/home/user"))
    page.locator("#composer-input").fill("ls -la")
    page.locator("#composer-send").click()
    expect(page.locator(ANSWER).last).to_contain_text("/home/user")
    expect(page.locator(ANSWER).last).not_to_have_attribute("data-status", "streaming")
    shot(page, f"fh-look-opening-{lang}-{scheme}-{device}")
    page.locator("#chat-settings").click()
    page.locator('input[name="temperature"]').fill("0.4")
    page.locator('input[name="token_budget"]').fill("5")
    page.locator("#chat-settings-save").click()
    expect(page.locator("#temperature-status")).to_be_visible()
    expect(page.locator("#token_budget-status")).to_be_visible()
    shot(page, f"fh-look-params-{lang}-{scheme}-{device}")
    page.keyboard.press("Escape")
    row = page.locator('[data-testid="msg-user"]').last
    row.hover()
    row.locator(".act-delete-msg").click()
    expect(page.locator("#undo-bar")).to_be_visible()
    shot(page, f"fh-look-undo-{lang}-{scheme}-{device}")
    page.locator("#undo-delete").click()
    if phone:
        page.locator(".mobile-back").click()
    page.locator("#conv-search").fill("ls")
    expect(page.locator(f"{ROW} mark").first).to_be_visible()
    shot(page, f"fh-look-search-{lang}-{scheme}-{device}")
    page.context.close()
