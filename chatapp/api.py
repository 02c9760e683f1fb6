"""HTTP routes mounted on the Reflex app (same port): health, the WeChat callback and the auth API.

    GET  /api/v1/wx/portal/{appid}   WeChat URL verification → echostr (text/plain)
    POST /api/v1/wx/portal/{appid}   WeChat pushes → passive reply XML (or "success")
    POST /api/v1/auth/login          form `code` → {"code": "0000", "info": "成功", "data": jwt}
    GET  /metrics                    Prometheus exposition (chatapp.metrics): METRICS_TOKEN as
                                     Bearer or a METRICS_ALLOW address (loopback), else 401/403
    GET  /api/v1/client-config       what the page's scripts need (image hosts allowed)
    GET  /api/v1/auth/verify         session cookie or Bearer token → 200 / 401 (nginx auth_request)
    POST /api/v1/auth/logout         revokes the presented token
    POST /api/v1/dev/wx/simulate     dev only: the WeChat simulator (absent in prod)

The response envelope of the auth routes is the original project's: code "0000" success, "0002"
invalid argument (400), "0003" not allowed (401, or 429 when locked/rate-limited).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import time
from collections.abc import Callable
from urllib.parse import parse_qs

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from chatapp import accounts, metrics, session_cache, simulator, tokens, web_policy
from chatapp.api_health import add_health_routes
from chatapp.config import Settings
from chatapp.db import session_scope
from chatapp.errors import AuthError, InvalidInput
from chatapp.middleware import ObservabilityMiddleware
from chatapp.ratelimit import LoginGuard, LoginLocked, get_guard
from chatapp.web_policy import SecurityHeadersMiddleware
from chatapp.wechat import MAX_BODY_BYTES, CallbackHandler, WechatRejected

SESSION_COOKIE = "chatapp_session"
MAX_FORM_BYTES = 4096

OK = {"code": "0000", "info": "成功"}
ILLEGAL = {"code": "0002", "info": "非法参数"}
DENIED = {"code": "0003", "info": "权限拦截"}


class _TooLarge(Exception):
    pass


async def read_capped(request: Request, limit: int) -> bytes:
    """The request body, refusing more than `limit` bytes without buffering the excess."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise _TooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def client_ip(request: Request, trusted_proxy_hops: int | None = None) -> str:
    """The client's address, for per-IP rate limits.

    X-Forwarded-For is set by whoever sends the request, so it is read only behind a known number
    of our own proxies (`TRUSTED_PROXY_HOPS`, 1 behind the shipped nginx; the same rule Reflex
    applies to the websocket): the address the last trusted proxy saw.
    """
    hops = trusted_proxy_hops
    if hops is None:
        hops = _proxy_hops()
    peer = request.client.host if request.client else "unknown"
    if hops > 0:
        forwarded = [
            p.strip() for p in request.headers.get("x-forwarded-for", "").split(",") if p.strip()
        ]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return peer


def _proxy_hops() -> int:
    try:
        return max(0, int(os.environ.get("TRUSTED_PROXY_HOPS") or 0))
    except ValueError:
        return 0


def bearer_or_cookie(request: Request) -> str:
    """The session token from `Authorization: Bearer …` or the session cookie."""
    auth = request.headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    return request.cookies.get(SESSION_COOKIE, "")


def _locked(exc: LoginLocked) -> JSONResponse:
    if exc.reason == "locked":
        message = f"验证码错误次数过多，请 {exc.retry_after_minutes} 分钟后再试"
    else:
        message = "请求过于频繁，请稍后再试"
    return JSONResponse(
        {**DENIED, "message": message, "retry_after": exc.retry_after_s},
        status_code=429,
        headers={"Retry-After": str(exc.retry_after_s)},
    )


