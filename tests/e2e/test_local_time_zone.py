"""Times show in the browser's own zone (issue 21 item 9: they were always UTC+8): the browser
tells its zone (assets/time_zone.js), the bubbles and the conversation list use it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from testkit.browser import log_in, shot
from testkit.fakes.wechat import dev_login

ANSWER = '[data-testid="assistant-bubble"]'
QUESTION = '[data-testid="user-bubble"]'


def _labels(zone: str) -> set[str]:
    """HH:MM now in `zone`, a minute either side (the send and the check may straddle one)."""
    now = datetime.now(UTC)
    return {
        (now + timedelta(minutes=d)).astimezone(ZoneInfo(zone)).strftime("%H:%M")
        for d in (-1, 0, 1)
    }


@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Tokyo"])
def test_times_show_in_the_browsers_zone(browser, app, fake_llm, zone):
    context = browser.new_context(
        locale="en-US", timezone_id=zone, viewport={"width": 1280, "height": 820}
    )
    log_in(context, app.url, dev_login(app.url, f"o_tz_{zone.split('/')[1].lower()}"))
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(app.url + "/")
    page.locator("#composer-input").fill(f"what time is it in {zone}")
    page.locator("#composer-input").press("Enter")
    expect(page.locator(ANSWER).last).not_to_have_attribute(
        "data-status", "streaming", timeout=20_000
    )
    expected = _labels(zone)
    china = _labels("Asia/Shanghai")
    assert not expected & china
    question_time = page.locator(f"{QUESTION} .msg-meta, .msg-meta").first.inner_text().split()[0]
    assert question_time in expected, (question_time, expected)
    page.reload()
    expect(page.locator(".msg-meta").first).to_be_visible()
    assert page.locator(".msg-meta").first.inner_text().split()[0] in expected
    row_time = page.locator(".conv-item .time, .time").first.inner_text()
    assert row_time in expected, (row_time, expected)
    shot(page, f"time-zone-{zone.replace('/', '-')}")
    context.close()
