"""Image generation in Chromium (issue 15, item 4): the image model marked 「画图」 in the picker,
a prompt sent to it, the picture shown in the answer bubble (served by /api/v1/images/{id}) with
the prompt as its caption, downloaded as a PNG, and a content-policy refusal named; screenshots
in 中文 and English, light and dark, desktop and phone."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from testkit.browser import log_in, shot, watched_page
from testkit.fakes.openai_server import CONTENT_POLICY_ERROR, Reply
from testkit.fakes.wechat import dev_login

LANG_COOKIE = "chatapp_lang"
DESKTOP = {"width": 1280, "height": 820}
PHONE = {"width": 390, "height": 844}
PROMPT = "一只在月球上喝茶的橘猫，水彩风格"


@pytest.fixture(scope="module")
def painter_token(app) -> str:
    return dev_login(app.url, openid="o_image_painter")


@pytest.fixture
def open_page(request, browser, app, fake_llm, painter_token) -> Iterator[Callable[..., Page]]:
    fake_llm.reset()
    opened: list = []

    def opener(lang: str = "zh", scheme: str = "light", phone: bool = False) -> Page:
        options = {"viewport": PHONE, "has_touch": True, "is_mobile": True} if phone else {}
        cm = watched_page(
            browser,
            f"{request.node.name}-{lang}-{scheme}-{'phone' if phone else 'desktop'}",
            viewport=options.pop("viewport", DESKTOP),
            locale="zh-CN" if lang == "zh" else "en-US",
            color_scheme=scheme,
            accept_downloads=True,
            **options,
        )
        page = cm.__enter__()
        opened.append(cm)
        page.context.add_cookies([{"name": LANG_COOKIE, "value": lang, "url": app.url}])
        log_in(page.context, app.url, painter_token)
        return page

    yield opener
    for cm in reversed(opened):
        cm.__exit__(None, None, None)


def _image_conversation(page: Page, app, prompt: str, tag: str = "画图") -> None:
    """A conversation switched to the image model, `prompt` sent to it."""
    page.goto(app.url + "/")
    page.locator("#new-chat").click()
    box = page.locator("#composer-input")
    box.fill("你好")
    page.locator("#composer-send").click()
    expect(page).to_have_url(re.compile(r"/chat/[\w-]+$"))
    expect(page.locator("[data-testid=assistant-bubble]").last).to_have_attribute(
        "data-status", "done"
    )
    page.locator("#model-picker").click()
    item = page.locator("[data-model=fake-image]")
    expect(item).to_have_text(f"fake-image · {tag}")
    item.click()
    expect(page.locator("#model-picker")).to_contain_text("fake-image")
    box.fill(prompt)
    page.locator("#composer-send").click()


def _loaded(page: Page) -> None:
    picture = page.locator("[data-testid=answer-image]").last
    expect(picture).to_be_visible()
    page.wait_for_function(
        "() => { const i = [...document.querySelectorAll('[data-testid=answer-image]')].pop();"
        " return i && i.complete && i.naturalWidth > 0; }"
    )


def test_an_image_model_draws_and_the_picture_downloads(open_page, app, fake_llm) -> None:
    page = open_page("zh", "light")
    _image_conversation(page, app, PROMPT)
    _loaded(page)
    sent = [r for r in fake_llm.requests if r.path == "/v1/images/generations"]
    assert sent and sent[-1].json["prompt"] == PROMPT
    assert sent[-1].json["response_format"] == "b64_json"
    expect(page.locator("[data-testid=answer-image-prompt]").last).to_have_text(PROMPT)
    link = page.locator("[data-testid=answer-image-download]").last
    expect(link).to_have_text("下载")
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert re.fullmatch(r"chatapp-[\w-]+\.png", download.suggested_filename)
    path = download.path()
    assert path is not None and Path(path).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    shot(page, "images-zh-light-desktop")
    url = page.url
    # The same conversation, reloaded: the picture comes from the database.
    for lang, scheme, phone in (("en", "dark", False), ("zh", "dark", True), ("en", "light", True)):
        other = open_page(lang, scheme, phone)
        other.goto(url)
        _loaded(other)
        expect(other.locator("[data-testid=answer-image-download]").last).to_have_text(
            "Download" if lang == "en" else "下载"
        )
        shot(other, f"images-{lang}-{scheme}-{'phone' if phone else 'desktop'}")


def test_a_content_policy_refusal_is_named(open_page, app, fake_llm) -> None:
    page = open_page("en", "light")
    page.goto(app.url + "/")
    fake_llm.queue(Reply(text="hello"), Reply(status=400, error=CONTENT_POLICY_ERROR))
    _image_conversation(page, app, "something the policy refuses", tag="Image")
    error = page.locator("[data-testid=msg-error]").last
    expect(error).to_contain_text("content policy")
    expect(page.locator("[data-testid=answer-image]")).to_have_count(0)
    shot(page, "images-refused-en-light-desktop")
