"""What the console's browser tests share: making a user an admin with the real CLI, seeding the
usage ledger of the suite's SQLite database, and opening a page as someone in a language, a colour
scheme and a screen size."""

from __future__ import annotations

import contextlib
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from playwright.sync_api import Browser, Page

from testkit.app import AppServer
from testkit.browser import log_in, watched_page
from testkit.paths import ROOT

LANG_COOKIE = "chatapp_lang"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 860}


def grant_admin(app: AppServer, openid: str) -> None:
    """`python -m chatapp.admin grant OPENID` on the suite's database (the user logged in once)."""
    done = subprocess.run(
        [sys.executable, "-m", "chatapp.admin", "grant", openid],
        cwd=ROOT,
        env=app.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def db(app: AppServer) -> sqlite3.Connection:
    return sqlite3.connect(app.env["DATABASE_URL"].removeprefix("sqlite:///"))


def user_id(app: AppServer, openid: str) -> int:
    with db(app) as conn:
        return conn.execute("SELECT id FROM user WHERE openid=?", (openid,)).fetchone()[0]


def set_nickname(app: AppServer, openid: str, nickname: str) -> None:
    with db(app) as conn:
        conn.execute("UPDATE user SET nickname=? WHERE openid=?", (nickname, openid))


def seed_usage(app: AppServer, openid: str, *, days: int = 12, estimated: bool = False) -> None:
    """A fortnight of answers of two models (and one failed call) for the user with `openid`."""
    uid = user_id(app, openid)
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    rows = []
    for d in range(days):
        for h, (model, tokens) in enumerate([("fake-gpt", 900 + 70 * d), ("fake-gpt-mini", 400)]):
            at = now - timedelta(days=d, hours=h * 3)
            rows.append((uid, at.strftime("%Y-%m-%d %H:%M:%S"), model, tokens // 3, tokens, None))
    rows.append((uid, now.strftime("%Y-%m-%d %H:%M:%S"), "fake-gpt", 0, 0, "timeout"))
    with db(app) as conn:
        conn.executemany(
            "INSERT INTO usageentry (user_id, created_at, source, provider, model, prompt_tokens,"
            " completion_tokens, reasoning_tokens, images, estimated, status, multiplier,"
            " reserved, charge, first_token_ms, error_code) VALUES"
            " (?, ?, 'chat', 'main', ?, ?, ?, 0, 0, ?, 'settled', 1, 0, 0, 420, ?)",
            [(u, at, m, p, c, int(estimated), e) for u, at, m, p, c, e in rows],
        )


@contextlib.contextmanager
def page_as(
    browser: Browser,
    app: AppServer,
    token: str,
    name: str,
    *,
    lang: str = "zh",
    scheme: str = "light",
    viewport: dict[str, int] = DESKTOP,
) -> Iterator[Page]:
    """A logged-in page in a language, colour scheme and size."""
    with watched_page(
        browser,
        name,
        viewport=viewport,
        locale="zh-CN" if lang == "zh" else "en-US",
        color_scheme=scheme,  # type: ignore[arg-type]
        accept_downloads=True,
    ) as page:
        page.context.add_cookies([{"name": LANG_COOKIE, "value": lang, "url": app.url}])
        log_in(page.context, app.url, token)
        yield page


def axe_on(page: Page, selector: str) -> list[dict]:
    """axe-core's critical and serious violations inside `selector` (what this change draws)."""
    from tests.e2e.test_accessibility import AXE

    page.wait_for_timeout(400)
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "async (sel) => (await axe.run(sel, {resultTypes: ['violations']}))", selector
    )
    return [v for v in result["violations"] if v["impact"] in ("critical", "serious")]
