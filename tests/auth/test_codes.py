"""Login codes and scan tickets at the use-case level, with an injected clock."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from chatapp.auth import accounts
from chatapp.core.db import session_scope
from chatapp.errors import AuthError, InvalidInput
from chatapp.models import LoginCode, User, utcnow
from tests.auth.conftest import make_settings


@pytest.fixture
def settings(tmp_path, db):
    return make_settings(tmp_path)


def issue(settings, openid: str, now=None) -> str:
    with session_scope() as session:
        return accounts.issue_login_code(session, settings=settings, openid=openid, now=now)


def login(settings, code: str, now=None):
    with session_scope() as session:
        user, token = accounts.login_with_code(session, settings=settings, code=code, now=now)
        return user.openid, user.is_admin, token


def test_code_shape_and_hashed_storage(settings):
    code = issue(settings, "o_a")
    assert len(code) == 8 and code.isdigit()
    with session_scope() as session:
        row = session.exec(select(LoginCode)).one()
    assert code not in row.code_hash and code not in row.code_enc
    assert row.expires_at - row.created_at == timedelta(minutes=5)


def test_code_is_one_time(settings):
    code = issue(settings, "o_a")
    assert login(settings, code)[0] == "o_a"
    with pytest.raises(InvalidInput):
        login(settings, code)


def test_code_expires_after_five_minutes(settings):
    t0 = utcnow()
    code = issue(settings, "o_a", now=t0)
    with pytest.raises(InvalidInput) as info:
        login(settings, code, now=t0 + timedelta(minutes=5, seconds=1))
    assert info.value.reason == "expired_code"
    code2 = issue(settings, "o_b", now=t0)
    assert login(settings, code2, now=t0 + timedelta(minutes=4, seconds=59))[0] == "o_b"


def test_one_live_code_per_openid(settings):
    t0 = utcnow()
    first = issue(settings, "o_a", now=t0)
    assert issue(settings, "o_a", now=t0 + timedelta(minutes=2)) == first
    # Nearly expired: a fresh code replaces it and the old one stops working.
    fresh = issue(settings, "o_a", now=t0 + timedelta(minutes=4, seconds=30))
    assert fresh != first
    with pytest.raises(InvalidInput):
        login(settings, first, now=t0 + timedelta(minutes=4, seconds=31))
    assert login(settings, fresh, now=t0 + timedelta(minutes=5))[0] == "o_a"
    assert issue(settings, "o_other", now=t0) != first


def test_unknown_and_malformed_codes(settings):
    live = issue(settings, "o_a")
    with pytest.raises(AuthError):
        login(settings, "00000000" if live != "00000000" else "11111111")
    for bad in ["", "1234567", "123456789", "abcdefgh", "1234 56x8", "١٢٣٤٥٦٧٨"]:
        with pytest.raises(InvalidInput):
            accounts.normalise_code(bad)
    assert accounts.normalise_code(" 1234 5678 ") == "12345678"
    assert accounts.normalise_code("１２３４５６７８") == "12345678"


def test_user_is_created_then_updated_and_admin_from_settings(settings):
    t0 = utcnow()
    _openid, is_admin, _ = login(settings, issue(settings, "o_admin", now=t0), now=t0)
    assert is_admin
    t1 = t0 + timedelta(hours=1)
    login(settings, issue(settings, "o_admin", now=t1), now=t1)
    with session_scope() as session:
        user = session.exec(select(User).where(User.openid == "o_admin")).one()
        assert user.created_at == t0 and user.last_login_at == t1
    assert not login(settings, issue(settings, "o_plain"))[1]


def test_ticket_confirmed_once_and_consumed_once(settings):
    t0 = utcnow()
    with session_scope() as session:
        ticket = accounts.create_login_ticket(session, now=t0)
    tid = ticket.id
    with session_scope() as session:
        assert accounts.consume_login_ticket(session, settings=settings, ticket_id=tid) is None
        assert accounts.confirm_login_ticket(session, ticket_id=tid, openid="o_s", now=t0)
        # The same person scanning again is fine; someone else is not.
        assert accounts.confirm_login_ticket(session, ticket_id=tid, openid="o_s", now=t0)
        assert not accounts.confirm_login_ticket(session, ticket_id=tid, openid="o_x", now=t0)
    with session_scope() as session:
        result = accounts.consume_login_ticket(session, settings=settings, ticket_id=tid)
        assert result is not None and result[0].openid == "o_s"
    with session_scope() as session:
        assert accounts.consume_login_ticket(session, settings=settings, ticket_id=tid) is None


def test_expired_ticket_cannot_be_confirmed(settings):
    t0 = utcnow()
    with session_scope() as session:
        tid = accounts.create_login_ticket(session, now=t0).id
    with session_scope() as session:
        late = t0 + timedelta(seconds=301)
        assert not accounts.confirm_login_ticket(session, ticket_id=tid, openid="o", now=late)
        assert accounts.ticket_expired(session, ticket_id=tid, now=late)
        assert not accounts.confirm_login_ticket(session, ticket_id="nope", openid="o")


def test_scene_parsing():
    assert accounts.ticket_id_from_scene("login:abc") == "abc"
    assert accounts.ticket_id_from_scene("qrscene_login:abc") == "abc"
    assert accounts.ticket_id_from_scene("login:") is None
    assert accounts.ticket_id_from_scene("other") is None
    assert accounts.ticket_id_from_scene("login:" + "x" * 65) is None
