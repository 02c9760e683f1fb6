"""Authentication state: who is logged in in this browser, and the login page's handlers.

Contract other states rely on:
- `await (await self.get_state(AuthState)).current_user_id()` → the logged-in user's id or None,
  re-checked (signature and expiry on every call; the AuthSession row not revoked at most
  `session_cache.TTL_S` ago in this process, and at once after a logout handled here);
- `AuthState.require_login` as a page `on_load` guard (redirects to `/login?next=<path>`);
- `AuthState.logout` (this browser) and `AuthState.logout_everywhere` (every session of the user).

The session token is in the `chatapp_session` cookie, which is HttpOnly: the page's JavaScript can
neither read nor write it (`chatapp.auth.session_cookie`). This state reads it on the server, from the
websocket's handshake headers (`self.router.headers.cookie`), so it is the cookie of *this*
connection whatever a client sends in its events. Logging in ends with a navigation to our own
route that sets it (`chatapp.auth.handoff`); logging out with one to the route that clears it. Either
way the page reloads and its new websocket carries the new cookie. Handlers stay thin: they call
`auth.login` and `auth.accounts`, which own the rules.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from typing import Any
from urllib.parse import quote

import reflex as rx

from chatapp.auth import avatar, handoff, login, session_cache, session_cookie, sessions, simulator
from chatapp.auth.accounts import CODE_LENGTH
from chatapp.auth.ratelimit import LoginLocked, get_guard
from chatapp.auth.wechat_api import WechatApiError, get_api
from chatapp.core import timefmt
from chatapp.core.config import Settings, get_settings
from chatapp.core.db import session_scope
from chatapp.core.unavailable import OUTAGES, reason
from chatapp.errors import AuthError, InvalidInput, user_message
from chatapp.i18n import translate
from chatapp.state.ui import UIState

SESSION_COOKIE = session_cookie.NAME
SCAN_WAIT_S = 300
SCAN_POLL_S = 1.0
safe_next = handoff.safe_next


def only_digits(value: str) -> str:
    """The digits of what was typed (full-width ones normalised), at most a code's length."""
    digits = re.sub(r"\D", "", value.translate(str.maketrans("０１２３４５６７８９", "0123456789")))
    return digits[:CODE_LENGTH]


def go(url: str) -> rx.event.EventSpec:
    """A full navigation (not the client-side router): our HTTP routes must see the request, and
    the next page's websocket must carry the cookie they set."""
    return rx.call_script(f"window.location.replace({json.dumps(url)})")


def page_options(settings: Settings) -> dict[str, Any]:
    """What the login page offers under these settings (LoginState's `login_mode`, `account_qr`
    and `dev_mode`)."""
    return {
        "login_mode": settings.wechat_login,
        "account_qr": settings.wechat_qr_image,
        "dev_mode": settings.is_dev,
    }


def _verify(token: str) -> sessions.SessionUser:
    # On the event loop, not in a worker thread: one short indexed query, and measured at 300
    # streams a thread hop per check cost more (GIL hand-offs, the pool's queue) than it saved.
    with session_scope() as session:
        return sessions.verify_session_user(session, settings=get_settings(), token=token)


