"""The WeChat Official Account callback: verify, decrypt, parse, dedup, answer — on top of wechatpy.

wechatpy is used only for what it is good at: the SHA1 signer, AES (safe/compat mode) and message
parsing. Everything hostile is refused with a 4xx (`WechatRejected`), never a 500:

    WechatRejected(status)
    ├── 403  wrong appid in the path, bad/stale signature, bad msg_signature, wrong ToUserName,
    │        a signed URL already used with another body (`chatapp.auth.callback_nonces`)
    └── 400  not UTF-8, not XML, DTD/entities, duplicated or nested fields, undecryptable payload,
             plaintext in safe or compat mode, ciphertext in plain mode

In compat mode WeChat always sends the encrypted envelope (with `encrypt_type=aes`); a plaintext
push there is someone who stripped the encryption parameters to get around `msg_signature`.

WeChat retries a push up to three times when we are slow; retries are recognised by MsgId (or
FromUserName+CreateTime+Event+EventKey for events) and get the same reply, kept sealed in
`WechatPush`. No outbound network call happens here, so the answer is always fast.

Replies are rendered here rather than with wechatpy because wechatpy does not escape `]]>` inside
CDATA: user text echoed back could otherwise inject XML.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import xmltodict
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto

from chatapp.auth import accounts, sessions
from chatapp.auth.callback_nonces import NonceLedger, fingerprint, make_ledger
from chatapp.core.config import Settings
from chatapp.core.db import session_scope
from chatapp.models import WechatPush

MAX_BODY_BYTES = 64 * 1024
MAX_CLOCK_SKEW_S = 300
DEDUP_KEEP = timedelta(hours=1)
_REPLY_PURPOSE = "wechat-reply"


class WechatRejected(Exception):
    """A callback request we refuse; `status` is the HTTP status to answer with."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class Incoming:
    """The fields of a push we act on, all checked to be strings."""

    msg_type: str
    from_user: str
    to_user: str
    create_time: str
    content: str = ""
    event: str = ""
    event_key: str = ""
    msg_id: str = ""

    @property
    def dedup_key(self) -> str:
        """MsgId for messages; sender+time+event+key for events (they carry no MsgId)."""
        if self.msg_id:
            return f"msg:{self.msg_id}"[:256]
        return f"evt:{self.from_user}:{self.create_time}:{self.event}:{self.event_key}"[:256]


def sign(*parts: str) -> str:
    """WeChat's signature: SHA1 over the sorted parts, concatenated."""
    # WeChat defines its signatures as SHA-1; we must compute exactly that to verify them.
    return hashlib.sha1("".join(sorted(parts)).encode(), usedforsecurity=False).hexdigest()


def cdata(value: str) -> str:
    """`value` inside CDATA, with `]]>` split so it cannot close the section early."""
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def render_text_reply(*, to_user: str, from_user: str, content: str, create_time: int) -> str:
    """A passive text reply, every user-influenced field escaped."""
    return (
        "<xml>"
        f"<ToUserName>{cdata(to_user)}</ToUserName>"
        f"<FromUserName>{cdata(from_user)}</FromUserName>"
        f"<CreateTime>{create_time}</CreateTime>"
        "<MsgType><![CDATA[text]]></MsgType>"
        f"<Content>{cdata(content)}</Content>"
        "</xml>"
    )


def parse_fields(xml_text: str) -> dict[str, str]:
    """The `<xml>` root's children as strings.

    Raises:
        WechatRejected: 400 for anything but a flat `<xml>` of unique, text-only fields.
    """
    if "<!DOCTYPE" in xml_text.upper() or "<!ENTITY" in xml_text.upper():
        raise WechatRejected(400, "dtd")
    try:
        # xmltodict >= 1.0 refuses entity declarations (XXE, billion laughs) by default.
        root = xmltodict.parse(xml_text, disable_entities=True)
    except Exception as exc:  # expat errors, ValueError from the entity guard, …
        raise WechatRejected(400, "xml") from exc
    if not isinstance(root, dict) or set(root) != {"xml"} or not isinstance(root["xml"], dict):
        raise WechatRejected(400, "root")
    fields: dict[str, str] = {}
    for name, value in root["xml"].items():
        if value is None:
            value = ""
        # Duplicated tags come back as lists, nested ones as dicts, attributes as dicts: refuse.
        if not isinstance(value, str):
            raise WechatRejected(400, f"field:{name}")
        fields[name] = value
    return fields


