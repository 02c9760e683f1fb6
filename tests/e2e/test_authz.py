"""Authorization through the real websocket protocol.

Bob uses the app normally, but every event his browser sends is rewritten on the wire so that his
conversation and message ids become Alice's. Whatever handler receives them must read and change
nothing of hers.
"""

from __future__ import annotations

import json
import re
import sqlite3
from typing import Any

from playwright.sync_api import Page, WebSocketRoute, expect

from testkit.browser import log_in
from testkit.fakes.wechat import dev_login


def _db(app) -> sqlite3.Connection:
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


def _swap(value: Any, table: dict[Any, Any]) -> Any:
    if isinstance(value, dict):
        return {k: _swap(v, table) for k, v in value.items()}
    if isinstance(value, list):
        return [_swap(v, table) for v in value]
    if isinstance(value, (str, int)) and not isinstance(value, bool) and value in table:
        return table[value]
    if isinstance(value, str) and value.isdigit() and int(value) in table:
        return str(table[int(value)])
    return value


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

    def route(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()

        def to_server(message: str | bytes) -> None:
            if isinstance(message, str) and message.startswith("42/_event,"):
                prefix, body = message.split(",", 1)
                data = json.loads(body)
                names = json.dumps(data)
                # Opening the rename box or the editor only touches Bob's screen; keep those intact
                # so the data-changing events that follow can be sent (and rewritten).
                ui_only = "start_rename" in names or "start_edit" in names
                swapped = data if ui_only else _swap(data, table)
                if swapped != data:
                    rewritten.append(json.dumps(swapped)[:200])
                message = prefix + "," + json.dumps(swapped)
            server.send(message)

        ws.on_message(to_server)

    page.route_web_socket(re.compile(r".*/_event.*"), route)
    page.goto(app.url + f"/chat/{bob_cid}")
    expect(page.locator('[data-testid="user-bubble"]').last).to_have_text("bob question")

    item = page.locator('[data-testid="conv-item"]', has_text="bob question").first
    # Pin, rename, regenerate, edit and resend, delete a message, delete the conversation.
    item.hover()
    item.locator(".menu").click()
    page.get_by_role("menuitem", name="置顶").click()
    page.wait_for_timeout(300)
    item.hover()
    item.locator(".menu").click()
    page.get_by_role("menuitem", name="重命名").click()
    page.locator("#rename-input").fill("pwned")
    page.locator("#rename-input").press("Enter")
    page.wait_for_timeout(300)
    page.locator('[data-testid="msg-assistant"]').last.hover()
    page.locator('[data-testid="regenerate"]').last.click()
    page.wait_for_timeout(500)
    page.locator('[data-testid="msg-user"]').last.hover()
    page.locator('[data-testid="edit"]').last.click()
    page.locator("#edit-input").fill("pwned edit")
    page.locator("#edit-save").click()
    page.wait_for_timeout(500)
    page.locator('[data-testid="msg-user"]').last.hover()
    page.locator('[data-testid="delete-msg"]').first.click()
    page.wait_for_timeout(300)
    page.locator("#composer-input").fill("pwned send")
    page.locator("#composer-input").press("Enter")
    page.wait_for_timeout(500)
    item = page.locator('[data-testid="conv-item"]').first
    item.hover()
    item.locator(".menu").click()
    page.get_by_role("menuitem", name="删除对话").click()
    page.locator("#delete-confirm").click()
    page.wait_for_timeout(800)

    assert len(rewritten) >= 6, f"the ids were not rewritten on the wire: {rewritten}"
    assert _snapshot(app, alice_cid) == before, "Alice's conversation was changed"
    assert "alice secret" not in page.content()
    # Opening Alice's conversation by URL shows "not found", not her messages.
    page.unroute_web_socket(re.compile(r".*/_event.*")) if hasattr(
        page, "unroute_web_socket"
    ) else None
    page.goto(app.url + f"/chat/{alice_cid}")
    expect(page.locator("#not-found")).to_be_visible()
    assert "alice secret" not in page.content()
    bob.close()
