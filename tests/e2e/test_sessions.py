"""退出所有设备: one click on the settings page logs the user out in every browser."""

from __future__ import annotations

import httpx

from testkit.browser import log_in
from testkit.fakes.wechat import dev_login


def test_logout_everywhere_revokes_every_session(browser, app):
    first, second = dev_login(app.url, "o_everywhere"), dev_login(app.url, "o_everywhere")
    for token in (first, second):
        assert (
            httpx.get(
                app.url + "/api/v1/auth/verify", headers={"Authorization": f"Bearer {token}"}
            ).status_code
            == 200
        )
    context = browser.new_context()
    log_in(context, app.url, first)
    page = context.new_page()
    page.goto(app.url + "/settings")
    page.locator("#logout-everywhere").click()
    page.locator("#logout-everywhere-confirm").click()
    page.wait_for_url("**/login**", timeout=15_000)
    # The cookie went through our route: cleared, not just ignored.
    assert "chatapp_session" not in {c.get("name") for c in context.cookies()}
    for token in (first, second):
        assert (
            httpx.get(
                app.url + "/api/v1/auth/verify", headers={"Authorization": f"Bearer {token}"}
            ).status_code
            == 401
        )
    other = browser.new_context()
    log_in(other, app.url, second)
    other_page = other.new_page()
    other_page.goto(app.url + "/")
    other_page.wait_for_url("**/login**", timeout=15_000)
    context.close()
    other.close()
