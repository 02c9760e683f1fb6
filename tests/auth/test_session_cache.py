"""The short memory of session checks (`chatapp.auth.session_cache`): what it remembers, for how long,
and when it forgets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chatapp.auth import session_cache
from chatapp.auth.sessions import Claims, SessionUser

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _who(user_id: int, *, expires_in: timedelta = timedelta(days=1)) -> SessionUser:
    claims = Claims(user_id=user_id, jti=f"j{user_id}", issued_at=NOW, expires_at=NOW + expires_in)
    return SessionUser(claims, nickname=f"u{user_id}", avatar="", is_admin=False)


@pytest.fixture(autouse=True)
def _empty_cache():
    session_cache._entries.clear()
    yield
    session_cache._entries.clear()


def test_a_check_is_remembered_for_ttl_seconds_and_then_asked_again():
    who = _who(1)
    session_cache.put("t1", who, now=100.0)
    assert session_cache.get("t1", now=100.0 + session_cache.TTL_S - 0.01, wall=NOW) is who
    assert session_cache.get("t1", now=100.0 + session_cache.TTL_S, wall=NOW) is None
    assert "t1" not in session_cache._entries  # dropped, not kept around
    assert session_cache.get("never-seen", now=100.0, wall=NOW) is None


def test_an_expired_jwt_is_not_served_from_memory():
    session_cache.put("t1", _who(1, expires_in=timedelta(seconds=1)), now=100.0)
    assert session_cache.get("t1", now=100.5, wall=NOW) is not None
    assert session_cache.get("t1", now=100.5, wall=NOW + timedelta(seconds=1)) is None


def test_logout_forgets_the_token_and_logout_everywhere_every_token_of_the_user():
    for token, user in (("a1", 1), ("a2", 1), ("b1", 2)):
        session_cache.put(token, _who(user), now=100.0)
    session_cache.forget(token="a1")
    assert session_cache.get("a1", now=100.0, wall=NOW) is None
    assert session_cache.get("a2", now=100.0, wall=NOW) is not None
    session_cache.forget(user_id=1)
    assert session_cache.get("a2", now=100.0, wall=NOW) is None
    assert session_cache.get("b1", now=100.0, wall=NOW) is not None  # another user: kept


def test_memory_stays_bounded(monkeypatch):
    monkeypatch.setattr(session_cache, "MAX_ENTRIES", 3)
    session_cache.put("old", _who(1), now=0.0)
    for i in range(3):
        session_cache.put(f"new{i}", _who(2), now=100.0)
    # The stale entry made room; the fresh ones are kept.
    assert "old" not in session_cache._entries
    assert len(session_cache._entries) == 3
    session_cache.put("flood", _who(3), now=100.0)  # all fresh and full: starts over
    assert list(session_cache._entries) == ["flood"]
