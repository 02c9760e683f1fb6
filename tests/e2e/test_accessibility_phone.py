"""axe-core over the phone's page states (390×844, touch), in 中文 and English, light and dark: no
critical and no serious violation — the conversation list with its tab bar, an open conversation,
its ⚙ panel, the roles page and the settings page (issue 21, item 10)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Page, expect

from testkit.browser import log_in, shot, watched_page
from tests.e2e.test_accessibility import (  # noqa: F401 (fixtures)
    LANG_COOKIE,
    _chat_settings,
    _conversation,
    a11y_token,
    axe_violations,
    conversation_url,
    describe,
)

PHONE = {"width": 390, "height": 844}


def _list(page: Page, url: str, _conv: str) -> None:
    page.goto(url + "/")
    expect(page.locator(".phone-nav")).to_be_visible()


def _roles(page: Page, url: str, _conv: str) -> None:
    page.goto(url + "/roles")
    expect(page.locator('[data-testid="role-item"]').first).to_be_visible()


def _settings(page: Page, url: str, _conv: str) -> None:
    page.goto(url + "/settings")
    expect(page.locator("#settings-language")).to_be_visible()


PHONE_STATES: dict[str, Callable[[Page, str, str], None]] = {
    "list": _list,
    "conversation": _conversation,
    "chat-settings": _chat_settings,
    "roles": _roles,
    "settings": _settings,
}


@pytest.fixture
def phone_page(request, browser, app, a11y_token) -> Iterator[Callable[[str, str], Page]]:  # noqa: F811 (a fixture)
    opened: list = []

    def open_page(lang: str, scheme: str) -> Page:
        cm = watched_page(
            browser,
            request.node.name,
            viewport=PHONE,
            has_touch=True,
            is_mobile=True,
            locale="zh-CN" if lang == "zh" else "en-US",
            color_scheme=scheme,
        )
        page = cm.__enter__()
        opened.append(cm)
        page.context.add_cookies([{"name": LANG_COOKIE, "value": lang, "url": app.url}])
        log_in(page.context, app.url, a11y_token)
        return page

    yield open_page
    for cm in opened:
        cm.__exit__(None, None, None)


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("state", list(PHONE_STATES))
def test_no_serious_axe_violations_on_a_phone(
    state,
    lang,
    scheme,
    phone_page,
    app,
    conversation_url,  # noqa: F811 (a fixture)
):
    page = phone_page(lang, scheme)
    PHONE_STATES[state](page, app.url, conversation_url)
    violations = axe_violations(page)
    shot(page, f"a11y-phone-{state}-{lang}-{scheme}")
    assert not violations, f"axe on the phone's {state} ({lang}, {scheme}):\n{describe(violations)}"