class CallbackHandler:
    """Handles `GET`/`POST /api/v1/wx/portal/{appid}` for one configured account.

    Args:
        settings: token, appid, original id, AES key and mode, site name.
        clock: epoch seconds; injectable so tests can replay stale pushes.
        ledger: where used signed URLs are recorded; from the settings when omitted.
    """

    def __init__(
        self,
        settings: Settings,
        clock: Callable[[], float] = time.time,
        ledger: NonceLedger | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.ledger = ledger or make_ledger(settings, clock)
        self._crypto: WeChatCrypto | None = None
        if settings.wechat_aes_key:
            self._crypto = WeChatCrypto(
                settings.wechat_token, settings.wechat_aes_key, settings.wechat_appid
            )

    def now(self) -> datetime:
        """The injected clock as aware UTC (how rows store time)."""
        return datetime.fromtimestamp(self.clock(), UTC)

    def check_request(self, *, appid: str, params: Mapping[str, str]) -> None:
        """Checks the path's appid and the URL signature (every request, every mode).

        Raises:
            WechatRejected: 403.
        """
        if not self.settings.wechat_configured or not hmac.compare_digest(
            appid.encode(), self.settings.wechat_appid.encode()
        ):
            raise WechatRejected(403, "appid")
        signature = params.get("signature", "")
        timestamp = params.get("timestamp", "")
        nonce = params.get("nonce", "")
        if not (signature and timestamp and nonce) or len(nonce) > 64 or len(timestamp) > 16:
            raise WechatRejected(403, "signature")
        expected = sign(self.settings.wechat_token, timestamp, nonce)
        if not hmac.compare_digest(expected.encode(), signature.encode()):
            raise WechatRejected(403, "signature")
        try:
            stamp = int(timestamp)
        except ValueError as exc:
            raise WechatRejected(403, "timestamp") from exc
        if abs(self.clock() - stamp) > MAX_CLOCK_SKEW_S:
            raise WechatRejected(403, "stale")

    def verify_url(self, *, appid: str, params: Mapping[str, str]) -> str:
        """The `echostr` to echo back when WeChat verifies the server URL.

        Raises:
            WechatRejected: 403 for a wrong appid or signature.
        """
        # URL verification is not replayable to any effect, but the signature still must match.
        self.check_request(appid=appid, params=params)
        echostr = params.get("echostr", "")
        if not echostr or len(echostr) > 256:
            raise WechatRejected(400, "echostr")
        return echostr

    def handle_push(self, *, appid: str, params: Mapping[str, str], body: bytes) -> str:
        """Answers one push; returns the (possibly encrypted) reply XML or "success".

        Synchronous (SQLite + AES): the route runs it with `asyncio.to_thread`.

        Raises:
            WechatRejected: 4xx for anything we refuse.
            SQLAlchemyError, RedisError: the database or Redis is down (the route answers 503).
        """
        self.check_request(appid=appid, params=params)
        if len(body) > MAX_BODY_BYTES:
            raise WechatRejected(413, "too_large")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise WechatRejected(400, "encoding") from exc
        encrypted = params.get("encrypt_type", "raw").lower() == "aes"
        mode = self.settings.wechat_mode
        if encrypted and (mode == "plain" or self._crypto is None):
            raise WechatRejected(400, "unexpected_encryption")
        if not encrypted and mode in {"safe", "compat"}:
            raise WechatRejected(400, f"plaintext_in_{mode}_mode")
        if encrypted:
            text = self._decrypt(text, params)
        incoming = self._incoming(text)
        original = self.settings.wechat_original_id
        if original and not hmac.compare_digest(incoming.to_user.encode(), original.encode()):
            raise WechatRejected(403, "to_user")
        # Recorded only once the push is otherwise valid: WeChat's own request always comes
        # first, and a push refused above (or during an outage) may be retried with its URL.
        if not self.ledger.claim(
            timestamp=params["timestamp"],
            nonce=params["nonce"],
            fingerprint=fingerprint(params, body),
        ):
            raise WechatRejected(403, "replayed_url")
        reply = self._reply_once(incoming)
        if encrypted and reply != "success":
            assert self._crypto is not None
            return self._crypto.encrypt_message(reply, secrets.token_hex(8), str(int(self.clock())))
        return reply

    def _decrypt(self, text: str, params: Mapping[str, str]) -> str:
        outer = parse_fields(text)
        encrypt = outer.get("Encrypt", "")
        msg_signature = params.get("msg_signature", "")
        if not encrypt or not msg_signature:
            raise WechatRejected(400, "encrypt_fields")
        expected = sign(
            self.settings.wechat_token,
            params.get("timestamp", ""),
            params.get("nonce", ""),
            encrypt,
        )
        if not hmac.compare_digest(expected.encode(), msg_signature.encode()):
            raise WechatRejected(403, "msg_signature")
        assert self._crypto is not None
        try:
            plain = self._crypto.decrypt_message(
                {"Encrypt": encrypt}, msg_signature, params["timestamp"], params["nonce"]
            )
        except Exception as exc:  # bad base64, padding, appid, length: all "not from WeChat"
            raise WechatRejected(400, "decrypt") from exc
        if not isinstance(plain, str) or len(plain) > MAX_BODY_BYTES:
            raise WechatRejected(400, "decrypt")
        return plain

    def _incoming(self, text: str) -> Incoming:
        fields = parse_fields(text)
        for required in ("ToUserName", "FromUserName", "CreateTime", "MsgType"):
            if not fields.get(required):
                raise WechatRejected(400, f"missing:{required}")
        if not _is_number(fields["CreateTime"]) or (
            "MsgId" in fields and not _is_number(fields["MsgId"])
        ):
            raise WechatRejected(400, "number")
        try:
            message = parse_message(text)
        except Exception as exc:  # wechatpy's field converters raise on junk (e.g. CreateTime)
            raise WechatRejected(400, "message") from exc
        if message is None:
            raise WechatRejected(400, "message")
        return Incoming(
            msg_type=fields["MsgType"].lower(),
            from_user=fields["FromUserName"][:128],
            to_user=fields["ToUserName"],
            create_time=fields["CreateTime"],
            content=fields.get("Content", ""),
            event=fields.get("Event", "").lower(),
            event_key=fields.get("EventKey", ""),
            msg_id=fields.get("MsgId", ""),
        )

    def _reply_once(self, incoming: Incoming) -> str:
        key = incoming.dedup_key
        now = self.now()
        with session_scope() as session:
            seen = session.get(WechatPush, key)
            if seen is not None:
                return sessions.unseal(self.settings, _REPLY_PURPOSE, seen.reply) or "success"
            reply = self._answer(session, incoming, now)
            session.execute(delete(WechatPush).where(col(WechatPush.created_at) < now - DEDUP_KEEP))
        # The first answer is stored in its own transaction: a concurrent retry that raced us
        # loses the insert and returns the stored reply instead of a different one.
        try:
            with session_scope() as session:
                sealed = sessions.seal(self.settings, _REPLY_PURPOSE, reply)
                session.add(WechatPush(dedup_key=key, reply=sealed, created_at=now))
        except IntegrityError:
            with session_scope() as session:
                seen = session.get(WechatPush, key)
                if seen is not None:
                    return sessions.unseal(self.settings, _REPLY_PURPOSE, seen.reply) or reply
        return reply

    def _answer(self, session: Session, incoming: Incoming, now: datetime) -> str:
        settings = self.settings
        content: str | None
        if incoming.msg_type == "text":
            word = incoming.content.strip().casefold()
            if word in {k.casefold() for k in settings.wechat_keywords}:
                content = self._code_text(session, incoming.from_user, now)
            else:
                content = help_text(settings)
        elif incoming.msg_type == "event":
            content = self._event(session, incoming, now)
        else:
            content = help_text(settings)
        if content is None:
            return "success"
        return render_text_reply(
            to_user=incoming.from_user,
            from_user=incoming.to_user,
            content=content,
            create_time=int(self.clock()),
        )

    def _event(self, session: Session, incoming: Incoming, now: datetime) -> str | None:
        settings = self.settings
        if incoming.event not in {"subscribe", "scan"}:
            return None  # unsubscribe, menu clicks, location…: nothing to say
        ticket_id = accounts.ticket_id_from_scene(incoming.event_key)
        if ticket_id is not None:
            ok = accounts.confirm_login_ticket(
                session, ticket_id=ticket_id, openid=incoming.from_user, now=now
            )
            if ok:
                return (
                    f"您已成功登录 {settings.site_name}（{settings.public_url}）。"
                    "如非本人操作，请在网页上选择「退出所有设备」。"
                )
            return "二维码已过期或已被使用，请在网页上刷新二维码后重新扫码。"
        if incoming.event == "subscribe":
            welcome = f"感谢关注 {settings.site_name}！\n\n"
            return welcome + self._code_text(session, incoming.from_user, now)
        return help_text(settings)

    def _code_text(self, session: Session, openid: str, now: datetime) -> str:
        code = accounts.issue_login_code(session, settings=self.settings, openid=openid, now=now)
        return code_text(self.settings, code)


def _is_number(value: str) -> bool:
    return 0 < len(value) <= 20 and value.isascii() and value.isdigit()


def code_text(settings: Settings, code: str) -> str:
    """The Chinese reply that carries a login code and says how to use it."""
    return (
        f"您的登录验证码：{code}\n\n"
        f"请在 5 分钟内打开 {settings.public_url}/login ，输入验证码完成登录。"
        "验证码仅可使用一次，请勿告诉他人。"
    )


def help_text(settings: Settings) -> str:
    """The short help for anything we don't understand."""
    words = "」或「".join(settings.wechat_keywords[:2]) or "登录"
    return f"发送「{words}」获取 {settings.site_name} 的登录验证码。"
