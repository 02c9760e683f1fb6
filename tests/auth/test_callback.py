"""The WeChat callback over real HTTP, in all three modes, honest and hostile."""

from __future__ import annotations

import re

import httpx
import pytest

from chatapp.auth import simulator
from chatapp.auth.wechat import sign
from chatapp.core.db import session_scope
from chatapp.models import LoginCode, WechatPush

MODES = ["plain", "compat", "safe"]
CODE_RE = re.compile(r"验证码：(\d{8})")


def code_of(reply: dict[str, str]) -> str:
    match = CODE_RE.search(reply["Content"])
    assert match, reply
    return match.group(1)


def test_url_verification_echoes_echostr(start):
    run = start()
    params, _ = simulator.signed_request(run.settings, "", encrypt=False)
    ok = httpx.get(run.wx.url, params={**params, "echostr": "hello123"})
    assert ok.status_code == 200
    assert ok.text == "hello123"
    assert ok.headers["content-type"].startswith("text/plain")
    bad = httpx.get(run.wx.url, params={**params, "signature": "0" * 40, "echostr": "x"})
    assert bad.status_code == 403
    other = httpx.get(run.wx.url.replace("wxtest", "wxevil"), params={**params, "echostr": "x"})
    assert other.status_code == 403


@pytest.mark.parametrize("mode", MODES)
def test_login_keyword_replies_with_code_and_logs_in(start, mode):
    run = start(mode)
    response = run.wx.text("o_user1", "登录")
    if mode != "plain":
        assert "<Encrypt>" in response.text  # the reply is encrypted too
    reply = run.wx.reply(response)
    assert reply["ToUserName"] == "o_user1"
    assert reply["FromUserName"] == run.settings.wechat_original_id
    code = code_of(reply)
    assert "/login" in reply["Content"]
    login = httpx.post(f"{run.base_url}/api/v1/auth/login", data={"code": code})
    assert login.status_code == 200, login.text
    body = login.json()
    assert body["code"] == "0000" and body["info"] == "成功"
    verify = httpx.get(
        f"{run.base_url}/api/v1/auth/verify", headers={"Authorization": f"Bearer {body['data']}"}
    )
    assert verify.status_code == 200


@pytest.mark.parametrize("mode", MODES)
def test_scan_event_and_subscribe_and_other_messages(start, mode):
    run = start(mode)
    assert code_of(run.wx.reply(run.wx.event("o_new", "subscribe")))
    assert "登录" in run.wx.reply(run.wx.text("o_new", "你好"))["Content"]
    image = simulator.text_push(run.settings, openid="o_new", content="x").replace(
        "<MsgType><![CDATA[text]]></MsgType>", "<MsgType><![CDATA[image]]></MsgType>"
    )
    assert "登录" in run.wx.reply(run.wx.push(image))["Content"]
    unsubscribe = run.wx.event("o_new", "unsubscribe")
    assert unsubscribe.status_code == 200 and unsubscribe.text == "success"


def test_compat_mode_refuses_plaintext(start):
    """WeChat's compat mode always sends the encrypted copy (`encrypt_type=aes`): a plaintext push
    is someone who dropped the encryption parameters to get around `msg_signature`."""
    run = start("compat")
    xml = simulator.text_push(run.settings, openid="o_c", content="验证码")
    response = run.wx.push(xml, encrypt=False)
    assert response.status_code == 400
    assert response.text == "plaintext_in_compat_mode"
    with session_scope() as session:
        assert session.query(LoginCode).count() == 0
    # What WeChat really sends in compat mode (plaintext fields plus <Encrypt>) works.
    honest = run.wx.push(xml)
    assert "<Encrypt>" in honest.text
    assert code_of(run.wx.reply(honest))


def test_configured_keywords(start):
    run = start(WECHAT_KEYWORDS="芝麻开门")
    assert code_of(run.wx.reply(run.wx.text("o_k", " 芝麻开门 ")))
    assert "验证码：" not in run.wx.reply(run.wx.text("o_k", "登录"))["Content"]


