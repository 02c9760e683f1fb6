"""The HTTP auth API over real HTTP: envelope, lockout, rate limits, verify, logout, dev routes."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlmodel import select

from chatapp.api.routes import build_api
from chatapp.auth import accounts
from chatapp.auth.ratelimit import LoginLimits
from chatapp.core.db import session_scope
from chatapp.models import LoginCode
from testkit.net import serve
from tests.auth.conftest import make_settings


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


def from_address(address: str) -> httpx.Client:
    """A client whose requests come from another loopback address (127.0.0.0/8 is all ours)."""
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=10)


def test_wrong_codes_from_many_addresses_do_not_block_a_valid_code(start):
    """200 wrong codes from 20 addresses (10 each, under every per-address limit) reach the
    global cap; a valid code from anyone else still logs in."""
    run = start()
    code = get_code(run, "o_innocent")
    wrong = unknown_code(code)
    for n in range(20):
        with from_address(f"127.0.1.{n + 1}") as bot:
            for i in range(10):
                reply = bot.post(
                    f"{run.base_url}/api/v1/auth/login",
                    data={"code": wrong},
                    headers={"User-Agent": f"bot-{i}"},
                )
                assert reply.status_code == 401, (n, i, reply.text)
    with from_address("127.0.2.1") as user:
        ok = user.post(f"{run.base_url}/api/v1/auth/login", data={"code": code})
    assert ok.status_code == 200, ok.text
    assert ok.json()["code"] == "0000"


def test_under_attack_each_address_gets_fewer_wrong_codes(start):
    run = start(limits=LoginLimits(global_failures="3 per 10 minutes"))
    code = get_code(run)
    wrong = unknown_code(code)
    with from_address("127.0.3.1") as first:
        for i in range(3):
            assert login_as(first, run, wrong, f"a-{i}").status_code == 401
    # The global cap is reached: a fresh address now gets 3 wrong codes, not 20…
    with from_address("127.0.3.2") as second:
        statuses = [login_as(second, run, wrong, f"b-{i}").status_code for i in range(5)]
        assert statuses == [401, 401, 401, 429, 429]
        assert login_as(second, run, code, "b-right").status_code == 429  # that address is locked
    # …and a valid code from an address that guessed nothing is never refused.
    with from_address("127.0.3.3") as user:
        assert login_as(user, run, code, "user").status_code == 200


def login_as(client: httpx.Client, run, code: str, agent: str) -> httpx.Response:
    return client.post(
        f"{run.base_url}/api/v1/auth/login", data={"code": code}, headers={"User-Agent": agent}
    )


def test_a_client_chosen_attempt_id_is_ignored(start):
    """Rotating the `attempt` field no longer buys fresh tries: the server keys the attempt."""
    run = start()
    code = get_code(run)
    wrong = unknown_code(code)
    statuses = [
        httpx.post(
            f"{run.base_url}/api/v1/auth/login", data={"code": wrong, "attempt": f"x{i}"}
        ).status_code
        for i in range(6)
    ]
    assert statuses == [401, 401, 401, 401, 429, 429]


def test_per_openid_logins_are_capped_and_the_code_kept(start):
    run = start(limits=LoginLimits(per_openid_logins="2 per 10 minutes"))
    for _ in range(2):
        assert login(run, get_code(run, "o_often")).status_code == 200
    third = get_code(run, "o_often")
    refused = login(run, third)
    assert refused.status_code == 429
    assert "频繁" in refused.json()["message"]
    with session_scope() as session:
        row = session.exec(select(LoginCode).where(LoginCode.openid == "o_often")).all()[-1]
        assert row.used_at is None  # refused before it was used up
    # Other openids are not affected.
    assert login(run, get_code(run, "o_other")).status_code == 200


def test_a_code_aimed_at_too_often_is_retired(start):
    """Wrong codes sharing a live code's first digits are counted against that code; after 5 it
    is retired (its owner asks again), so no number of guessers can wear one code down."""
    run = start()
    code = get_code(run, "o_target")
    prefix = code[: accounts.NEAR_MISS_DIGITS]
    near = [prefix + f"{n:05d}" for n in range(7) if prefix + f"{n:05d}" != code][:5]
    far = next(
        f"{p:03d}00000" for p in range(1000) if f"{p:03d}" != prefix
    )  # lands near no live code
    for i in range(3):
        assert login_as_agent(run, far, f"far-{i}").status_code == 401
    for i, guess in enumerate(near[:4]):
        assert login_as_agent(run, guess, f"near-{i}").status_code == 401
    with session_scope() as session:
        assert session.exec(select(LoginCode).where(LoginCode.openid == "o_target")).one()
    still = get_code(run, "o_target")
    assert still == code  # four near misses: the code is still live
    assert login_as_agent(run, near[4], "near-4").status_code == 401
    retired = login_as_agent(run, code, "owner")
    assert retired.status_code == 400  # "expired": the owner sends 「登录」 again
    fresh = get_code(run, "o_target")
    assert fresh != code
    assert login_as_agent(run, fresh, "owner-again").status_code == 200


def login_as_agent(run, code: str, agent: str) -> httpx.Response:
    return login(run, code, headers={"User-Agent": agent})


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


def test_bad_tokens_never_make_verify_refuse_a_valid_token(start):
    run = start(limits=LoginLimits(per_ip_bad_tokens="3 per minute"))
    token = login(run, get_code(run)).json()["data"]
    verify_url = f"{run.base_url}/api/v1/auth/verify"
    for _ in range(3):
        assert httpx.get(verify_url, cookies={"chatapp_session": "junk"}).status_code == 401
    for _ in range(60):
        assert httpx.get(verify_url, cookies={"chatapp_session": "junk"}).status_code == 429
    assert httpx.get(verify_url, cookies={"chatapp_session": token}).status_code == 200
    bearer = {"Authorization": f"Bearer {token}"}
    assert httpx.get(verify_url, headers=bearer).status_code == 200


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
