"""Re-importing our own role export skips the identical roles and counts them (issue 21 item 9)."""

from __future__ import annotations

import json
from dataclasses import replace

from sqlmodel import select

from chatapp.models import Role
from chatapp.roles import store


def test_identical_roles_are_skipped_and_counted_changed_ones_kept(session, users, mine):
    alice, _ = users
    store.create_role(session, user_id=alice, data=mine)
    store.create_role(session, user_id=alice, data=replace(mine, name="second"))
    exported = store.export_roles(session, user_id=alice)
    doc = json.loads(exported)
    doc["roles"].append({**doc["roles"][0], "name": "a changed copy"})
    created, skipped = store.import_roles_counted(session, user_id=alice, text=json.dumps(doc))
    assert [r.name for r in created] == ["a changed copy"]
    assert skipped == 2
    names = sorted(r.name for r in session.exec(select(Role).where(Role.user_id == alice)).all())
    assert names == sorted([mine.name, "second", "a changed copy"])
