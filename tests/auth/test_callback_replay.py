"""A signed callback URL works for one push only: replayed with another body it is refused, in
every mode, whichever worker gets it (the ledger is in the database, or in Redis when configured);
WeChat retrying the very same push still gets the same reply."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest

from chatapp.auth import simulator
from chatapp.core.db import session_scope
from chatapp.models import LoginCode

REDIS = "redis://127.0.0.1:6379/11"
CODE_RE = re.compile(r"验证码：(\d{8})")


def codes_for(openid: str) -> int:
    with session_scope() as session:
        return session.query(LoginCode).filter(LoginCode.openid == openid).count()


def forged(run, params: dict[str, str], openid: str) -> httpx.Response:
    """The attacker's request: a signed query string seen in a log, a body of their own."""
    body = simulator.text_push(run.settings, openid=openid, content="登录").encode()
    stripped = {k: v for k, v in params.items() if k not in {"encrypt_type", "msg_signature"}}
    return run.wx.post_raw(stripped, body)


@pytest.mark.parametrize("mode", ["plain", "compat", "safe"])
def test_replayed_url_with_a_forged_body_is_refused(start, mode):
    run = start(mode)
    victim = f"o_victim_{uuid.uuid4().hex[:6]}"
    xml = simulator.text_push(run.settings, openid="o_honest", content="登录")
    params, body = simulator.signed_request(run.settings, xml)
    honest = run.wx.post_raw(params, body)
    assert CODE_RE.search(run.wx.reply(honest)["Content"])

    attack = forged(run, params, victim)
    assert attack.status_code in (400, 403), attack.text
    assert "验证码" not in attack.text
    assert codes_for(victim) == 0
    if mode == "plain":
        assert attack.text == "replayed_url"


@pytest.mark.parametrize("mode", ["plain", "compat"])
def test_the_same_url_with_another_body_and_the_encryption_kept(start, mode):
    """Keeping `encrypt_type`/`msg_signature` (compat) or changing only a field (plain)."""
    run = start(mode)
    xml = simulator.text_push(run.settings, openid="o_first", content="登录")
    params, body = simulator.signed_request(run.settings, xml)
    assert run.wx.post_raw(params, body).status_code == 200
    other = body.replace(b"o_first", b"o_other")
    assert other != body
    refused = run.wx.post_raw(params, other)
    assert (refused.status_code, refused.text) == (403, "replayed_url")
    assert codes_for("o_other") == 0


@pytest.mark.parametrize("mode", ["plain", "safe"])
def test_wechat_retrying_the_same_push_gets_the_same_reply(start, mode):
    run = start(mode)
    xml = simulator.text_push(run.settings, openid="o_retry", content="登录")
    params, body = simulator.signed_request(run.settings, xml)
    first = run.wx.reply(run.wx.post_raw(params, body))
    again = run.wx.reply(run.wx.post_raw(params, body))
    assert first == again and CODE_RE.search(first["Content"])


def test_a_refused_push_does_not_use_its_url_up(start):
    """Only a push we answer records its URL: one refused (here: wrong account) can be retried."""
    run = start()
    bad = simulator.text_push(run.settings, openid="o_r", content="登录", to_user="gh_wrong")
    params, body = simulator.signed_request(run.settings, bad)
    assert run.wx.post_raw(params, body).status_code == 403
    good = simulator.text_push(run.settings, openid="o_r", content="登录").encode()
    assert CODE_RE.search(run.wx.reply(run.wx.post_raw(params, good))["Content"])


@pytest.mark.parametrize("redis_url", [None, REDIS], ids=["database", "redis"])
def test_a_url_used_on_one_worker_is_refused_on_another(start, redis_url):
    env = {"REDIS_URL": redis_url} if redis_url else {}
    first, second = start(**env), start(**env)  # two processes' routes, one database / Redis
    xml = simulator.text_push(first.settings, openid="o_w1", content="登录")
    params, body = simulator.signed_request(first.settings, xml)
    assert first.wx.post_raw(params, body).status_code == 200
    attack = forged(second, params, "o_w2")
    assert (attack.status_code, attack.text) == (403, "replayed_url")
    assert codes_for("o_w2") == 0


def test_redis_down_answers_503_not_500(start):
    run = start(REDIS_URL="redis://127.0.0.1:9/0")  # nothing listens on port 9
    response = run.wx.text("o_down", "登录")
    assert response.status_code == 503
    assert response.text == "redis_unavailable"
    assert codes_for("o_down") == 0
