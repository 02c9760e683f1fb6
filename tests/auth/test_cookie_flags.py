"""The session cookie as the login route sets it: HttpOnly, SameSite=Lax, Secure exactly when the
site is https, and kept exactly as long as the JWT inside it lasts; the handoff that sets it works
once, briefly, and only from this site."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
import jwt
import pytest

from chatapp.auth import handoff, login
from chatapp.auth.session_cookie import NAME
from chatapp.core.db import session_scope
from chatapp.models import utcnow


def page_login(run, openid: str = "o_cookie") -> str:
    """What the login page does with a typed code: a handoff secret (no token in the page)."""
    import asyncio

    content = run.wx.reply(run.wx.text(openid, "登录"))["Content"]
    code = re.search(r"(\d{8})", content).group(1)  # type: ignore[union-attr]
    return asyncio.run(
        login.submit_code_handoff(
            settings=run.settings, guard=run.guard, code=code, attempt_id="page:t", ip="127.0.0.1"
        )
    )


def redeem(run, secret: str, next_path: str = "/chat/abc", **headers: str) -> httpx.Response:
    return httpx.get(
        run.base_url + handoff.PATH,
        params={"ticket": secret, "next": next_path},
        headers=headers,
        follow_redirects=False,
    )


@pytest.mark.parametrize(
    ("public_url", "secure"), [("https://chat.example.com", True), ("http://localhost:3000", False)]
)
def test_the_login_route_sets_an_httponly_cookie_as_long_as_the_jwt(start, public_url, secure):
    run = start(PUBLIC_URL=public_url, JWT_TTL_DAYS="3")
    response = redeem(run, page_login(run))
    assert response.status_code == 303
    assert response.headers["location"] == "/chat/abc"
    assert response.headers["cache-control"] == "no-store"
    header = response.headers["set-cookie"]
    flags = {part.strip().split("=", 1)[0].lower(): part for part in header.split(";")}
    assert "httponly" in flags
    assert flags["samesite"].strip().lower() == "samesite=lax"
    assert flags["path"].strip() == "Path=/"
    assert ("secure" in flags) is secure
    token = response.cookies[NAME]
    claims = jwt.decode(token, options={"verify_signature": False})
    max_age = int(flags["max-age"].split("=", 1)[1])
    assert max_age == claims["exp"] - claims["iat"] == 3 * 24 * 3600
    verify = httpx.get(run.base_url + "/api/v1/auth/verify", cookies={NAME: token})
    assert verify.status_code == 200


def test_a_handoff_works_once(start):
    run = start()
    secret = page_login(run)
    assert redeem(run, secret).status_code == 303
    again = redeem(run, secret)
    assert again.status_code == 400
    assert "已失效" in again.text and "set-cookie" not in again.headers
    assert redeem(run, "made-up").status_code == 400


def test_a_handoff_expires_after_a_minute(start):
    run = start()
    with session_scope() as session:
        stale = handoff.create(
            session, settings=run.settings, openid="o_late", now=utcnow() - timedelta(seconds=61)
        )
    assert redeem(run, stale).status_code == 400


def test_a_handoff_from_another_site_is_refused_and_stays_usable(start):
    """Login CSRF: a link on another site must not log the browser into someone's account."""
    run = start()
    secret = page_login(run)
    cross = redeem(run, secret, **{"Sec-Fetch-Site": "cross-site"})
    assert cross.status_code == 403 and "set-cookie" not in cross.headers
    assert redeem(run, secret, **{"Sec-Fetch-Site": "same-origin"}).status_code == 303


def test_next_never_leaves_the_site(start):
    run = start()
    for target, expected in [("https://evil.example", "/"), ("//evil", "/"), ("/roles", "/roles")]:
        response = redeem(run, page_login(run, f"o_next_{len(target)}"), target)
        assert response.headers["location"] == expected


def test_logout_routes_clear_the_cookie(start):
    run = start()
    cleared = httpx.get(run.base_url + handoff.CLEAR_PATH, follow_redirects=False)
    assert cleared.status_code == 303 and cleared.headers["location"] == "/login"
    assert re.search(rf"{NAME}=\"?\"?;.*Max-Age=0", cleared.headers["set-cookie"], re.I)
    token = redeem(run, page_login(run)).cookies[NAME]
    out = httpx.post(run.base_url + "/api/v1/auth/logout", cookies={NAME: token})
    assert out.status_code == 200
    assert re.search(r"Max-Age=0", out.headers["set-cookie"], re.I)
    verify = httpx.get(run.base_url + "/api/v1/auth/verify", cookies={NAME: token})
    assert verify.status_code == 401
