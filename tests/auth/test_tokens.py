"""Session tokens: claims, tampering, expiry, alg none, issuer, revocation."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import jwt
import pytest

from chatapp.auth import sessions
from chatapp.core.db import session_scope
from chatapp.errors import AuthError
from chatapp.models import User, utcnow
from tests.auth.conftest import make_settings


@pytest.fixture
def settings(tmp_path, db):
    return make_settings(tmp_path)


def new_user(openid: str = "o_tok") -> int:
    with session_scope() as session:
        user = User(openid=openid)
        session.add(user)
        session.flush()
        assert user.id is not None
        return user.id


def issue(settings, user_id: int, **kw) -> str:
    with session_scope() as session:
        return sessions.issue_session(session, settings=settings, user_id=user_id, **kw)


def verify(settings, token: str, **kw) -> sessions.Claims:
    with session_scope() as session:
        return sessions.verify_session(session, settings=settings, token=token, **kw)


def test_issue_and_verify_round_trip(settings):
    uid = new_user()
    token = issue(settings, uid)
    payload = jwt.decode(token, settings.jwt_secret, algorithms=["HS256"], issuer="chatapp")
    assert payload["sub"] == str(uid)
    assert {"iat", "exp", "jti", "iss"} <= set(payload)
    assert payload["exp"] - payload["iat"] == settings.jwt_ttl_days * 86400
    assert verify(settings, token).user_id == uid


def _segments(token: str) -> list[str]:
    return token.split(".")


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_tampered_payload_and_signature_are_refused(settings):
    uid = new_user()
    other = new_user("o_other")
    token = issue(settings, uid)
    header, payload, sig = _segments(token)
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = str(other)
    with pytest.raises(AuthError):
        verify(settings, f"{header}.{_b64(claims)}.{sig}")
    with pytest.raises(AuthError):
        verify(settings, f"{header}.{payload}.{sig[:-2]}AA")
    for junk in ["", "abc", "a.b.c", "x" * 5000]:
        with pytest.raises(AuthError):
            verify(settings, junk)


def test_alg_none_and_other_algorithms_are_refused(settings):
    uid = new_user()
    token = issue(settings, uid)
    claims = jwt.decode(token, options={"verify_signature": False})
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    with pytest.raises(AuthError):
        verify(settings, unsigned)
    hs512 = jwt.encode(claims, settings.jwt_secret, algorithm="HS512")
    with pytest.raises(AuthError):
        verify(settings, hs512)


def test_wrong_issuer_wrong_secret_missing_claims(settings):
    uid = new_user()
    claims = jwt.decode(issue(settings, uid), options={"verify_signature": False})
    with pytest.raises(AuthError):
        verify(settings, jwt.encode({**claims, "iss": "evil"}, settings.jwt_secret))
    with pytest.raises(AuthError):
        verify(settings, jwt.encode(claims, "another-secret-that-is-long-enough-000"))
    for missing in ["jti", "exp", "sub", "iat", "iss"]:
        partial = {k: v for k, v in claims.items() if k != missing}
        with pytest.raises(AuthError):
            verify(settings, jwt.encode(partial, settings.jwt_secret))


def test_expiry_with_injected_clock_and_wall_clock(settings):
    uid = new_user()
    past = utcnow() - timedelta(days=settings.jwt_ttl_days + 1)
    token = issue(settings, uid, now=past)
    with pytest.raises(AuthError):
        verify(settings, token)  # wall clock: expired
    fresh = issue(settings, uid)
    later = utcnow() + timedelta(days=settings.jwt_ttl_days, seconds=1)
    with pytest.raises(AuthError):
        verify(settings, fresh, now=later)
    assert verify(settings, fresh, now=utcnow() + timedelta(days=1)).user_id == uid


def test_token_without_session_row_is_refused(settings):
    uid = new_user()
    claims = jwt.decode(issue(settings, uid), options={"verify_signature": False})
    forged = jwt.encode({**claims, "jti": "never-issued"}, settings.jwt_secret)
    with pytest.raises(AuthError):
        verify(settings, forged)


def test_logout_revokes_one_and_everywhere_revokes_all(settings):
    uid = new_user()
    other_uid = new_user("o_someone")
    a, b, c = issue(settings, uid), issue(settings, uid), issue(settings, uid)
    theirs = issue(settings, other_uid)
    with session_scope() as session:
        sessions.revoke_session(session, jti=sessions.decode_token(a, settings=settings).jti)
    with pytest.raises(AuthError):
        verify(settings, a)
    assert verify(settings, b).user_id == uid
    with session_scope() as session:
        assert sessions.revoke_all_sessions(session, user_id=uid) == 2
    for token in (b, c):
        with pytest.raises(AuthError):
            verify(settings, token)
    assert verify(settings, theirs).user_id == other_uid


def test_seal_and_keyed_hash(settings):
    sealed = sessions.seal(settings, "p", "secret text")
    assert "secret" not in sealed
    assert sessions.unseal(settings, "p", sealed) == "secret text"
    assert sessions.unseal(settings, "other-purpose", sealed) is None
    assert sessions.unseal(settings, "p", sealed[:-4] + "AAAA") is None
    assert sessions.keyed_hash(settings, "p", "1") != sessions.keyed_hash(settings, "q", "1")


def test_verify_session_user_reads_the_profile_in_the_same_check(settings):
    uid = new_user("o_profile")
    with session_scope() as session:
        user = session.get(User, uid)
        assert user is not None
        user.nickname, user.avatar, user.is_admin = "小明", "https://a.example/x.png", True
    token = issue(settings, uid)
    with session_scope() as session:
        who = sessions.verify_session_user(session, settings=settings, token=token)
    assert (who.claims.user_id, who.nickname, who.avatar, who.is_admin) == (
        uid,
        "小明",
        "https://a.example/x.png",
        True,
    )