class AuthState(rx.State):
    """Who is logged in in this browser."""

    nickname: str = ""
    avatar: str = ""
    is_admin: bool = False

    @rx.var
    def avatar_text(self) -> str:
        """The letter avatar's text (not 「微」 for everyone: see `chatapp.auth.avatar`)."""
        return avatar.avatar_text(self.nickname)

    @rx.var
    def avatar_colour(self) -> str:
        """The letter avatar's background, distinct per nickname."""
        return avatar.avatar_colour(self.nickname)

    def _session_token(self) -> str:
        return session_cookie.read(self.router.headers.cookie)

    async def current_user_id(self) -> int | None:
        """The logged-in user's id, verified against the sessions table (at most every
        `session_cache.TTL_S` per token in this process)."""
        token = self._session_token()
        if not token:
            return None
        who = session_cache.get(token)
        if who is None:
            try:
                who = _verify(token)
            except AuthError:
                return None
            session_cache.put(token, who)
        name, avatar, admin = who.nickname, who.avatar, who.is_admin
        claims = who.claims
        # Times this event formats (list, bubbles) show in the browser's zone (core/timefmt).
        timefmt.use_zone((await self.get_state(UIState)).tz)
        # Assign only on change: callers in background tasks hold the lock, but why dirty vars.
        if self.nickname != name:
            self.nickname = name
        if self.avatar != avatar:
            self.avatar = avatar
        if self.is_admin != admin:
            self.is_admin = admin
        return claims.user_id

    @rx.event
    async def require_login(self):
        """Page guard: redirects to the login page (keeping `next`) when nobody is logged in."""
        if await self.current_user_id() is None:
            path = self.router.url.path or "/"
            if self.router.url.query:
                path += "?" + self.router.url.query
            return rx.redirect(f"/login?next={quote(safe_next(path), safe='')}")

    def _claims(self) -> sessions.Claims | None:
        """The session token's verified claims (signature and expiry; no query), or None."""
        try:
            return sessions.decode_token(self._session_token(), settings=get_settings())
        except AuthError:
            return None

    def _forget(self) -> None:
        self.nickname = ""
        self.avatar = ""
        self.is_admin = False

    @rx.event
    def logout(self):
        """Ends this browser's session (revokes its token) and clears the cookie."""
        token = self._session_token()
        claims = self._claims()
        if claims is not None:
            with session_scope() as session:
                sessions.revoke_session(session, jti=claims.jti)
        session_cache.forget(token=token)
        self._forget()
        return go(handoff.CLEAR_PATH)

    @rx.event
    async def logout_everywhere(self):
        """Revokes every session of the logged-in user, on all devices."""
        user_id = await self.current_user_id()
        if user_id is not None:
            with session_scope() as session:
                sessions.revoke_all_sessions(session, user_id=user_id)
            session_cache.forget(user_id=user_id)
        self._forget()
        return go(handoff.CLEAR_PATH)


