"""Reasoning and endings in Chromium (issue 15, items 1–2): the 「思考过程 / Thinking」 block live
with its timer and folded once the answer starts (a setting keeps it open), each ending named
under its bubble, 「继续」 going on in the same bubble, a rate limit's countdown, in 中文 and
English, light and dark, desktop and phone."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Page, expect

from testkit.browser import log_in, shot, watched_page
from testkit.fakes.openai_server import Reply
from testkit.fakes.wechat import dev_login

from .test_accessibility import axe_violations, describe

LANG_COOKIE = "chatapp_lang"
DESKTOP = {"width": 1280, "height": 820}
PHONE = {"width": 390, "height": 844}
THOUGHT_ZH = "用户想知道天空为什么是蓝色的。这和瑞利散射有关：短波长的蓝光散射得更多。我先解释原理，再举个例子。"
THOUGHT_EN = (
    "The user asks why the sky is blue. Rayleigh scattering: shorter wavelengths scatter more."
)


@pytest.fixture(scope="module")
def endings_token(app) -> str:
    """A user of its own: no saved language, so the page's language is the test's cookie."""
    return dev_login(app.url, openid="o_endings_user")


@pytest.fixture(scope="module")
def settings_token(app) -> str:
    """A user who saves a preference (a saved preference row also fixes the page's language)."""
    return dev_login(app.url, openid="o_endings_settings_user")


@pytest.fixture
def open_page(
    request, browser, app, fake_llm, endings_token, settings_token
) -> Iterator[Callable[..., Page]]:
    fake_llm.reset()
    opened: list = []

    def opener(
        lang: str = "zh", scheme: str = "light", phone: bool = False, saves: bool = False
    ) -> Page:
        options = {"viewport": PHONE, "has_touch": True, "is_mobile": True} if phone else {}
        cm = watched_page(
            browser,
            f"{request.node.name}-{lang}-{scheme}",
            viewport=options.pop("viewport", DESKTOP),
            locale="zh-CN" if lang == "zh" else "en-US",
            color_scheme=scheme,
            **options,
        )
        page = cm.__enter__()
        opened.append(cm)
        page.context.add_cookies([{"name": LANG_COOKIE, "value": lang, "url": app.url}])
        log_in(page.context, app.url, settings_token if saves else endings_token)
        return page

    yield opener
    for cm in reversed(opened):
        cm.__exit__(None, None, None)


def _send(page: Page, app, text: str) -> None:
    page.goto(app.url + "/")
    page.locator("#new-chat").click()
    box = page.locator("#composer-input")
    expect(box).to_be_visible()
    box.fill(text)
    page.locator("#composer-send").click()
    expect(page).to_have_url(re.compile(r"/chat/[\w-]+$"))


def _last_answer(page: Page):
    return page.locator('[data-testid="msg-assistant"]').last


def _done(page: Page) -> None:
    expect(page.locator('[data-testid="assistant-bubble"][data-status="streaming"]')).to_have_count(
        0, timeout=20_000
    )


@pytest.mark.parametrize(
    ("lang", "scheme", "thinking", "thought"),
    [
        ("zh", "light", r"思考中… \d+ 秒", r"已深度思考（用时 \d+ 秒）"),
        ("en", "dark", r"Thinking… \d+ s", r"Thought for \d+ s"),
    ],
)
def test_reasoning_streams_live_then_folds(
    open_page, app, fake_llm, lang, scheme, thinking, thought
):
    page = open_page(lang, scheme)
    text = THOUGHT_ZH if lang == "zh" else THOUGHT_EN
    # Slow reasoning (~2.5 s), then the answer: the block is seen live, then folded.
    fake_llm.queue(
        Reply(
            text="因为**瑞利散射**：蓝光波长短，被大气散射得最多。"
            if lang == "zh"
            else "Because of **Rayleigh scattering**.",
            reasoning=text,
            reasoning_field="reasoning_content",
            chunk_chars=2,
            chunks_per_s=20,
        )
    )
    _send(page, app, "天空为什么是蓝色的？" if lang == "zh" else "Why is the sky blue?")
    answer = _last_answer(page)
    block = answer.locator('[data-testid="reasoning-block"]')
    expect(block).to_have_attribute("data-state", "thinking")
    expect(block.locator(".reasoning-label")).to_have_text(re.compile(thinking))
    expect(block.locator('[data-testid="reasoning-text"]')).to_contain_text(text[:6])
    # The typing dot gives way to the thinking block while the model reasons.
    expect(answer.locator('[data-testid="assistant-bubble"]')).to_be_hidden()
    shot(page, f"reasoning-live-{lang}-{scheme}")
    _done(page)
    expect(block).to_have_attribute("data-state", "done")
    expect(block.locator(".reasoning-label")).to_have_text(re.compile(thought))
    expect(block.locator('[data-testid="reasoning-text"]')).to_have_count(0)  # folded
    expect(answer.locator('[data-testid="assistant-bubble"]')).to_contain_text(
        "瑞利散射" if lang == "zh" else "Rayleigh"
    )
    # The reasoning is not part of the answer's text.
    assert text[:6] not in answer.locator('[data-testid="assistant-bubble"]').inner_text()
    shot(page, f"reasoning-folded-{lang}-{scheme}")
    toggle = block.locator('[data-testid="reasoning-toggle"]')
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(block.locator('[data-testid="reasoning-text"]')).to_contain_text(text[-6:])
    shot(page, f"reasoning-open-{lang}-{scheme}")
    violations = axe_violations(page)
    assert not violations, describe(violations)
    # After a reload the stored reasoning and its time come from the server.
    page.reload()
    block = _last_answer(page).locator('[data-testid="reasoning-block"]')
    expect(block.locator(".reasoning-label")).to_have_text(re.compile(thought))


def test_think_tags_become_the_block_and_a_setting_keeps_it_open(open_page, app, fake_llm):
    page = open_page("zh", saves=True)
    page.goto(app.url + "/settings")
    switch = page.locator("#settings-reasoning-open")
    expect(switch).to_have_attribute("data-state", "unchecked")
    switch.click()
    expect(switch).to_have_attribute("data-state", "checked")
    try:
        fake_llm.queue(
            Reply(
                text="答案是 4。",
                reasoning="2+2=4，很简单。",
                reasoning_field="think",
                chunk_chars=3,
            )
        )
        _send(page, app, "2+2=?")
        _done(page)
        answer = _last_answer(page)
        expect(answer.locator('[data-testid="reasoning-text"]')).to_have_text("2+2=4，很简单。")
        bubble = answer.locator('[data-testid="assistant-bubble"]')
        expect(bubble).to_have_text("答案是 4。")
        expect(
            page.locator(".conv-item.active, [data-testid=conv-item]").first
        ).not_to_contain_text("think")
    finally:
        page.goto(app.url + "/settings")
        # The saved preference shows first, then it is switched back off.
        expect(page.locator("#settings-reasoning-open")).to_have_attribute("data-state", "checked")
        page.locator("#settings-reasoning-open").click()
        expect(page.locator("#settings-reasoning-open")).to_have_attribute(
            "data-state", "unchecked"
        )


ENDINGS = {
    "length": (
        Reply(text="这首诗写到一半，", finish_reason="length"),
        "回答达到了长度上限",
        "The answer hit the length limit",
    ),
    "refused": (
        Reply(text="", refusal="抱歉，我不能帮助完成这个请求。"),
        "模型拒绝了这个请求",
        "The model refused",
    ),
    "content_filter": (
        Reply(text="部分内容", finish_reason="content_filter"),
        "内容过滤",
        "content filter",
    ),
    "tool_calls": (Reply(text="", tool_call=True), "还没有提供工具", "offers no tools"),
    "empty": (Reply(text=""), "没有返回任何内容", "sent back nothing"),
}


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("ending", list(ENDINGS))
def test_each_ending_is_named(open_page, app, fake_llm, ending, lang):
    reply, zh, en = ENDINGS[ending]
    page = open_page(lang, "dark" if lang == "en" else "light")
    fake_llm.queue(reply)
    _send(page, app, f"ending {ending}")
    _done(page)
    line = _last_answer(page).locator('[data-testid="answer-ending"]')
    expect(line).to_contain_text(zh if lang == "zh" else en)
    if ending == "refused":
        expect(_last_answer(page).locator(".bubble.refused")).to_contain_text("抱歉")
    shot(page, f"ending-{ending}-{lang}")
    violations = axe_violations(page)
    assert not violations, describe(violations)


def test_continue_goes_on_in_the_same_bubble(open_page, app, fake_llm):
    page = open_page("zh")
    fake_llm.queue(
        Reply(text="床前明月光，", finish_reason="length"),
        Reply(text="疑是地上霜。", chunk_chars=2, chunks_per_s=30),
    )
    _send(page, app, "背一首诗")
    _done(page)
    answer = _last_answer(page)
    button = answer.locator('[data-testid="continue"]')
    expect(button).to_have_text("继续")
    button.click()
    _done(page)
    expect(page.locator('[data-testid="msg-assistant"]')).to_have_count(1)
    expect(_last_answer(page).locator('[data-testid="assistant-bubble"]')).to_have_text(
        "床前明月光，疑是地上霜。"
    )
    expect(_last_answer(page).locator('[data-testid="answer-ending"]')).to_have_count(0)
    assert "请从你上一条回答中断的地方" in fake_llm.requests[-1].json["messages"][-1]["content"]
    shot(page, "ending-continued-zh")


def test_reasoning_only_cut_at_the_limit_offers_continue(open_page, app, fake_llm):
    page = open_page("en")
    fake_llm.queue(
        Reply(text="", reasoning="Let me think this through step by step.", finish_reason="length")
    )
    _send(page, app, "A hard question")
    _done(page)
    answer = _last_answer(page)
    expect(answer.locator('[data-testid="reasoning-block"]')).to_be_visible()
    expect(answer.locator('[data-testid="answer-ending"]')).to_contain_text(
        "spent the length limit thinking"
    )
    expect(answer.locator('[data-testid="continue"]')).to_have_text("Continue")
    shot(page, "ending-reasoning-only-en")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_context_overflow_points_to_clear_context(open_page, app, fake_llm, lang):
    page = open_page(lang)
    fake_llm.queue(Reply(body="empty"), Reply(text="never"))
    _send(page, app, "a very long conversation")
    _done(page)
    answer = _last_answer(page)
    expect(answer.locator('[data-testid="msg-error"]')).to_contain_text(
        "超出了模型的上下文长度" if lang == "zh" else "too long for the model"
    )
    expect(answer.locator('[data-testid="ending-clear-context"]')).to_have_text(
        "清除上下文" if lang == "zh" else "Clear context"
    )
    assert len(fake_llm.requests) == 1  # not retried
    shot(page, f"ending-context-length-{lang}")
    answer.locator('[data-testid="ending-clear-context"]').click()
    expect(page.locator('[data-testid="divider"]')).to_have_count(1)


def test_rate_limit_counts_down_and_offers_retry(open_page, app, fake_llm):
    page = open_page("zh")
    fake_llm.queue(Reply(status=429, headers={"retry-after": "30"}), Reply(text="重试成功"))
    _send(page, app, "限流测试")
    _done(page)
    answer = _last_answer(page)
    countdown = answer.locator('[data-testid="rate-countdown"]')
    expect(countdown).to_have_text(re.compile(r"模型服务限流了：请 (29|30) 秒后重试。"))
    left = int(countdown.get_attribute("data-left") or 0)
    expect(countdown).not_to_have_attribute("data-left", str(left), timeout=3000)  # it ticks
    assert len(fake_llm.requests) == 1  # no retry before Retry-After
    shot(page, "ending-rate-limit-zh")
    violations = axe_violations(page)
    assert not violations, describe(violations)
    answer.locator('[data-testid="retry"]').click()
    expect(_last_answer(page).locator('[data-testid="assistant-bubble"]')).to_have_text("重试成功")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_phone_reasoning_and_ending(open_page, app, fake_llm, lang):
    page = open_page(lang, "dark" if lang == "zh" else "light", phone=True)
    fake_llm.queue(
        Reply(
            text="先说结论：可以。" * 3 if lang == "zh" else "Short answer: yes. " * 3,
            reasoning=THOUGHT_ZH if lang == "zh" else THOUGHT_EN,
            reasoning_field="reasoning",
            finish_reason="length",
        )
    )
    _send(page, app, "手机上的思考" if lang == "zh" else "Thinking on a phone")
    _done(page)
    answer = _last_answer(page)
    answer.locator('[data-testid="reasoning-toggle"]').click()
    expect(answer.locator('[data-testid="reasoning-text"]')).to_be_visible()
    expect(answer.locator('[data-testid="continue"]')).to_be_visible()
    box = answer.locator('[data-testid="reasoning-block"]').bounding_box()
    assert box is not None and box["x"] + box["width"] <= PHONE["width"] + 1
    shot(page, f"phone-reasoning-ending-{lang}")
