"""The SQLite file is locked by something else (a backup, a stuck process): sending fails with a
clear message, the typed text stays in the composer, and it works once the lock is gone."""

from __future__ import annotations

import sqlite3
import threading

from playwright.sync_api import expect

from testkit.fakes.openai_server import Reply


def test_locked_database_is_explained_and_recovers(page, app, fake_llm):
    page.goto(app.url + "/")
    expect(page.locator("#composer-input")).to_be_visible()
    # The timer thread ends the lock: the connection must allow use from another thread (without
    # this the rollback raised in the timer and the lock lasted until `close`).
    locker = sqlite3.connect(
        app.env["DATABASE_URL"].removeprefix("sqlite:///"),
        isolation_level=None,
        check_same_thread=False,
    )
    locker.execute("BEGIN EXCLUSIVE")
    release = threading.Timer(8.0, locker.rollback)
    release.start()
    try:
        page.locator("#composer-input").fill("while the file is locked")
        page.locator("#composer-input").press("Enter")
        expect(page.locator("#notice")).to_contain_text("数据库暂时不可用", timeout=20_000)
        expect(page.locator("#composer-input")).to_have_value("while the file is locked")
    finally:
        release.join()
        locker.close()
    fake_llm.queue(Reply(text="unlocked"))
    page.locator("#composer-send").click()
    expect(page.locator('[data-testid="assistant-bubble"]').last).to_have_text(
        "unlocked", timeout=20_000
    )
    expect(page.locator('[data-testid="user-bubble"]').last).to_have_text(
        "while the file is locked"
    )