class LoginState(AuthState):
    """The login page: code entry, the dev WeChat simulator, and scan-to-login."""

    code: str = ""
    error: str = ""
    busy: bool = False
    next_path: str = "/"
    # Dev simulator.
    sim_openid: str = simulator.DEV_OPENIDS[0]
    sim_reply: str = ""
    sim_code: str = ""
    # Scan login: "" (off) | loading | waiting | expired | error
    scan_status: str = ""
    qr_url: str = ""
    _ticket_id: str = ""
    # What the page offers, from the settings of the running server (not of the build: the Docker
    # image compiles its pages once, and WECHAT_LOGIN / WECHAT_QR_IMAGE are set where it runs).
    login_mode: str = "code"  # code | scan | both
    # This browser's session was revoked elsewhere (not a first visit, not its own logout).
    signed_out_elsewhere: bool = False

    def _revoked(self) -> bool:
        token = self._session_token()
        if not token:
            return False
        try:
            _verify(token)
        except AuthError as exc:
            return bool(exc.args) and exc.args[0] == "revoked"
        return False

    account_qr: str = ""
    dev_mode: bool = False

    async def _text(self, key: str) -> str:
        return translate(key, (await self.get_state(UIState)).lang)

    @rx.event
    async def on_load(self):
        """Resets the page; a browser that is already logged in goes straight on."""
        self.next_path = safe_next(self.router.url.query_parameters.get("next", "/"))
        self.error = ""
        self.code = ""
        settings = get_settings()
        for name, value in page_options(settings).items():
            setattr(self, name, value)
        if await self.current_user_id() is not None:
            return rx.redirect(self.next_path)
        # A cookie whose session was revoked: 退出所有设备 on another device (or by an admin).
        self.signed_out_elsewhere = self._revoked()
        if settings.wechat_login in {"scan", "both"}:
            return LoginState.start_scan

    @rx.event
    def set_code(self, value: str):
        """Keeps only digits, at most 8 (full-width digits are normalised)."""
        self.code = only_digits(value)
        self.error = ""

    @rx.event
    async def submit_code(self, form: dict | None = None):
        """Logs in with the code the user typed.

        Args:
            form: the submitted form; its `code` wins over the (debounced) `code` var, so an Enter
                pressed right after typing submits what is in the box.
        """
        if self.busy:
            return
        submitted = (form or {}).get("code")
        if isinstance(submitted, str) and submitted:
            self.code = only_digits(submitted)
        settings = get_settings()
        self.busy = True
        try:
            secret = await login.submit_code_handoff(
                settings=settings,
                guard=get_guard(settings),
                code=self.code,
                # One browser tab's attempt: the Reflex client token survives reloads of the tab.
                # It only words "N tries left" for this tab; the limits that stop guessing are
                # keyed by what the server sees (the address, the codes themselves).
                attempt_id="page:" + (self.router.session.client_token or "anon"),
                ip=self.router.session.client_ip or "unknown",
            )
        except LoginLocked as exc:
            if exc.reason == "locked":
                text = await self._text("login.error.locked")
                self.error = text.format(minutes=exc.retry_after_minutes)
            else:
                self.error = await self._text("login.error.rate_limited")
            return
        except InvalidInput as exc:
            key = "login.error.expired" if exc.reason == "expired_code" else "login.error.malformed"
            self.error = await self._text(key)
            return
        except AuthError:
            self.error = await self._text("login.error.wrong")
            return
        except OUTAGES as exc:
            self.error = await self._outage_text(exc)
            return
        finally:
            self.busy = False
        self.error = ""
        return go(handoff.url(secret, self.next_path))

    async def _outage_text(self, exc: Exception) -> str:
        lang = (await self.get_state(UIState)).lang
        return user_message("database" if reason(exc) == "database" else "internal", lang)

    @rx.event
    def set_sim_openid(self, value: str):
        """The test openid the simulator speaks for."""
        self.sim_openid = value.strip()[:64]

    @rx.event
    async def simulate(self):
        """Dev only: a simulated WeChat user sends "登录" to our real callback over HTTP."""
        settings = get_settings()
        if not settings.is_dev:
            return
        self.sim_reply = ""
        self.sim_code = ""
        openid = self.sim_openid or simulator.DEV_OPENIDS[0]
        reply = ""
        for base in _backend_urls(settings.public_url):
            try:
                reply = await simulator.send_text(settings, base_url=base, openid=openid)
                break
            # bandit B112: try the next address; failure shown below
            except Exception:  # noqa: S112  # nosec B112
                continue
        if not reply:
            self.sim_reply = await self._text("login.simulator.failed")
            return
        self.sim_reply = reply
        match = re.search(r"\d{8}", reply)
        self.sim_code = match.group(0) if match else ""

    @rx.event
    def fill_code(self):
        """Dev only: copies the simulator's code into the input."""
        if get_settings().is_dev:
            self.code = self.sim_code
            self.error = ""

    @rx.event(background=True)
    async def start_scan(self):
        """Scan login: asks WeChat for a QR code, then waits (server-side) for the scan.

        One background loop per page, checking the database every second for up to 5 minutes, so
        the browser does not poll; when the scan is confirmed this tab (and only this tab) logs in.
        Refused unless WECHAT_LOGIN is scan or both: any client can send this event, and each
        one costs a call to the WeChat API.
        """
        settings = get_settings()
        if settings.wechat_login not in {"scan", "both"}:
            return
        async with self:
            if self.scan_status == "loading":
                return
            self.scan_status = "loading"
            self.qr_url = ""
            self._ticket_id = ""
            ip = self.router.session.client_ip or ""
        try:
            await get_guard(settings).check_qrcode(ip=ip or "unknown")
            ticket_id, qr_url = await login.begin_scan_login(api=get_api(settings))
        except (WechatApiError, LoginLocked, *OUTAGES):
            async with self:
                self.scan_status = "error"
            return
        async with self:
            self._ticket_id = ticket_id
            self.qr_url = qr_url
            self.scan_status = "waiting"
            target = self.next_path
        deadline = time.monotonic() + SCAN_WAIT_S
        while time.monotonic() < deadline:
            await asyncio.sleep(SCAN_POLL_S)
            async with self:
                if self._ticket_id != ticket_id:
                    return  # a newer QR code replaced this one
            try:
                secret = await asyncio.to_thread(
                    login.scan_handoff, settings=settings, ticket_id=ticket_id
                )
            except OUTAGES:
                continue  # the database is back within the wait, or the QR code expires
            if secret is not None:
                async with self:
                    self._ticket_id = ""
                    self.scan_status = ""
                yield go(handoff.url(secret, target))
                return
        async with self:
            if self._ticket_id == ticket_id:
                self.scan_status = "expired"
                self._ticket_id = ""


def _backend_urls(public_url: str) -> list[str]:
    """Where our own callback answers: PUBLIC_URL first, then Reflex's backend address."""
    urls = [public_url]
    try:
        api_url = rx.config.get_config().api_url
    except Exception:  # pragma: no cover - no rxconfig (unit tests)
        api_url = ""
    if api_url and api_url.rstrip("/") != public_url.rstrip("/"):
        urls.append(api_url.rstrip("/"))
    return urls
