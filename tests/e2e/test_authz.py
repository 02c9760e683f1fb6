"""Authorization through the real websocket protocol.

Bob uses the app normally, but every event his browser sends is rewritten on the wire so that his
conversation and message ids become Alice's. Each handler that receives them must refuse, and the
test waits for each refusal to show (the app's warning for that id, or the message Bob's page
shows) before the next step; once all have, Alice's rows are read back unchanged.
"""

from __future__ import annotations

import re
import sqlite3
from typing import Any

from playwright.sync_api import Page, expect

from chatapp.errors import user_message
from chatapp.i18n import LANGUAGES
from testkit.app import AppServer
from testkit.browser import log_in
from testkit.fakes.wechat import dev_login
from tests.e2e.wire import rewrite_events

# What Bob's page says when a handler found nothing of his under the id it got (any language).
NOT_FOUND = re.compile("|".join(re.escape(user_message("not_found", lang)) for lang in LANGUAGES))


def _db(app: AppServer) -> sqlite3.Connection:
    return sqlite3.connect(app.env["DATABASE_URL"].removeprefix("sqlite:///"))


def _chat(page: Page, app, text: str) -> str:
    page.goto(app.url + "/")
    page.locator("#composer-input").fill(text)
    page.locator("#composer-input").press("Enter")
    expect(page).to_have_url(re.compile(r"/chat/[\w-]+$"))
    expect(page.locator('[data-testid="assistant-bubble"]').last).to_have_attribute(
        "data-status", "done", timeout=20_000
    )
    return page.url.rsplit("/", 1)[-1]


def _snapshot(app, conversation_id: str) -> tuple[Any, list[Any]]:
    with _db(app) as db:
        conv = db.execute(
            "SELECT id, user_id, title, pinned, model, temperature FROM conversation WHERE id=?",
            (conversation_id,),
        ).fetchone()
        msgs = db.execute(
            "SELECT id, kind, content, status FROM message WHERE conversation_id=? ORDER BY id",
            (conversation_id,),
        ).fetchall()
    return conv, msgs


def _ids(app, conversation_id: str) -> tuple[int, int]:
    with _db(app) as db:
        rows = db.execute(
            "SELECT id, kind FROM message WHERE conversation_id=? ORDER BY id", (conversation_id,)
        ).fetchall()
    user = next(i for i, k in rows if k == "user")
    answer = next(i for i, k in rows if k == "assistant")
    return user, answer


def _open_menu(page: Page, title: str, entry: str) -> None:
    """Opens the row's ⋯ menu until `entry` shows: a click that lands while the previous menu
    is still animating closed (right after a refused pin re-rendered the list) opens nothing."""
    item = page.locator('[data-testid="conv-item"]', has_text=title).first
    for _ in range(3):
        item.hover()
        item.locator(".menu").click()
        try:
            expect(page.get_by_role("menuitem", name=entry)).to_be_visible(timeout=3_000)
            return
        except AssertionError:
            page.keyboard.press("Escape")
    expect(page.get_by_role("menuitem", name=entry)).to_be_visible()


def test_other_users_ids_sent_over_the_websocket_change_and_reveal_nothing(browser, app):
    alice = browser.new_context()
    log_in(alice, app.url, dev_login(app.url, "o_authz_alice"))
    alice_page = alice.new_page()
    alice_cid = _chat(alice_page, app, "alice secret question")
    alice_user, alice_answer = _ids(app, alice_cid)
    before = _snapshot(app, alice_cid)
    alice.close()

    bob = browser.new_context()
    log_in(bob, app.url, dev_login(app.url, "o_authz_bob"))
    page = bob.new_page()
    bob_cid = _chat(page, app, "bob question")
    bob_user, bob_answer = _ids(app, bob_cid)
    table: dict[Any, Any] = {bob_cid: alice_cid, bob_user: alice_user, bob_answer: alice_answer}
    rewritten: list[str] = []
    # Opening the rename box or the editor only touches Bob's screen; they pass intact so the
    # data-changing events that follow can be sent (and rewritten).
    rewrite_events(page, table, keep=("start_rename", "start_edit"), log=rewritten)
    page.goto(app.url + f"/chat/{bob_cid}")
    expect(page.locator('[data-testid="user-bubble"]').last).to_have_text("bob question")

    # Pin: refused.
    mark = app.log_offset()
    _open_menu(page, "bob question", "置顶")
    page.get_by_role("menuitem", name="置顶").click()
    app.wait_for_log(f"tried to pin {alice_cid}: not theirs", since=mark)

    # Rename: the box closes (the handler ran), nothing is renamed.
    mark = app.log_offset()
    _open_menu(page, "bob question", "重命名")
    page.get_by_role("menuitem", name="重命名").click()
    page.locator("#rename-input").fill("pwned")
    page.locator("#rename-input").press("Enter")
    app.wait_for_log(f"tried to rename {alice_cid}: not theirs", since=mark)
    expect(page.locator("#rename-input")).to_have_count(0)

    # Regenerate her answer, then edit and resend her question: "not found" on Bob's page. A
    # reload clears the message between the two, so each refusal shows on its own.
    page.locator('[data-testid="msg-assistant"]').last.hover()
    page.locator('[data-testid="regenerate"]').last.click()
    expect(page.locator("#notice")).to_have_text(NOT_FOUND)
    page.reload()
    expect(page.locator("#notice")).to_have_count(0)
    page.locator('[data-testid="msg-user"]').last.hover()
    page.locator('[data-testid="edit"]').last.click()
    page.locator("#edit-input").fill("pwned edit")
    page.locator("#edit-save").click()
    expect(page.locator("#notice")).to_have_text(NOT_FOUND)
    page.reload()

    # Delete one of her messages: refused.
    mark = app.log_offset()
    page.locator('[data-testid="msg-user"]').last.hover()
    page.locator('[data-testid="delete-msg"]').first.click()
    line = app.wait_for_log("tried to delete message", since=mark)
    assert any(f"message {i}: not theirs" in line for i in (alice_user, alice_answer)), line

    # Send into her conversation: Bob's page says it does not exist.
    mark = app.log_offset()
    page.locator("#composer-input").fill("pwned send")
    page.locator("#composer-input").press("Enter")
    app.wait_for_log(f"asked for conversation {alice_cid}: not theirs", since=mark)
    expect(page.locator("#not-found")).to_be_visible()

    # Delete her conversation: refused.
    mark = app.log_offset()
    _open_menu(page, "bob question", "删除对话")
    page.get_by_role("menuitem", name="删除对话").click()
    page.locator("#delete-confirm").click()
    app.wait_for_log(f"tried to delete {alice_cid}: not theirs", since=mark)

    assert len(rewritten) >= 6, f"the ids were not rewritten on the wire: {rewritten}"
    assert _snapshot(app, alice_cid) == before, "Alice's conversation was changed"
    assert "alice secret" not in page.content()
    # Opening Alice's conversation by URL (a page without the rewriting) shows "not found".
    direct = bob.new_page()
    direct.goto(app.url + f"/chat/{alice_cid}")
    expect(direct.locator("#not-found")).to_be_visible()
    assert "alice secret" not in direct.content()
    bob.close()
