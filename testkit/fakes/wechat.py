"""Test doubles for WeChat: a fake Official Account API, hostile pushes, a login through WeChat.

- `FakeWechatApi`: `/cgi-bin/stable_token` and `/cgi-bin/qrcode/create`, recording every request
  (so tests assert "the token was fetched once"), with an optional delay to make callers overlap.
- `WechatSimulator`: sends honest or hostile pushes to our callback, like WeChat's servers would.
- `dev_login`: a session token through the real code flow of a dev-mode app.

Serve `FakeWechatApi().app()` with `testkit.net.serve`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from chatapp.auth import simulator
from chatapp.core.config import Settings


@dataclass
class FakeWechatApi:
    """A fake api.weixin.qq.com that records what it was asked."""

    delay_s: float = 0.0
    token_requests: list[dict] = field(default_factory=list)
    qrcode_requests: list[dict] = field(default_factory=list)
    expire_next_token: bool = False
    qrcode_error: dict | None = None
    issued: int = 0

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/cgi-bin/stable_token")
        async def stable_token(request: Request):
            self.token_requests.append(await request.json())
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            self.issued += 1
            return {"access_token": f"TOKEN-{self.issued}", "expires_in": 7200}

        @app.post("/cgi-bin/qrcode/create")
        async def qrcode_create(request: Request):
            body = await request.json()
            token = request.query_params.get("access_token", "")
            self.qrcode_requests.append({"token": token, **body})
            if self.expire_next_token:
                self.expire_next_token = False
                return JSONResponse({"errcode": 42001, "errmsg": "access_token expired"})
            if self.qrcode_error:
                return JSONResponse(self.qrcode_error)
            scene = body["action_info"]["scene"]["scene_str"]
            return {
                "ticket": f"TICKET+{scene}/=",
                "expire_seconds": body["expire_seconds"],
                "url": "http://weixin.qq.com/q/fake",
            }

        return app


class WechatSimulator:
    """Plays WeChat's servers against our callback at `base_url`."""

    def __init__(self, settings: Settings, base_url: str) -> None:
        self.settings = settings
        self.base_url = base_url
        self.url = simulator.portal_url(base_url, settings)

    def post_raw(
        self, params: dict[str, str], body: bytes, *, url: str | None = None
    ) -> httpx.Response:
        return httpx.post(
            url or self.url,
            params=params,
            content=body,
            headers={"Content-Type": "text/xml"},
            timeout=10,
        )

    def push(self, xml: str, *, timestamp: int | None = None, encrypt: bool | None = None):
        params, body = simulator.signed_request(
            self.settings, xml, timestamp=timestamp, encrypt=encrypt
        )
        return self.post_raw(params, body)

    def text(self, openid: str, content: str, **kw) -> httpx.Response:
        return self.push(simulator.text_push(self.settings, openid=openid, content=content, **kw))

    def event(self, openid: str, event: str, event_key: str = "", **kw) -> httpx.Response:
        return self.push(
            simulator.event_push(
                self.settings, openid=openid, event=event, event_key=event_key, **kw
            )
        )

    def reply(self, response: httpx.Response) -> dict[str, str]:
        assert response.status_code == 200, (response.status_code, response.text)
        return simulator.read_reply(self.settings, response.text)

    def signed_body(self, body: bytes, *, timestamp: int | None = None) -> httpx.Response:
        """Raw bytes with a valid URL signature (plain mode): for parser-level hostility."""
        params, _ = simulator.signed_request(self.settings, "", timestamp=timestamp, encrypt=False)
        if self.settings.wechat_mode == "safe":
            params["encrypt_type"] = "raw"
        return self.post_raw(params, body)


def dev_login(base_url: str, openid: str = "o_e2e_user") -> str:
    """A session token for `openid` on a dev-mode app, through the real WeChat code flow.

    The dev simulator route sends a signed "登录" push to the app's own callback; the code in the
    reply is redeemed at `/api/v1/auth/login`. Browser tests put the token in the session cookie.
    """
    import re

    sim = httpx.post(f"{base_url}/api/v1/dev/wx/simulate", data={"openid": openid}, timeout=30)
    sim.raise_for_status()
    match = re.search(r"\d{8}", sim.json()["data"])
    if match is None:
        raise RuntimeError(f"no login code in the simulator's reply: {sim.text}")
    login = httpx.post(f"{base_url}/api/v1/auth/login", data={"code": match.group(0)}, timeout=30)
    login.raise_for_status()
    return login.json()["data"]
