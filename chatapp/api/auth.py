"""The auth routes, and how every route of ours answers while the database or Redis is down.

    POST /api/v1/auth/login           form `code` → {"code": "0000", "info": "成功", "data": jwt}
    GET  /api/v1/auth/verify          session cookie or Bearer token → 200 / 401 (nginx auth_request)
    POST /api/v1/auth/logout          revokes the presented token (and clears the cookie)
    GET  /api/v1/auth/session         ?ticket=&next= the login page's handoff → HttpOnly cookie, 303
    GET  /api/v1/auth/session/clear   removes the cookie (after a logout on the page), 303 /login

The JSON envelope is the original project's: code "0000" success, "0002" invalid argument (400),
"0003" not allowed (401, or 429 when locked/rate-limited), "0001" unavailable (503, with `reason`
"database" or "redis" and a message). The two `session` routes are browser navigations and answer
short bilingual HTML pages instead.
"""

from __future__ import annotations

import hashlib
import logging

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse
from starlette.responses import Response

from chatapp.api.forms import BadForm, client_ip, read_form
from chatapp.auth import handoff, login, session_cache, session_cookie, sessions
from chatapp.auth.ratelimit import LoginGuard, LoginLocked
from chatapp.core import unavailable
from chatapp.core.config import Settings
from chatapp.core.db import session_scope
from chatapp.errors import AuthError, InvalidInput

log = logging.getLogger("chatapp.api.auth")

OK = {"code": "0000", "info": "成功"}
ILLEGAL = {"code": "0002", "info": "非法参数"}
DENIED = {"code": "0003", "info": "权限拦截"}
UNAVAILABLE = {"code": "0001", "info": "服务暂不可用"}
RETRY_AFTER_S = 5


def bearer_or_cookie(request: Request) -> str:
    """The session token from `Authorization: Bearer …` or the session cookie."""
    auth = request.headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    return request.cookies.get(session_cookie.NAME, "")


def locked_response(exc: LoginLocked) -> JSONResponse:
    """429 in the envelope, with Retry-After."""
    if exc.reason == "locked":
        message = f"验证码错误次数过多，请 {exc.retry_after_minutes} 分钟后再试"
    else:
        message = "请求过于频繁，请稍后再试"
    return JSONResponse(
        {**DENIED, "message": message, "retry_after": exc.retry_after_s},
        status_code=429,
        headers={"Retry-After": str(exc.retry_after_s)},
    )


def _page(status: int, zh: str, en: str) -> HTMLResponse:
    body = (
        '<!doctype html><html lang="zh"><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1"><title>chatapp</title>'
        f'<p id="auth-message">{zh}</p><p>{en}</p>'
        '<p><a href="/login">返回登录 / Back to login</a></p></html>'
    )
    return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


def add_outage_handlers(app: FastAPI) -> None:
    """Every route of `app` answers 503 with a reason while the database or Redis is down: JSON
    for the API, plain text for WeChat, a page for browser navigations."""

    async def outage(request: Request, exc: Exception) -> Response:
        why = unavailable.reason(exc) or "database"
        log.warning("%s unavailable: %s %s", why, request.method, request.url.path)
        headers = {"Retry-After": str(RETRY_AFTER_S)}
        path = request.url.path
        if path.startswith("/api/v1/wx/"):
            return PlainTextResponse(f"{why}_unavailable", status_code=503, headers=headers)
        if path.startswith(handoff.PATH):
            zh, _, en = unavailable.MESSAGES[why].partition(" / ")
            page = _page(503, zh, en)
            page.headers.update(headers)
            return page
        return JSONResponse(
            {**UNAVAILABLE, "reason": why, "message": unavailable.MESSAGES[why]},
            status_code=503,
            headers=headers,
        )

    for kind in unavailable.OUTAGES:
        app.add_exception_handler(kind, outage)


def add_auth_routes(app: FastAPI, settings: Settings, guard: LoginGuard) -> None:
    """Adds the routes listed in the module docstring."""

    @app.post("/api/v1/auth/login")
    async def auth_login(request: Request) -> Response:
        ip = client_ip(request)
        try:
            form = await read_form(request)
        except BadForm:
            return JSONResponse(ILLEGAL, status_code=400)
        ua = request.headers.get("user-agent", "")
        # The attempt is derived here, never taken from the client: a client-chosen id would let
        # a guesser start a fresh attempt per request (the per-IP limits bound that anyway).
        attempt = hashlib.sha256(f"{ip}|{ua}".encode()).hexdigest()
        try:
            _user, token = await login.submit_code(
                settings=settings,
                guard=guard,
                code=form.get("code", ""),
                attempt_id="api:" + attempt,
                ip=ip,
                user_agent=ua,
            )
        except LoginLocked as exc:
            return locked_response(exc)
        except InvalidInput:
            return JSONResponse(ILLEGAL, status_code=400)
        except AuthError:
            return JSONResponse(DENIED, status_code=401)
        return JSONResponse({**OK, "data": token})

    @app.get("/api/v1/auth/verify")
    async def auth_verify(request: Request) -> Response:
        token = bearer_or_cookie(request)
        try:
            with session_scope() as session:
                claims = sessions.verify_session(session, settings=settings, token=token)
        except AuthError:
            # Counted only for tokens that failed: a valid token is never refused.
            lock = await guard.verify_failed(ip=client_ip(request))
            if lock is not None:
                return locked_response(lock)
            return JSONResponse(DENIED, status_code=401)
        return JSONResponse({**OK, "data": str(claims.user_id)})

    @app.post("/api/v1/auth/logout")
    async def auth_logout(request: Request) -> Response:
        token = bearer_or_cookie(request)
        try:
            with session_scope() as session:
                claims = sessions.verify_session(session, settings=settings, token=token)
                sessions.revoke_session(session, jti=claims.jti)
        except AuthError:
            return JSONResponse(DENIED, status_code=401)
        session_cache.forget(token=token)  # this process's pages see the logout at once
        response = JSONResponse(OK)
        session_cookie.clear_on(response, settings=settings)
        return response

    @app.get(handoff.PATH)
    async def auth_session(request: Request) -> Response:
        # Login CSRF: a link on another site must not log this browser into someone's account.
        # The page's own navigation is same-origin; a typed or pasted URL is "none".
        if request.headers.get("sec-fetch-site", "") in {"cross-site", "same-site"}:
            return _page(
                403, "请从本站的登录页登录。", "Please log in from this site's login page."
            )
        with session_scope() as session:
            result = handoff.redeem(
                session,
                settings=settings,
                secret=request.query_params.get("ticket", ""),
                user_agent=request.headers.get("user-agent", ""),
                ip=client_ip(request),
            )
        if result is None:
            return _page(
                400,
                "登录链接已失效或已被使用，请重新登录。",
                "This login link has expired or was already used. Please log in again.",
            )
        next_path = handoff.safe_next(request.query_params.get("next", "/"))
        response = RedirectResponse(next_path, status_code=303)
        response.headers["Cache-Control"] = "no-store"
        session_cookie.set_on(response, settings=settings, token=result[1])
        return response

    @app.get(handoff.CLEAR_PATH)
    async def auth_session_clear() -> Response:
        # Removing a cookie needs no proof of anything; the session itself was revoked by the
        # page's logout handler before it sent the browser here.
        response = RedirectResponse("/login", status_code=303)
        response.headers["Cache-Control"] = "no-store"
        session_cookie.clear_on(response, settings=settings)
        return response
