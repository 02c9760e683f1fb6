"""`in_session`: a handler's database work runs in a worker thread, in a session that commits on
return and rolls back on error; the roles and settings states reach the database only through it."""

from __future__ import annotations

import ast
import threading
from pathlib import Path

import pytest
from sqlmodel import Session, select

from chatapp.models import User
from chatapp.state.worker import in_session

STATE = Path(__file__).resolve().parents[2] / "chatapp" / "state"


def _add_user(session: Session, *, openid: str, fail: bool = False) -> int:
    user = User(openid=openid)
    session.add(user)
    session.flush()
    if fail:
        raise RuntimeError("after the insert")
    return threading.get_ident()


def _openids(engine) -> set[str]:
    with Session(engine) as session:
        return set(session.exec(select(User.openid)).all())


async def test_work_runs_off_the_event_loop_and_commits(engine):
    thread = await in_session(_add_user, openid="o_worker")
    assert thread != threading.get_ident()
    assert "o_worker" in _openids(engine)


async def test_a_failure_rolls_back_and_reaches_the_handler(engine):
    with pytest.raises(RuntimeError):
        await in_session(_add_user, openid="o_rolled_back", fail=True)
    assert "o_rolled_back" not in _openids(engine)


@pytest.mark.parametrize("name", ["roles.py", "chat_role.py", "settings.py"])
def test_these_states_open_no_session_themselves(name: str):
    tree = ast.parse((STATE / name).read_text(encoding="utf-8"))
    used = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    used |= {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    assert not used & {"session_scope", "Session", "to_thread"}, name