def test_same_openid_gets_the_same_live_code(start):
    run = start()
    first = code_of(run.wx.reply(run.wx.text("o_same", "登录")))
    second = code_of(run.wx.reply(run.wx.text("o_same", "login")))
    assert first == second
    with session_scope() as session:
        rows = session.query(LoginCode).all()
    assert len(rows) == 1
    assert first not in rows[0].code_hash and first not in rows[0].code_enc


@pytest.mark.parametrize("mode", MODES)
def test_retried_push_gets_the_same_reply(start, mode):
    run = start(mode)
    xml = simulator.text_push(run.settings, openid="o_retry", content="登录", msg_id="42")
    replies = [run.wx.reply(run.wx.push(xml)) for _ in range(3)]
    assert replies[0] == replies[1] == replies[2]
    event = simulator.event_push(run.settings, openid="o_ev", event="subscribe", create_time=1000)
    first = run.wx.reply(run.wx.push(event))
    assert run.wx.reply(run.wx.push(event)) == first
    with session_scope() as session:
        pushes = [p for p in session.query(WechatPush).all() if not p.dedup_key.startswith("url:")]
    assert len(pushes) == 2
    # Stored replies are sealed: no login code in clear in the table.
    assert all("验证码" not in p.reply for p in pushes)


def test_reply_escapes_cdata_terminator(start):
    run = start()
    evil = "o_x]]></ToUserName><Content>pwned</Content><x><![CDATA["
    response = run.wx.text(evil, "登录")
    reply = run.wx.reply(response)
    assert reply["ToUserName"] == evil[:128]
    assert "pwned" not in reply["Content"]


# ---- hostile input: always 4xx, never 500 ------------------------------------------------------


def test_bad_and_missing_signature(start):
    run = start()
    params, body = simulator.signed_request(
        run.settings, simulator.text_push(run.settings, openid="o", content="登录")
    )
    assert run.wx.post_raw({**params, "signature": "f" * 40}, body).status_code == 403
    assert run.wx.post_raw({}, body).status_code == 403
    assert run.wx.post_raw({**params, "timestamp": "abc"}, body).status_code == 403


def test_stale_and_replayed_push(start):
    run = start()
    xml = simulator.text_push(run.settings, openid="o", content="登录")
    params, body = simulator.signed_request(run.settings, xml)
    assert run.wx.post_raw(params, body).status_code == 200
    run.clock.now += 301  # the same signed request replayed five minutes later
    assert run.wx.post_raw(params, body).status_code == 403
    old = run.wx.push(xml, timestamp=int(run.clock.now) - 1000)
    assert old.status_code == 403
    future = run.wx.push(xml, timestamp=int(run.clock.now) + 1000)
    assert future.status_code == 403


def test_wrong_appid_and_wrong_account(start):
    run = start()
    params, body = simulator.signed_request(
        run.settings, simulator.text_push(run.settings, openid="o", content="登录")
    )
    other = run.wx.post_raw(params, body, url=run.wx.url.replace("wxtest", "wxelse"))
    assert other.status_code == 403
    wrong_to = run.wx.text("o", "登录", to_user="gh_someone_else")
    assert wrong_to.status_code == 403


