"""The HTTP auth API over real HTTP: envelope, lockout, rate limits, verify, logout, dev routes."""

from __future__ import annotations

import re

import httpx
import pytest

from chatapp.api import build_api
from chatapp.ratelimit import LoginLimits
from tests.accounts.conftest import make_settings
from tests.fakes.wechat import serve


def get_code(run, openid: str = "o_api") -> str:
    content = run.wx.reply(run.wx.text(openid, "登录"))["Content"]
    match = re.search(r"(\d{8})", content)
    assert match
    return match.group(1)


def unknown_code(known: str) -> str:
    return "12345678" if known != "12345678" else "87654321"


def login(run, code: str, **kw) -> httpx.Response:
    return httpx.post(f"{run.base_url}/api/v1/auth/login", data={"code": code}, **kw)


def test_envelopes(start):
    run = start()
    code = get_code(run)
    malformed = login(run, "12ab")
    assert malformed.status_code == 400
    assert malformed.json() == {"code": "0002", "info": "非法参数"}
    missing = httpx.post(f"{run.base_url}/api/v1/auth/login")
    assert missing.status_code == 400
    unknown = login(run, unknown_code(code))
    assert unknown.status_code == 401
    assert unknown.json() == {"code": "0003", "info": "权限拦截"}
    ok = login(run, code)
    assert ok.json()["code"] == "0000" and ok.json()["data"].count(".") == 2
    used = login(run, code)
    assert used.status_code == 400  # one-time: a used code is "expired"


def test_multipart_and_json_forms(start):
    run = start()
    code = get_code(run)
    multipart = httpx.post(f"{run.base_url}/api/v1/auth/login", files={"code": (None, code)})
    assert multipart.status_code == 200, multipart.text
    code2 = get_code(run, "o_json")
    as_json = httpx.post(f"{run.base_url}/api/v1/auth/login", json={"code": code2})
    assert as_json.status_code == 200
    huge = httpx.post(f"{run.base_url}/api/v1/auth/login", data={"code": "1" * 10000})
    assert huge.status_code == 400


def test_lockout_after_five_failures(start):
    run = start()
    code = get_code(run)
    wrong = unknown_code(code)
    for _ in range(4):
        assert login(run, wrong).status_code == 401
    fifth = login(run, wrong)
    assert fifth.status_code == 429
    assert "15 分钟" in fifth.json()["message"]
    assert int(fifth.headers["Retry-After"]) > 800
    # Locked: even the right code is refused for this attempt…
    assert login(run, code).status_code == 429
    # …while another browser attempt (different user agent) still can log in.
    ok = login(run, code, headers={"User-Agent": "other-browser"})
    assert ok.status_code == 200


def test_per_ip_failures_cap_attempt_hopping(start):
    run = start(limits=LoginLimits(per_ip_failures="6 per 15 minutes"))
    code = get_code(run)
    wrong = unknown_code(code)
    statuses = [login(run, wrong, headers={"User-Agent": f"ua-{i}"}).status_code for i in range(8)]
    assert statuses[:6] == [401] * 6
    assert statuses[6:] == [429, 429]


def test_global_rate_limit_stops_enumeration(start):
    run = start(limits=LoginLimits(global_failures="3 per 10 minutes"))
    code = get_code(run)
    wrong = unknown_code(code)
    for i in range(3):
        assert login(run, wrong, headers={"User-Agent": f"bot-{i}"}).status_code == 401
    blocked = login(run, code, headers={"User-Agent": "innocent"})
    assert blocked.status_code == 429
    assert "频繁" in blocked.json()["message"]


def test_request_rate_limit(start):
    run = start(limits=LoginLimits(per_ip_requests="3 per minute"))
    statuses = [login(run, "bad").status_code for _ in range(5)]
    assert statuses == [400, 400, 400, 429, 429]


def test_verify_cookie_bearer_logout(start):
    run = start()
    token = login(run, get_code(run)).json()["data"]
    verify_url = f"{run.base_url}/api/v1/auth/verify"
    assert httpx.get(verify_url).status_code == 401
    assert httpx.get(verify_url, cookies={"chatapp_session": token}).status_code == 200
    bearer = {"Authorization": f"Bearer {token}"}
    assert httpx.get(verify_url, headers=bearer).status_code == 200
    assert httpx.get(verify_url, headers={"Authorization": "Bearer x.y.z"}).status_code == 401
    out = httpx.post(f"{run.base_url}/api/v1/auth/logout", headers=bearer)
    assert out.status_code == 200
    assert httpx.get(verify_url, headers=bearer).status_code == 401


def test_verify_is_rate_limited_on_bad_tokens(start):
    run = start(limits=LoginLimits(per_ip_bad_tokens="3 per minute"))
    token = login(run, get_code(run)).json()["data"]
    verify_url = f"{run.base_url}/api/v1/auth/verify"
    for _ in range(3):
        assert httpx.get(verify_url, cookies={"chatapp_session": "junk"}).status_code == 401
    assert httpx.get(verify_url, cookies={"chatapp_session": "junk"}).status_code == 429
    assert httpx.get(verify_url, cookies={"chatapp_session": token}).status_code == 429


def test_full_flow_through_the_dev_simulator_route(start):
    """Simulator push (real signed HTTP to our callback) → code → login → verify."""
    run = start("safe")
    sim = httpx.post(f"{run.base_url}/api/v1/dev/wx/simulate", data={"openid": "o_dev_alice"})
    assert sim.status_code == 200, sim.text
    code = re.search(r"(\d{8})", sim.json()["data"]).group(1)  # type: ignore[union-attr]
    token = login(run, code).json()["data"]
    headers = {"Authorization": f"Bearer {token}"}
    assert httpx.get(f"{run.base_url}/api/v1/auth/verify", headers=headers).status_code == 200


def test_simulator_route_absent_in_prod(tmp_path, db):
    settings = make_settings(tmp_path, CHATAPP_ENV="prod")
    assert not settings.is_dev
    with serve(build_api(settings)) as base:
        response = httpx.post(f"{base}/api/v1/dev/wx/simulate", data={"openid": "o"})
        assert response.status_code == 404
        assert httpx.get(f"{base}/api/v1/auth/verify").status_code == 401


@pytest.mark.parametrize("path", ["/api/v1/auth/login", "/api/v1/auth/verify"])
def test_routes_never_500_on_junk(start, path):
    run = start()
    for body in [b"\xff\xfe", b"code=%ff%fe", b"{", b"code=" + b"9" * 3000]:
        response = httpx.post(
            run.base_url + path,
            content=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert response.status_code < 500


def test_limits_hold_under_parallel_attempts(start):
    """40 wrong codes at once from one IP, each from a different 'browser': the per-IP failure cap
    (6 here) is not overrun by the race, and the right code is refused while locked."""
    from concurrent.futures import ThreadPoolExecutor

    run = start(
        limits=LoginLimits(per_ip_failures="6 per 15 minutes", per_ip_requests="1000 per minute")
    )
    code = get_code(run)
    wrong = unknown_code(code)
    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(
            pool.map(
                lambda i: login(run, wrong, headers={"User-Agent": f"p-{i}"}).status_code, range(40)
            )
        )
    assert statuses.count(401) <= 6, statuses
    assert statuses.count(429) >= 34, statuses
    assert all(s in (401, 429) for s in statuses)
    assert login(run, code, headers={"User-Agent": "fresh"}).status_code == 429
