"""The Official Account HTTP API over httpx (async): access_token and temporary QR codes.

wechatpy's client is synchronous, has no timeouts and does not guard token refreshes, so we call the
two endpoints we need ourselves:

- `POST /cgi-bin/stable_token`: the access token, cached until shortly before it expires. One
  refresh serves every concurrent caller (an asyncio lock with a re-check inside it), because
  WeChat limits token requests per day and a refresh storm could lock the account out.
- `POST /cgi-bin/qrcode/create`: a temporary QR_STR_SCENE code for scan-to-login.

Errors: `WechatApiError` (any errcode, HTTP error, timeout or junk body). The HTTP client is
injected so tests point it at a fake server on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from urllib.parse import quote

import httpx

from chatapp.core.config import DEFAULT_WECHAT_API_BASE, Settings

# Refresh this long before WeChat's expiry, so a token never dies in flight.
REFRESH_MARGIN_S = 300
# errcodes meaning "this access_token is invalid/expired": refresh once and retry.
_TOKEN_ERRORS = {40001, 40014, 42001}


class WechatApiError(Exception):
    """The Official Account API failed; `errcode` is WeChat's code (or -1 for transport errors)."""

    def __init__(self, errcode: int, message: str) -> None:
        super().__init__(f"wechat api error {errcode}: {message}")
        self.errcode = errcode


class WechatApi:
    """A small async client for the Official Account API.

    Args:
        settings: appid, appsecret and API base URL.
        client: the shared `httpx.AsyncClient` (timeouts set by the caller).
        clock: monotonic-ish seconds, injectable for cache-expiry tests.
    """

    def __init__(
        self,
        settings: Settings,
        client: httpx.AsyncClient,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.client = client
        self.clock = clock
        # bandit B105: empty until fetched
        self._token = ""  # nosec B105
        self._expires_at = 0.0
        self._lock = asyncio.Lock()
        self.refreshes = 0

    async def access_token(self, *, force: bool = False) -> str:
        """A valid access token, fetched at most once for any number of concurrent callers."""
        stale = self._token
        if self._token and not force and self.clock() < self._expires_at:
            return self._token
        async with self._lock:
            # Someone else refreshed while we waited: use theirs.
            if self._token and self._token != stale and self.clock() < self._expires_at:
                return self._token
            if self._token and not force and self.clock() < self._expires_at:
                return self._token
            data = await self._post(
                "/cgi-bin/stable_token",
                json={
                    "grant_type": "client_credential",
                    "appid": self.settings.wechat_appid,
                    "secret": self.settings.wechat_appsecret,
                    "force_refresh": False,
                },
            )
            token = data.get("access_token")
            expires_in = data.get("expires_in", 7200)
            if not isinstance(token, str) or not token or not isinstance(expires_in, int):
                raise WechatApiError(-1, "no access_token in response")
            self._token = token
            self._expires_at = self.clock() + max(60, expires_in - REFRESH_MARGIN_S)
            self.refreshes += 1
            return token

    async def create_login_qrcode(self, scene: str, *, expire_seconds: int = 300) -> str:
        """A temporary QR_STR_SCENE code; returns the URL of its image.

        Raises:
            WechatApiError: WeChat refused (e.g. not a verified service account) or was unreachable.
        """
        body = {
            "expire_seconds": expire_seconds,
            "action_name": "QR_STR_SCENE",
            "action_info": {"scene": {"scene_str": scene}},
        }
        for attempt in range(2):
            token = await self.access_token(force=attempt > 0)
            try:
                data = await self._post("/cgi-bin/qrcode/create", json=body, token=token)
            except WechatApiError as exc:
                if exc.errcode in _TOKEN_ERRORS and attempt == 0:
                    continue
                raise
            ticket = data.get("ticket")
            if not isinstance(ticket, str) or not ticket:
                raise WechatApiError(-1, "no ticket in response")
            return self.qrcode_image_url(ticket)
        raise WechatApiError(-1, "access_token refused twice")  # pragma: no cover

    def qrcode_image_url(self, ticket: str) -> str:
        """Where the browser loads the QR image for a ticket."""
        base = self.settings.wechat_api_base
        if base == DEFAULT_WECHAT_API_BASE:
            base = "https://mp.weixin.qq.com"
        return f"{base}/cgi-bin/showqrcode?ticket={quote(ticket, safe='')}"

    async def _post(self, path: str, *, json: dict, token: str | None = None) -> dict:
        params = {"access_token": token} if token else None
        url = self.settings.wechat_api_base + path
        try:
            response = await self.client.post(url, json=json, params=params)
            response.raise_for_status()
            data = response.json()
        except httpx.HTTPError as exc:
            raise WechatApiError(-1, type(exc).__name__) from exc
        except ValueError as exc:
            raise WechatApiError(-1, "response is not JSON") from exc
        if not isinstance(data, dict):
            raise WechatApiError(-1, "response is not an object")
        errcode = data.get("errcode", 0)
        if errcode not in (0, None):
            code = errcode if isinstance(errcode, int) else -1
            raise WechatApiError(code, str(data.get("errmsg", ""))[:200])
        return data


_api: WechatApi | None = None


def get_api(settings: Settings) -> WechatApi:
    """The process-wide client (one token cache per process)."""
    global _api
    if _api is None:
        client = httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=5.0))
        _api = WechatApi(settings, client)
    return _api
