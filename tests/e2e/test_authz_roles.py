"""Authorization of the role handlers through the real websocket: Bob's role ids are rewritten on
the wire into Alice's private role; nothing of hers is shown, copied, used or changed."""

from __future__ import annotations

import json
import re
import sqlite3
from typing import Any

from playwright.sync_api import WebSocketRoute, expect

from testkit.browser import log_in
from testkit.fakes.wechat import dev_login
from tests.e2e.test_authz import _swap

SECRET = "ALICE-PRIVATE-PROMPT-7731"


def _db(app) -> sqlite3.Connection:
    return sqlite3.connect(app.env["DATABASE_URL"].removeprefix("sqlite:///"))


def _add_role(app, openid: str, name: str, prompt: str) -> int:
    with _db(app) as db:
        (user_id,) = db.execute("SELECT id FROM user WHERE openid=?", (openid,)).fetchone()
        cur = db.execute(
            "INSERT INTO role (user_id, builtin_version, name, avatar, description, system_prompt, opening_json, tags, language, created_at, updated_at) "
            "VALUES (?, 0, ?, '🔒', 'private', ?, '[]', '', 'zh', datetime('now'), datetime('now'))",
            (user_id, name, prompt),
        )
        return int(cur.lastrowid or 0)


def _router(page, table: dict[Any, Any], keep: tuple[str, ...], log: list[str]) -> None:
    def route(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()

        def to_server(message: str | bytes) -> None:
            if isinstance(message, str) and message.startswith("42/_event,"):
                prefix, body = message.split(",", 1)
                data = json.loads(body)
                text = json.dumps(data)
                if not any(name in text for name in keep):
                    swapped = _swap(data, table)
                    if swapped != data:
                        log.append(text[:160])
                    message = prefix + "," + json.dumps(swapped)
            server.send(message)

        ws.on_message(to_server)

    page.route_web_socket(re.compile(r".*/_event.*"), route)


def test_other_users_role_ids_over_the_websocket_reveal_and_change_nothing(browser, app, fake_llm):
    alice_token = dev_login(app.url, "o_roles_alice")
    bob_token = dev_login(app.url, "o_roles_bob")
    alice_role = _add_role(app, "o_roles_alice", "Alice 私有角色", SECRET)
    bob_role = _add_role(app, "o_roles_bob", "Bob 的角色", "bob prompt")
    with _db(app) as db:
        before = db.execute("SELECT * FROM role WHERE id=?", (alice_role,)).fetchone()
        roles_before = db.execute("SELECT count(*) FROM role").fetchone()[0]
    assert alice_token

    bob = browser.new_context()
    log_in(bob, app.url, bob_token)
    page = bob.new_page()
    rewritten: list[str] = []
    # Phase 1: even selecting is rewritten: Alice's role must not open.
    _router(page, {bob_role: alice_role}, (), rewritten)
    page.goto(app.url + "/roles")
    page.locator('[data-testid="role-item"]', has_text="Bob 的角色").first.click()
    page.wait_for_timeout(800)
    assert SECRET not in page.content()
    bob.close()

    # Phase 2: Bob opens his own role; starting a chat and duplicating are rewritten.
    bob = browser.new_context()
    log_in(bob, app.url, bob_token)
    page = bob.new_page()
    _router(page, {bob_role: alice_role, str(bob_role): str(alice_role)}, (".select",), rewritten)
    page.goto(app.url + "/roles")
    page.locator('[data-testid="role-item"]', has_text="Bob 的角色").first.click()
    expect(page.locator("#role-name")).to_have_text("Bob 的角色")
    page.locator("#role-duplicate").click()
    page.wait_for_timeout(800)
    page.locator("#role-start").click()
    page.wait_for_timeout(1500)
    if "/chat/" in page.url:
        fake_llm.reset()
        page.locator("#composer-input").fill("who am i talking to")
        page.locator("#composer-input").press("Enter")
        page.wait_for_timeout(1500)
        for request in fake_llm.requests:
            assert SECRET not in json.dumps(request.json, ensure_ascii=False)
    assert SECRET not in page.content()
    assert len(rewritten) >= 3, rewritten

    with _db(app) as db:
        assert db.execute("SELECT * FROM role WHERE id=?", (alice_role,)).fetchone() == before
        copies = db.execute(
            "SELECT count(*) FROM role WHERE system_prompt=?", (SECRET,)
        ).fetchone()[0]
        assert copies == 1, "Alice's role was duplicated"
        bound = db.execute(
            "SELECT count(*) FROM conversation WHERE role_id=?", (alice_role,)
        ).fetchone()[0]
        assert bound == 0, "a conversation was bound to Alice's role"
        assert db.execute("SELECT count(*) FROM role").fetchone()[0] == roles_before
    bob.close()