def test_oversized_body(start):
    run = start()
    big = simulator.text_push(run.settings, openid="o", content="登" * 30000)
    assert len(big.encode()) > 64 * 1024
    assert run.wx.push(big).status_code == 413
    # A body streamed without Content-Length is capped too.
    params, _ = simulator.signed_request(run.settings, "", encrypt=False)

    def chunks():
        for _ in range(80):
            yield b"x" * 1024

    response = httpx.post(run.wx.url, params=params, content=chunks())
    assert response.status_code == 413


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<xml><ToUserName>gh_test_account</ToUserName><FromUserName>o</FromUserName>
<CreateTime>1</CreateTime><MsgType>text</MsgType><Content>&xxe;</Content><MsgId>1</MsgId></xml>"""

BOMB = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">'.encode()
        for i in range(1, 10)
    )
    + b"]><xml><ToUserName>gh_test_account</ToUserName><Content>&lol9;</Content></xml>"
)

DUPLICATED = (
    "<xml><ToUserName>gh_test_account</ToUserName><FromUserName>a</FromUserName>"
    "<FromUserName>b</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType>"
    "<Content>登录</Content><MsgId>7</MsgId></xml>"
).encode()

NESTED = (
    "<xml><ToUserName>gh_test_account</ToUserName><FromUserName><a>1</a></FromUserName>"
    "<CreateTime>1</CreateTime><MsgType>text</MsgType><Content>登录</Content></xml>"
).encode()

ATTRIBUTE = (
    '<xml><ToUserName x="1">gh_test_account</ToUserName><FromUserName>a</FromUserName>'
    "<CreateTime>1</CreateTime><MsgType>text</MsgType><Content>登录</Content></xml>"
).encode()

MISSING = b"<xml><ToUserName>gh_test_account</ToUserName><Content>x</Content></xml>"
BAD_TIME = (
    b"<xml><ToUserName>gh_test_account</ToUserName><FromUserName>a</FromUserName>"
    b"<CreateTime>notanumber</CreateTime><MsgType>text</MsgType><Content>hi</Content></xml>"
)


@pytest.mark.parametrize(
    "body",
    [
        XXE,
        BOMB,
        DUPLICATED,
        NESTED,
        ATTRIBUTE,
        MISSING,
        BAD_TIME,
        b"",
        b"not xml at all",
        b'{"json": true}',
        b"<xml><unclosed></xml>",
        b"<other>root</other>",
        "<xml><Content>登录</Content></xml>".encode("gbk"),
        b"\xff\xfe\x00<\x00x",
    ],
    ids=[
        "xxe",
        "entity-bomb",
        "duplicated-tags",
        "nested",
        "attribute",
        "missing-fields",
        "bad-createtime",
        "empty",
        "not-xml",
        "json",
        "malformed",
        "wrong-root",
        "gbk",
        "utf16-junk",
    ],
)
def test_hostile_bodies_get_400(start, body):
    run = start()
    response = run.wx.signed_body(body)
    assert response.status_code == 400, response.text


@pytest.mark.parametrize("mode", ["compat", "safe"])
def test_forged_encrypted_payloads(start, mode):
    run = start(mode)
    xml = simulator.text_push(run.settings, openid="o", content="登录")
    params, body = simulator.signed_request(run.settings, xml, encrypt=True)
    # Wrong msg_signature.
    assert run.wx.post_raw({**params, "msg_signature": "0" * 40}, body).status_code == 403
    # Encrypted with another AES key but correctly signed for it: decrypts to junk → 400.
    other = run.settings.__class__(**{**run.settings.__dict__, "wechat_aes_key": "A" * 43})
    params2, body2 = simulator.signed_request(other, xml, encrypt=True)
    assert run.wx.post_raw(params2, body2).status_code == 400
    # A valid-looking signature over garbage ciphertext.
    junk = "bm90IGEgcmVhbCBjaXBoZXJ0ZXh0IGF0IGFsbA=="
    forged = f"<xml><ToUserName>x</ToUserName><Encrypt>{junk}</Encrypt></xml>".encode()
    sig = sign(run.settings.wechat_token, params["timestamp"], params["nonce"], junk)
    assert run.wx.post_raw({**params, "msg_signature": sig}, forged).status_code == 400
    # No Encrypt element at all.
    empty = b"<xml><ToUserName>x</ToUserName></xml>"
    assert run.wx.post_raw(params, empty).status_code == 400
    # Wrong appid inside the payload (encrypted for another account id).
    other_app = run.settings.__class__(**{**run.settings.__dict__, "wechat_appid": "wxother"})
    params3, body3 = simulator.signed_request(other_app, xml, encrypt=True)
    assert run.wx.post_raw(params3, body3).status_code == 400


def test_safe_mode_refuses_plaintext_and_plain_mode_refuses_ciphertext(start):
    safe = start("safe")
    xml = simulator.text_push(safe.settings, openid="o", content="登录")
    assert safe.wx.push(xml, encrypt=False).status_code == 400
    plain = start("plain")
    params, body = simulator.signed_request(safe.settings, xml, encrypt=True)
    params = {
        **params,
        "signature": sign(plain.settings.wechat_token, params["timestamp"], params["nonce"]),
    }
    assert plain.wx.post_raw(params, body).status_code == 400
