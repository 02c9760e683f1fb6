"""Authorization of the role handlers through the real websocket: Bob's role ids are rewritten on
the wire into Alice's private role; nothing of hers is shown, copied, used or changed. Each refusal
is waited for where it shows (Bob's page, the app's warning, a later event's answer) before her
rows are read back."""

from __future__ import annotations

import sqlite3

from playwright.sync_api import expect

from testkit.browser import log_in
from testkit.fakes.wechat import dev_login
from tests.e2e.wire import rewrite_events

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


def test_other_users_role_ids_over_the_websocket_reveal_and_change_nothing(browser, app):
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
    rewrite_events(page, {bob_role: alice_role}, log=rewritten)
    page.goto(app.url + "/roles")
    roles = page.locator('[data-testid="role-item"]')
    roles.filter(has_text="Bob 的角色").first.click()
    # A search sent after the click is answered after it (a tab's events are handled in order):
    # once the list is filtered, the select has been handled, and it opened nothing.
    page.locator("#role-search").fill("Bob 的角色")
    expect(roles).to_have_count(1)
    expect(page.locator("#role-name")).to_have_count(0)
    assert SECRET not in page.content()
    bob.close()

    # Phase 2: Bob opens his own role; starting a chat and duplicating are rewritten.
    bob = browser.new_context()
    log_in(bob, app.url, bob_token)
    page = bob.new_page()
    table = {bob_role: alice_role, str(bob_role): str(alice_role)}
    rewrite_events(page, table, keep=(".select",), log=rewritten)
    page.goto(app.url + "/roles")
    page.locator('[data-testid="role-item"]', has_text="Bob 的角色").first.click()
    expect(page.locator("#role-name")).to_have_text("Bob 的角色")
    page.locator("#role-duplicate").click()
    # The handler has answered once the page shows its notice; a copy would now be selected.
    expect(page.locator("#roles-notice")).to_be_visible()
    expect(page.locator("#role-name")).to_have_text("Bob 的角色")
    mark = app.log_offset()
    page.locator("#role-start").click()
    app.wait_for_log(f"tried to start a chat with role {alice_role}: not theirs", since=mark)
    assert "/chat/" not in page.url
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
