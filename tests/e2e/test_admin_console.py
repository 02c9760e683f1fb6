"""The operator console in Chromium against the real app: an admin creates a plan, puts a user on
it, freezes them, adds balance, saves 敏感词, makes redeem codes (CSV downloaded), the user redeems
one in Settings, and the audit log shows all of it; field errors are named and keep what was
typed. A non-admin opening /admin sees the refusal and its socket receives no dashboard data.
axe finds nothing critical or serious on any tab; screenshots in both languages and themes, on a
desktop and a phone, are kept in test-artifacts/."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from testkit.browser import shot
from testkit.fakes.reflex_socket import ReflexSocket, capture_protocol, run_async
from testkit.fakes.wechat import dev_login
from testkit.paths import ARTIFACTS
from tests.e2e.admin_helpers import (
    PHONE,
    db,
    grant_admin,
    page_as,
    seed_usage,
    set_nickname,
    user_id,
)
from tests.e2e.test_accessibility import axe_violations, describe

ADMIN = "o_console_admin"
TABS = ("dashboard", "users", "plans", "words", "codes", "audit")
# A nickname that only the dashboard's top-users chart would carry to a browser.
SEEDED_NAME = "用量大户Zed"


@pytest.fixture(scope="module")
def people(app) -> dict[str, str]:
    """The admin (granted by the CLI), a user with a fortnight of usage, and a plain user."""
    tokens = {"admin": dev_login(app.url, ADMIN), "heavy": dev_login(app.url, "o_console_heavy")}
    tokens["plain"] = dev_login(app.url, "o_console_plain")
    grant_admin(app, ADMIN)
    set_nickname(app, "o_console_heavy", SEEDED_NAME)
    seed_usage(app, "o_console_heavy")
    return tokens


def _tab(page: Page, name: str) -> None:
    page.locator(f"#admin-tab-{name}").click()
    expect(page.locator(f"#admin-tab-{name}")).to_have_attribute("data-state", "active")


def _confirm(page: Page, trigger: str, confirm: str) -> None:
    page.locator(trigger).click()
    page.locator(confirm).click()


def test_an_admin_runs_the_console_end_to_end(browser, app, people):
    plan_name = f"Pro {uuid.uuid4().hex[:4]}"
    with page_as(browser, app, people["admin"], "admin-flow") as page:
        page.goto(app.url + "/admin")
        expect(page.locator("#stat-active-7d")).not_to_have_text("0")
        expect(page.locator("#chart-tokens-by-day .recharts-bar-rectangle").first).to_be_visible()
        expect(page.locator("#chart-top-users")).to_contain_text(SEEDED_NAME)
        expect(page.locator("#chart-refusals")).to_contain_text("还没有用量")
        # The toolbar links to the console for an admin.
        expect(page.locator('nav.toolbar a[href="/admin"]')).to_be_visible()

        # 套餐: a bad number is named beside its field, and what was typed stays.
        _tab(page, "plans")
        page.locator("#plan-new").click()
        page.locator("#plan-name").fill(plan_name)
        page.locator("#plan-daily_free").fill("lots")
        page.locator("#plan-models").fill("fake-gpt, fake-gpt-mini")
        page.locator("#plan-multipliers").fill("fake-gpt=2")
        page.locator("#plan-save").click()
        expect(page.locator("#plan-daily_free-error")).to_contain_text("每日免费额度")
        expect(page.locator("#plan-name")).to_have_value(plan_name)
        page.locator("#plan-daily_free").fill("5000")
        page.locator("#plan-save").click()
        expect(page.locator("#plans-result")).to_contain_text(plan_name)
        expect(page.locator(".plan-card", has_text=plan_name)).to_contain_text("fake-gpt=2")

        # 用户: open the heavy user, change plan, freeze, add balance (a reason is required).
        _tab(page, "users")
        page.locator("#admin-user-search").fill("o_console_heavy")
        page.locator("#admin-user-go").click()
        heavy = user_id(app, "o_console_heavy")
        page.locator(f"#admin-user-open-{heavy}").click()
        expect(page.locator("#admin-user-name")).to_have_text(SEEDED_NAME)
        expect(page.locator("#admin-user-figures")).to_contain_text("对话数")
        page.locator("#admin-user-plan").click()
        page.get_by_role("option", name=plan_name).click()
        _confirm(page, "#admin-user-plan-apply", "#admin-user-plan-confirm")
        expect(page.locator("#admin-user-result")).to_have_text("已更换套餐")
        expect(page.locator("#admin-user-figures")).to_contain_text(plan_name)
        _confirm(page, "#admin-user-freeze", "#admin-user-freeze-confirm")
        expect(page.locator("#admin-user-result")).to_have_text("已冻结")
        expect(page.locator("#admin-user-freeze")).to_have_text("解冻")
        page.locator("#admin-user-amount").fill("500")
        page.locator("#admin-user-balance").click()
        expect(page.locator("#admin-user-error")).to_contain_text("原因")
        expect(page.locator("#admin-user-amount")).to_have_value("500")
        page.locator("#admin-user-reason").fill("补偿 outage")
        page.locator("#admin-user-balance").click()
        expect(page.locator("#admin-user-result")).to_contain_text("500")
        _confirm(page, "#admin-user-revoke", "#admin-user-revoke-confirm")
        expect(page.locator("#admin-user-result")).to_contain_text("会话")

        # 敏感词: a too-long word names its line; a good list saves as a new version.
        _tab(page, "words")
        page.locator("#words-text").fill("违禁词\n" + "长" * 70)
        page.locator("#words-save").click()
        expect(page.locator("#words-error")).to_contain_text("第 2 行")
        expect(page.locator("#words-text")).to_have_value("违禁词\n" + "长" * 70)
        page.locator("#words-text").fill("违禁词\nBadWord\n违禁词")
        page.locator("#words-save").click()
        expect(page.locator("#words-result")).to_contain_text("共 2 个词")
        expect(page.locator("#words-version")).to_contain_text(re.compile(r"版本 \d+ · 2"))

        # 兑换码: a bad count is named; a good batch shows its codes once, with the CSV.
        _tab(page, "codes")
        page.locator("#codes-count").fill("0")
        page.locator("#codes-amount").fill("300")
        page.locator("#codes-create").click()
        expect(page.locator("#codes-error")).to_contain_text("数量")
        page.locator("#codes-name").fill("双十二")
        page.locator("#codes-count").fill("3")
        page.locator("#codes-amount").fill("300")
        page.locator("#codes-create").click()
        expect(page.locator("#codes-new li")).to_have_count(3)
        codes = page.locator("#codes-new li").all_inner_texts()
        with page.expect_download() as download:
            page.locator("#codes-download").click()
        csv_text = Path(download.value.path()).read_text(encoding="utf-8")
        assert all(code in csv_text for code in codes)

    # 退出所有设备 ended the user's session: they log in again, and redeem one code in Settings
    # (a wrong code is named and stays typed; the right one credits).
    verify = app.url + "/api/v1/auth/verify"
    assert (
        httpx.get(verify, headers={"Authorization": f"Bearer {people['heavy']}"}).status_code == 401
    )
    people["heavy"] = dev_login(app.url, "o_console_heavy")
    with page_as(browser, app, people["heavy"], "admin-flow-redeem") as page:
        page.goto(app.url + "/settings")
        expect(page.locator("#usage-card")).to_be_visible()
        expect(page.locator("#usage-plan")).to_have_text(plan_name)
        page.locator("#redeem-code").fill("AAAA-BBBB-CCCC-DDDD")
        page.locator("#redeem-submit").click()
        expect(page.locator("#redeem-error")).to_contain_text("无效或已被使用")
        expect(page.locator("#redeem-code")).to_have_value("AAAA-BBBB-CCCC-DDDD")
        page.locator("#redeem-code").fill(codes[0].lower())
        page.locator("#redeem-submit").click()
        expect(page.locator("#redeem-result")).to_contain_text("余额增加 300")
        expect(page.locator("#usage-balance")).to_have_text("800")
        expect(page.locator("#redeem-code")).to_have_value("")

    with page_as(browser, app, people["admin"], "admin-flow-audit") as page:
        page.goto(app.url + "/admin")
        _tab(page, "codes")
        expect(page.locator("#codes-batches")).to_contain_text("1 / 3")
        _tab(page, "audit")
        log = page.locator("#audit-table")
        for action in (
            "plan.create",
            "user.plan",
            "user.freeze",
            "user.balance",
            "user.logout_all",
            "words.save",
            "redeem.batch",
            "redeem",
        ):
            expect(log).to_contain_text(action)
        # Newest first: the redeem happened last.
        expect(log.locator("tbody tr").first).to_contain_text("redeem")
        page.locator("#audit-filter").click()
        page.get_by_role("option", name="user.balance").click()
        expect(log.locator("tbody tr")).to_have_count(1)
        expect(log).to_contain_text("补偿 outage")
        with page.expect_download() as download:
            page.locator("#audit-export").click()
        exported = Path(download.value.path()).read_text(encoding="utf-8")
        assert "user.balance" in exported and "plan.create" not in exported


def test_a_non_admin_sees_the_refusal_and_no_link(browser, app, people):
    with page_as(browser, app, people["plain"], "admin-denied") as page:
        page.goto(app.url + "/admin")
        expect(page.locator("#admin-denied")).to_have_text("没有权限")
        expect(page.locator("#admin-tab-dashboard")).to_have_count(0)
        expect(page.locator('a[href="/admin"]')).to_have_count(0)
        assert SEEDED_NAME not in page.content()
        shot(page, "admin-denied-zh-light")


def test_a_non_admin_socket_receives_no_admin_data(browser, app, people):
    """Hand-made events of every admin tab, from a non-admin's socket and a socket with no
    session: none of the frames carries the seeded user's name, a code, or the word list."""
    protocol = capture_protocol(browser, app.url, people["plain"])

    def st(module: str, cls: str) -> str:
        return protocol.state(module, cls)

    heavy = user_id(app, "o_console_heavy")
    events = [
        ("refresh", st("admin", "admin_state"), {}),
        ("select_tab", st("admin", "admin_state"), {"tab": "users"}),
        ("load", st("admin_users", "admin_users_state"), {}),
        ("open_user", st("admin_users", "admin_users_state"), {"user_id": heavy}),
        ("toggle_frozen", st("admin_users", "admin_users_state"), {}),
        ("load", st("admin_plans", "admin_plans_state"), {}),
        ("load", st("admin_words", "admin_words_state"), {}),
        ("save", st("admin_words", "admin_words_state"), {"form": {"words": "pwned"}}),
        ("load", st("admin_codes", "admin_codes_state"), {}),
        ("create", st("admin_codes", "admin_codes_state"), {"form": {"count": "5", "amount": "9"}}),
        ("load", st("admin_audit", "admin_audit_state"), {}),
        ("export", st("admin_audit", "admin_audit_state"), {}),
    ]

    async def scenario(token: str | None) -> str:
        async with ReflexSocket(app.url, protocol, token) as tab:
            await tab.close()
        tab = ReflexSocket(app.url, protocol, token)
        await tab.connect("/admin")
        for handler, state, payload in events:
            await tab.emit(handler, payload, state=state, path="/admin")
        await tab.barrier()
        await tab.close()
        return tab.received()

    for who, token in {"plain user": people["plain"], "no session": None}.items():
        received = run_async(scenario(token))
        assert SEEDED_NAME not in received, who  # the top-users chart, the user list
        assert "违禁词" not in received and "BadWord" not in received, who  # the word list
        assert "双十二" not in received, who  # a batch of codes
        assert "user.freeze" not in received and "_download" not in received, who  # the log
        assert '"allowed_rx_state_": true' not in received, who
    plain = user_id(app, "o_console_plain")
    with db(app) as conn:
        made = conn.execute("SELECT count(*) FROM redeembatch WHERE amount=9").fetchone()[0]
        words = conn.execute("SELECT words FROM sensitivewords").fetchone()
        acted = conn.execute(
            "SELECT count(*) FROM auditevent WHERE actor_id=?", (plain,)
        ).fetchone()
    assert made == 0 and words != ("pwned",) and acted == (0,)


