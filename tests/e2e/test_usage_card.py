"""Settings → 「用量 / Usage」 in Chromium against the real app: a user's own figures, by model and
as a 30-day chart, "部分数字为估算" when some were estimated, the empty state of a new user, and
the redeem box's named errors (a malformed code, then the lock after too many wrong codes).
Screenshots in both languages and themes, desktop and phone; axe on the card."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from testkit.browser import shot
from testkit.fakes.wechat import dev_login
from testkit.paths import ARTIFACTS
from tests.e2e.admin_helpers import PHONE, axe_on, page_as, seed_usage
from tests.e2e.test_accessibility import describe

USER = "o_usage_card"


@pytest.fixture(scope="module")
def token(app) -> str:
    value = dev_login(app.url, USER)
    seed_usage(app, USER, days=20, estimated=True)
    return value


def test_the_card_shows_my_usage(browser, app, token):
    with page_as(browser, app, token, "usage-card") as page:
        page.goto(app.url + "/settings")
        card = page.locator("#usage-card")
        expect(card).to_be_visible()
        expect(page.locator("#usage-plan")).to_have_text("默认")
        expect(page.locator("#usage-balance")).to_have_text("0")
        expect(page.locator("#usage-estimated")).to_contain_text("部分数字为估算")
        expect(page.locator("#usage-by-model")).to_contain_text("fake-gpt-mini")
        expect(page.locator("#usage-chart .recharts-bar-rectangle").first).to_be_visible()
        assert int(page.locator("#usage-month").inner_text()) > 0


def test_a_new_user_sees_that_there_is_no_usage_yet(browser, app):
    fresh = dev_login(app.url, "o_usage_fresh")
    with page_as(browser, app, fresh, "usage-empty", lang="en") as page:
        page.goto(app.url + "/settings")
        expect(page.locator("#usage-empty")).to_have_text("No usage yet")
        expect(page.locator("#usage-estimated")).to_have_count(0)


def test_wrong_codes_are_named_then_locked(browser, app):
    guesser = dev_login(app.url, "o_usage_guesser")
    with page_as(browser, app, guesser, "usage-redeem-lock") as page:
        page.goto(app.url + "/settings")
        page.locator("#redeem-code").fill("12")
        page.locator("#redeem-submit").click()
        expect(page.locator("#redeem-error")).to_contain_text("格式不对")
        expect(page.locator("#redeem-code")).to_have_value("12")
        for i in range(10):
            page.locator("#redeem-code").fill(f"AAAA-BBBB-CCCC-{i:04d}".replace("0", "A"))
            page.locator("#redeem-submit").click()
            page.wait_for_timeout(150)
        expect(page.locator("#redeem-error")).to_contain_text("分钟后再试")


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_screenshots_and_axe(browser, app, token, lang, scheme):
    for size, extra in (("desktop", {}), ("phone", {"viewport": PHONE})):
        with page_as(browser, app, token, "usage-shot", lang=lang, scheme=scheme, **extra) as page:
            page.goto(app.url + "/settings")
            card = page.locator("#usage-card")
            expect(page.locator("#usage-chart .recharts-bar-rectangle").first).to_be_visible()
            card.scroll_into_view_if_needed()
            page.wait_for_timeout(1200)  # the bars' animation ends
            card.screenshot(path=str(ARTIFACTS / f"usage-card-{lang}-{scheme}-{size}.png"))
            if size == "desktop":
                violations = axe_on(page, "#usage-card")
                assert not violations, describe(violations)
            shot(page, f"usage-page-{lang}-{scheme}-{size}")
