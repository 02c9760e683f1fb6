"""One language at a time: `<html lang>` follows the UI language, screen-reader labels and badges
are in it, English text fits its fields, unknown addresses get a localised not-found page, and the
login code's placeholder is ordinary text."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from chatapp.i18n import en, zh
from testkit.browser import log_in, shot, watched_page
from testkit.fakes.wechat import dev_login

LANG_COOKIE = "chatapp_lang"
HTML_LANG = {"zh": "zh-CN", "en": "en"}
CJK = re.compile(r"[\u3400-\u9fff]")
# English text that must show Chinese: the word a user sends to the Official Account, the name of
# the Chinese language, a font preview of both scripts.
CJK_ALLOWED = {
    "login.subtitle",
    "login.simulator.hint",
    "login.code.howto",
    "login.error.expired",
    "login.simulator.send",
    "lang.zh",
    "settings.font_size.preview",
}


@pytest.fixture(scope="module")
def lang_token(app) -> str:
    return dev_login(app.url, openid="o_lang_user")


def _open(browser, request, app, token: str | None, lang: str) -> Iterator[Page]:
    with watched_page(
        browser, request.node.name, viewport={"width": 1280, "height": 820}, locale="zh-CN"
    ) as page:
        page.context.add_cookies([{"name": LANG_COOKIE, "value": lang, "url": app.url}])
        if token:
            log_in(page.context, app.url, token)
        yield page


@pytest.fixture(params=["zh", "en"])
def lang(request) -> str:
    return request.param


@pytest.fixture
def signed_in(browser, request, app, lang_token, lang) -> Iterator[Page]:
    yield from _open(browser, request, app, lang_token, lang)


@pytest.fixture
def signed_out(browser, request, app, lang) -> Iterator[Page]:
    yield from _open(browser, request, app, None, lang)


def test_english_text_has_no_chinese_but_where_it_must():
    leaks = {k: v for k, v in en.MESSAGES.items() if CJK.search(v) and k not in CJK_ALLOWED}
    assert not leaks, f"Chinese in the English UI: {leaks}"
    assert not CJK.search(en.MESSAGES["chat.demo_badge"])
    assert "demo" not in zh.MESSAGES["chat.demo_badge"].lower()


@pytest.mark.parametrize("path", ["/", "/roles", "/settings"])
def test_html_lang_follows_the_ui_language(signed_in, app, lang, path):
    signed_in.goto(app.url + path)
    expect(signed_in.locator("#ui-lang")).to_have_attribute("data-ui-lang", lang)
    expect(signed_in.locator("html")).to_have_attribute("lang", HTML_LANG[lang])


def test_html_lang_follows_a_language_switch(signed_out, app, lang):
    signed_out.goto(app.url + "/login")
    expect(signed_out.locator("html")).to_have_attribute("lang", HTML_LANG[lang])
    other = "en" if lang == "zh" else "zh"
    signed_out.locator(f"#lang-{other}").click()
    expect(signed_out.locator("#ui-lang")).to_have_attribute("data-ui-lang", other)
    expect(signed_out.locator("html")).to_have_attribute("lang", HTML_LANG[other])


@pytest.mark.parametrize("path", ["/", "/roles", "/settings"])
def test_screen_reader_labels_are_in_the_ui_language(signed_in, app, lang, path):
    # A conversation, so that its row's menu button is on the chat page.
    signed_in.goto(app.url + "/")
    if signed_in.locator('[data-testid="conv-item"]').count() == 0:
        signed_in.locator("#new-chat").click()
        expect(signed_in.locator('[data-testid="conv-item"]').first).to_be_visible()
    signed_in.goto(app.url + path)
    expect(signed_in.locator("#page-heading")).to_be_attached()
    signed_in.wait_for_timeout(500)
    labels = signed_in.eval_on_selector_all(
        "[aria-label]", "els => els.map(e => e.getAttribute('aria-label'))"
    )
    assert labels, "no labelled controls found"
    if lang == "zh":
        wrong = [x for x in labels if not CJK.search(x)]
    else:
        wrong = [x for x in labels if CJK.search(x)]
    assert not wrong, f"aria-labels not in {lang}: {wrong}"


def _text_fits(page: Page, selector: str) -> tuple[float, float]:
    """(the placeholder's text width, the room the input has for it), in px."""
    return page.eval_on_selector(
        selector,
        """el => {
            const s = getComputedStyle(el);
            const ctx = document.createElement('canvas').getContext('2d');
            ctx.font = `${s.fontWeight} ${s.fontSize} ${s.fontFamily}`;
            const room = el.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight);
            return [ctx.measureText(el.placeholder).width, room];
        }""",
    )


def test_search_placeholders_fit(signed_in, app, lang):
    signed_in.goto(app.url + "/")
    text, room = _text_fits(signed_in, "#conv-search")
    assert text <= room, f"the chat search placeholder is cut off ({text:.0f} > {room:.0f} px)"
    signed_in.goto(app.url + "/roles")
    search = signed_in.locator("#role-search, .sidebar-head input").first
    expect(search).to_be_visible()
    text, room = _text_fits(signed_in, "#role-search, .sidebar-head input")
    assert text <= room, f"the roles search placeholder is cut off ({text:.0f} > {room:.0f} px)"
    shot(signed_in, f"search-placeholder-{lang}")


@pytest.mark.parametrize("path", ["/nonexistent", "/chat/abc/def"])
def test_unknown_addresses_get_a_localised_not_found_page(signed_in, app, lang, path):
    signed_in.goto(app.url + path)
    title = zh.MESSAGES["not_found.title"] if lang == "zh" else en.MESSAGES["not_found.title"]
    expect(signed_in.locator("#not-found-title")).to_have_text(title)
    expect(signed_in.locator("html")).to_have_attribute("lang", HTML_LANG[lang])
    assert "404: Page not found" not in signed_in.content()
    shot(signed_in, f"not-found-{lang}-{path.strip('/').replace('/', '-')}")
    signed_in.locator("#not-found-home").click()
    expect(signed_in).to_have_url(app.url + "/")
    expect(signed_in.locator("#composer-input")).to_be_visible()


def test_login_code_placeholder_is_not_letter_spaced(signed_out, app, lang):
    signed_out.goto(app.url + "/login")
    box = signed_out.locator("input#login-code, #login-code input").first
    expect(box).to_be_visible()
    spacing = box.evaluate("el => getComputedStyle(el, '::placeholder').letterSpacing")
    assert spacing in ("normal", "0px"), f"the placeholder is letter-spaced: {spacing}"
    typed = box.evaluate("el => getComputedStyle(el).letterSpacing")
    assert typed not in ("normal", "0px"), "the typed code lost its spacing"
    shot(signed_out, f"login-placeholder-{lang}")