@pytest.mark.parametrize("tab", TABS)
def test_each_tab_has_no_serious_axe_violations(browser, app, people, tab):
    for lang, scheme in (("zh", "light"), ("en", "dark")):
        with page_as(
            browser, app, people["admin"], f"admin-axe-{tab}", lang=lang, scheme=scheme
        ) as page:
            page.goto(app.url + "/admin")
            expect(page.locator("#admin-tab-dashboard")).to_be_visible()
            _tab(page, tab)
            page.wait_for_timeout(600)  # charts animate in
            violations = axe_violations(page)
            assert not violations, f"axe on {tab} ({lang}, {scheme}):\n{describe(violations)}"


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_screenshots(browser, app, people, lang, scheme):
    """The dashboard and the users tab on a desktop and a phone (looked at by a person)."""
    for size, viewport in (("desktop", None), ("phone", PHONE)):
        extra = {"viewport": viewport} if viewport else {}
        with page_as(
            browser, app, people["admin"], "admin-shot", lang=lang, scheme=scheme, **extra
        ) as page:
            page.goto(app.url + "/admin")
            expect(
                page.locator("#chart-tokens-by-day .recharts-bar-rectangle").first
            ).to_be_visible()
            page.wait_for_timeout(1200)  # the bars' animation ends
            shot(page, f"admin-dashboard-{lang}-{scheme}-{size}")
            page.screenshot(
                path=str(ARTIFACTS / f"admin-dashboard-{lang}-{scheme}-{size}-full.png"),
                full_page=True,
            )
            _tab(page, "plans")
            shot(page, f"admin-plans-{lang}-{scheme}-{size}")
            _tab(page, "users")
            heavy = user_id(app, "o_console_heavy")
            page.locator(f"#admin-user-open-{heavy}").click()
            expect(page.locator("#admin-user-detail")).to_be_visible()
            shot(page, f"admin-user-{lang}-{scheme}-{size}")
            _tab(page, "audit")
            shot(page, f"admin-audit-{lang}-{scheme}-{size}")
