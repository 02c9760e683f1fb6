"""A simulated WeChat server: builds real signed (in safe mode encrypted) pushes and sends them.

Dev mode uses it behind the login page's "模拟微信登录" button: it POSTs a text push ("登录") for a
test openid to *our own* callback over HTTP, exactly as WeChat would, and returns the reply text
(which carries the login code). Nothing is short-circuited, so what works here works with WeChat.
Tests use the same builders to craft honest and hostile pushes.
"""

from __future__ import annotations

import secrets
import time

import httpx
from wechatpy.crypto import WeChatCrypto

from chatapp.auth.wechat import cdata, parse_fields, sign
from chatapp.core.config import Settings

DEV_OPENIDS = ("o_dev_alice", "o_dev_bob", "o_dev_admin")


def text_push(
    settings: Settings,
    *,
    openid: str,
    content: str,
    create_time: int | None = None,
    msg_id: str | None = None,
    to_user: str | None = None,
) -> str:
    """The XML of a user's text message to the account."""
    return (
        "<xml>"
        f"<ToUserName>{cdata(to_user if to_user is not None else _to_user(settings))}</ToUserName>"
        f"<FromUserName>{cdata(openid)}</FromUserName>"
        f"<CreateTime>{create_time or int(time.time())}</CreateTime>"
        "<MsgType><![CDATA[text]]></MsgType>"
        f"<Content>{cdata(content)}</Content>"
        f"<MsgId>{msg_id or secrets.randbelow(10**18)}</MsgId>"
        "</xml>"
    )


def event_push(
    settings: Settings,
    *,
    openid: str,
    event: str,
    event_key: str = "",
    create_time: int | None = None,
    to_user: str | None = None,
) -> str:
    """The XML of an event (subscribe, SCAN, …); events carry no MsgId."""
    return (
        "<xml>"
        f"<ToUserName>{cdata(to_user if to_user is not None else _to_user(settings))}</ToUserName>"
        f"<FromUserName>{cdata(openid)}</FromUserName>"
        f"<CreateTime>{create_time or int(time.time())}</CreateTime>"
        "<MsgType><![CDATA[event]]></MsgType>"
        f"<Event>{cdata(event)}</Event>"
        f"<EventKey>{cdata(event_key)}</EventKey>"
        "</xml>"
    )


def _to_user(settings: Settings) -> str:
    return settings.wechat_original_id or "gh_dev_account"


def signed_request(
    settings: Settings, xml: str, *, timestamp: int | None = None, encrypt: bool | None = None
) -> tuple[dict[str, str], bytes]:
    """Query parameters and body for a push, signed like WeChat does.

    Args:
        encrypt: AES-encrypt the body; defaults to True in safe and compat mode.
    """
    stamp = str(timestamp if timestamp is not None else int(time.time()))
    nonce = secrets.token_hex(5)
    params = {
        "signature": sign(settings.wechat_token, stamp, nonce),
        "timestamp": stamp,
        "nonce": nonce,
        "openid": "",
    }
    if encrypt is None:
        encrypt = settings.wechat_mode in {"safe", "compat"}
    if not encrypt:
        return params, xml.encode()
    crypto = WeChatCrypto(settings.wechat_token, settings.wechat_aes_key, settings.wechat_appid)
    envelope = crypto.encrypt_message(xml, nonce, stamp)
    fields = parse_fields(envelope)
    if settings.wechat_mode == "compat":
        # Compat mode: WeChat sends the plaintext fields *and* the encrypted copy.
        body = xml.rpartition("</xml>")[0] + f"<Encrypt>{cdata(fields['Encrypt'])}</Encrypt></xml>"
    else:
        body = (
            f"<xml><ToUserName>{cdata(_to_user(settings))}</ToUserName>"
            f"<Encrypt>{cdata(fields['Encrypt'])}</Encrypt></xml>"
        )
    params["encrypt_type"] = "aes"
    params["msg_signature"] = fields["MsgSignature"]
    return params, body.encode()


def read_reply(settings: Settings, body: str) -> dict[str, str]:
    """The fields of our reply, decrypted (and its signature checked) when it is encrypted.

    Raises:
        ValueError: the reply is encrypted but its signature does not match.
    """
    if body.strip() in {"", "success"}:
        return {}
    fields = parse_fields(body)
    if "Encrypt" in fields:
        expected = sign(
            settings.wechat_token, fields["TimeStamp"], fields["Nonce"], fields["Encrypt"]
        )
        if expected != fields.get("MsgSignature"):
            raise ValueError("reply signature mismatch")
        crypto = WeChatCrypto(settings.wechat_token, settings.wechat_aes_key, settings.wechat_appid)
        fields = parse_fields(
            crypto.decrypt_message(
                {"Encrypt": fields["Encrypt"]},
                fields["MsgSignature"],
                fields["TimeStamp"],
                fields["Nonce"],
            )
        )
    return fields


def portal_url(base_url: str, settings: Settings) -> str:
    """Our callback URL under `base_url`."""
    return f"{base_url.rstrip('/')}/api/v1/wx/portal/{settings.wechat_appid}"


async def send_text(
    settings: Settings,
    *,
    base_url: str,
    openid: str,
    content: str = "登录",
    client: httpx.AsyncClient | None = None,
) -> str:
    """Sends a text push to our callback at `base_url` and returns the reply's text.

    Raises:
        httpx.HTTPError: the callback was unreachable or answered with an error status.
    """
    params, body = signed_request(settings, text_push(settings, openid=openid, content=content))
    own = client is None
    http = client or httpx.AsyncClient(timeout=10.0)
    try:
        response = await http.post(
            portal_url(base_url, settings),
            params=params,
            content=body,
            headers={"Content-Type": "text/xml; charset=utf-8"},
        )
        response.raise_for_status()
        return read_reply(settings, response.text).get("Content", "")
    finally:
        if own:
            await http.aclose()