def build_api(
    settings: Settings,
    *,
    guard: LoginGuard | None = None,
    clock: Callable[[], float] = time.time,
) -> FastAPI:
    """The FastAPI app holding our routes; mount it with `rx.App(api_transformer=...)`.

    Args:
        settings: the validated settings.
        guard: the login rate limiter; the process-wide one when omitted (shared with the page).
        clock: epoch seconds for the callback's timestamp check (tests replay stale pushes).
    """
    app = FastAPI(title="chatapp api", docs_url=None, redoc_url=None, openapi_url=None)
    # Reflex mounts its own app under this one, so the middleware sees every request, `/_event`
    # included: request ids, access log, request/websocket metrics.
    app.add_middleware(ObservabilityMiddleware)
    # Added last, so outermost: error responses of the middleware above carry the headers too.
    app.add_middleware(SecurityHeadersMiddleware, settings=settings)
    add_health_routes(app, settings)

    @app.get("/metrics", include_in_schema=False)
    async def prometheus_metrics(request: Request) -> Response:
        peer = request.client.host if request.client else ""
        status = metrics.scrape_status(
            authorization=request.headers.get("authorization", ""),
            addresses=list(dict.fromkeys([peer, client_ip(request)])),
            token=settings.metrics_token,
            allow=settings.metrics_allow,
        )
        if status != 200:
            headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
            return PlainTextResponse("forbidden", status_code=status, headers=headers)
        body, content_type = metrics.render()
        return Response(body, media_type=content_type)

    @app.get("/api/v1/client-config", include_in_schema=False)
    async def client_config() -> Response:
        return JSONResponse(web_policy.client_config(settings))

    handler = CallbackHandler(settings, clock=clock)
    login_guard = guard or get_guard(settings)

    @app.get("/api/v1/wx/portal/{appid}")
    async def wx_verify(appid: str, request: Request) -> Response:
        try:
            echostr = handler.verify_url(appid=appid, params=dict(request.query_params))
        except WechatRejected as exc:
            return PlainTextResponse("forbidden", status_code=exc.status)
        return PlainTextResponse(echostr)

    @app.post("/api/v1/wx/portal/{appid}")
    async def wx_push(appid: str, request: Request) -> Response:
        params = dict(request.query_params)
        try:
            # Cheap checks first, so unsigned junk never costs a body read or a thread.
            handler.check_request(appid=appid, params=params)
            body = await read_capped(request, MAX_BODY_BYTES)
            reply = await asyncio.to_thread(
                handler.handle_push, appid=appid, params=params, body=body
            )
        except _TooLarge:
            return PlainTextResponse("too large", status_code=413)
        except WechatRejected as exc:
            return PlainTextResponse(exc.reason, status_code=exc.status)
        if reply == "success":
            return PlainTextResponse("success")
        return Response(reply, media_type="application/xml")

    @app.post("/api/v1/auth/login")
    async def auth_login(request: Request) -> Response:
        ip = client_ip(request)
        try:
            form = await read_form(request)
        except _BadForm:
            return JSONResponse(ILLEGAL, status_code=400)
        code = form.get("code", "")
        ua = request.headers.get("user-agent", "")
        # Without a browser attempt id, an API client's attempt is its IP + user agent.
        attempt = form.get("attempt") or hashlib.sha256(f"{ip}|{ua}".encode()).hexdigest()
        try:
            _user, token = await accounts.submit_code(
                settings=settings,
                guard=login_guard,
                code=code,
                attempt_id="api:" + attempt[:128],
                ip=ip,
                user_agent=ua,
            )
        except LoginLocked as exc:
            return _locked(exc)
        except InvalidInput:
            return JSONResponse(ILLEGAL, status_code=400)
        except AuthError:
            return JSONResponse(DENIED, status_code=401)
        return JSONResponse({**OK, "data": token})

    @app.get("/api/v1/auth/verify")
    async def auth_verify(request: Request) -> Response:
        ip = client_ip(request)
        try:
            await login_guard.check_verify(ip=ip)
        except LoginLocked as exc:
            return _locked(exc)
        token = bearer_or_cookie(request)
        try:
            with session_scope() as session:
                claims = tokens.verify_session(session, settings=settings, token=token)
        except AuthError:
            await login_guard.verify_failed(ip=ip)
            return JSONResponse(DENIED, status_code=401)
        return JSONResponse({**OK, "data": str(claims.user_id)})

    @app.post("/api/v1/auth/logout")
    async def auth_logout(request: Request) -> Response:
        token = bearer_or_cookie(request)
        try:
            with session_scope() as session:
                claims = tokens.verify_session(session, settings=settings, token=token)
                tokens.revoke_session(session, jti=claims.jti)
        except AuthError:
            return JSONResponse(DENIED, status_code=401)
        session_cache.forget(token=token)  # this process's pages see the logout at once
        return JSONResponse(OK)

    if settings.is_dev:
        # The simulator exists only in dev: in prod this route is never registered.
        @app.post("/api/v1/dev/wx/simulate")
        async def dev_simulate(request: Request) -> Response:
            try:
                form = await read_form(request)
            except _BadForm:
                return JSONResponse(ILLEGAL, status_code=400)
            openid = form.get("openid") or simulator.DEV_OPENIDS[0]
            try:
                reply = await simulator.send_text(
                    settings,
                    base_url=str(request.base_url),
                    openid=openid[:64],
                    content=form.get("content") or "登录",
                )
            except httpx.HTTPError:
                return JSONResponse({"code": "0001", "info": "未知失败"}, status_code=502)
            return JSONResponse({**OK, "data": reply})

    return app


class _BadForm(Exception):
    pass


async def read_form(request: Request) -> dict[str, str]:
    """A small form (urlencoded, multipart or JSON) as a flat dict of strings.

    Raises:
        _BadForm: too large, undecodable or not a form.
    """
    content_type = request.headers.get("content-type", "")
    try:
        if content_type.startswith("multipart/form-data"):
            declared = request.headers.get("content-length", "")
            if not declared.isdigit() or int(declared) > MAX_FORM_BYTES:
                raise _BadForm
            form = await request.form(max_files=0, max_fields=20)
            return {k: v for k, v in form.items() if isinstance(v, str)}
        return _parse_form(content_type, await read_capped(request, MAX_FORM_BYTES))
    except _BadForm:
        raise
    except Exception as exc:  # size, encoding, JSON, multipart errors: all the client's fault
        raise _BadForm from exc


def _parse_form(content_type: str, body: bytes) -> dict[str, str]:
    text = body.decode("utf-8")
    if content_type.startswith("application/json"):
        data = json.loads(text or "{}")
        if not isinstance(data, dict):
            raise ValueError("not an object")
        return {str(k): v for k, v in data.items() if isinstance(v, str)}
    pairs = parse_qs(text, keep_blank_values=True, max_num_fields=20)
    return {k: v[0] for k, v in pairs.items() if v}
