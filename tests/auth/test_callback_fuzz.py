"""Property-based hostility against the WeChat callback: random and mutated XML bodies (correctly
signed, so they reach the parser), random query strings, in plain and safe mode. Never a 500,
never a crash, never a login session created by a push."""

from __future__ import annotations

import string

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, func, select

from chatapp.auth import simulator
from chatapp.core.db import get_engine
from chatapp.models import AuthSession

FUZZ = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
TRICKS = [
    b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>',
    b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>',
    b"<![CDATA[",
    b"]]>",
    b"<Content>x</Content><Content>y</Content>",
    b"<MsgType><a>text</a></MsgType>",
    b"\xff\xfe\x00",
    b"&b;",
    b"<?xml version='1.0' encoding='gbk'?>",
    b"<ToUserName><![CDATA[gh_other]]></ToUserName>",
]


BASE = (
    "<xml><ToUserName><![CDATA[gh_test_account]]></ToUserName>"
    "<FromUserName><![CDATA[o_fuzz]]></FromUserName><CreateTime>1700000000</CreateTime>"
    "<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[登录]]></Content>"
    "<MsgId>1234567890</MsgId></xml>"
).encode()


@st.composite
def mutated_push(draw) -> bytes:
    body = bytearray(BASE)
    for _ in range(draw(st.integers(0, 4))):
        action = draw(st.sampled_from(["insert", "delete", "replace", "trick"]))
        pos = draw(st.integers(0, len(BASE)))
        if action == "insert":
            body[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        elif action == "delete":
            del body[pos : pos + draw(st.integers(1, 12))]
        elif action == "replace":
            body[pos : pos + 1] = draw(st.binary(min_size=1, max_size=1))
        else:
            body[pos:pos] = draw(st.sampled_from(TRICKS))
    return bytes(body)


def _sessions() -> int:
    with Session(get_engine()) as s:
        return s.exec(select(func.count()).select_from(AuthSession)).one()


def _check(response: httpx.Response) -> None:
    assert response.status_code < 500, (response.status_code, response.text[:200])


@pytest.mark.parametrize("mode", ["plain", "safe"])
def test_random_and_mutated_bodies_never_500_never_log_in(start, mode):
    running = start(mode)

    @FUZZ
    @given(
        body=st.one_of(
            mutated_push(), st.binary(max_size=600), st.text(max_size=300).map(str.encode)
        )
    )
    def fuzz(body: bytes) -> None:
        _check(running.wx.signed_body(body))

    fuzz()
    assert _sessions() == 0


def test_random_query_strings_are_refused_not_crashed(start):
    running = start("safe")
    params, body = simulator.signed_request(
        running.settings, simulator.text_push(running.settings, openid="o_q", content="登录")
    )
    keys = sorted(params)
    junk = st.text(alphabet=string.printable + "中文\u2028", max_size=40)

    @FUZZ
    @given(
        changes=st.dictionaries(
            st.sampled_from([*keys, "echostr", "x"]), junk, min_size=1, max_size=4
        )
    )
    def fuzz(changes: dict[str, str]) -> None:
        mutated = {**params, **changes}
        response = running.wx.post_raw(mutated, body)
        _check(response)
        if any(
            mutated.get(k) != params.get(k)
            for k in ("signature", "timestamp", "nonce", "msg_signature")
        ):
            assert response.status_code in (400, 403), response.status_code

    fuzz()
    assert _sessions() == 0
