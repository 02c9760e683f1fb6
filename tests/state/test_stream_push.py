"""Follower grants: what lets a tab's own follower skip the state lock, and nothing else."""

from __future__ import annotations

import pytest

from chatapp.state import stream_push


@pytest.fixture(autouse=True)
def _no_grants():
    stream_push._grants.clear()
    yield
    stream_push._grants.clear()


def test_a_grant_is_for_its_tab_and_message_and_is_used_up():
    stream_push.grant("tab-a", message_id=7, user_id=1, lang="en")
    assert stream_push.take_grant("tab-b", 7) is None  # another tab
    assert stream_push.take_grant("tab-a", 8) is None  # another message
    taken = stream_push.take_grant("tab-a", 7)
    assert taken is not None and (taken.user_id, taken.lang) == (1, "en")
    assert stream_push.take_grant("tab-a", 7) is None  # once only


def test_a_newer_send_of_the_tab_replaces_its_grant():
    stream_push.grant("tab-a", message_id=7, user_id=1, lang="zh")
    stream_push.grant("tab-a", message_id=9, user_id=1, lang="zh")
    assert stream_push.take_grant("tab-a", 7) is None
    assert stream_push.take_grant("tab-a", 9) is not None


def test_a_grant_not_taken_in_time_is_void_and_swept():
    ttl = stream_push.GRANT_TTL_S
    stream_push.grant("tab-a", message_id=7, user_id=1, lang="zh", now=1000.0)
    assert stream_push.take_grant("tab-a", 7, now=1000.0 + ttl + 1) is None
    for i in range(stream_push._GRANT_SWEEP_AT):
        stream_push.grant(f"old-{i}", message_id=i, user_id=1, lang="zh", now=2000.0)
    stream_push.grant("tab-new", message_id=1, user_id=2, lang="zh", now=2000.0 + ttl + 1)
    assert list(stream_push._grants) == ["tab-new"]
