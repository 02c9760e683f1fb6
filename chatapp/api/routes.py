"""HTTP routes mounted on the Reflex app (same port): health, metrics, the WeChat callback, auth.

    GET  /api/v1/wx/portal/{appid}   WeChat URL verification → echostr (text/plain)
    POST /api/v1/wx/portal/{appid}   WeChat pushes → passive reply XML (or "success")
    GET  /metrics                    Prometheus exposition (chatapp.core.metrics): METRICS_TOKEN as
                                     Bearer or a METRICS_ALLOW address (loopback), else 401/403
    GET  /api/v1/client-config       what the page's scripts need (image hosts allowed)
    /api/v1/auth/…                   login, verify, logout, the page's session handoff (api/auth.py)
    /v1/models, /v1/chat/completions the open API under a user's key (api/openai_compat.py)
    /api/v1/keys                     the user's open API keys, with their session (api/keys.py)
    POST /api/v1/chatgpt/chat/completions   the original project's chat stream (api/legacy_chat.py)
    GET  /api/v1/admin/usage         admins' usage JSON per day and model (api/admin.py)
    POST /api/v1/dev/wx/simulate     dev only: the WeChat simulator (absent in prod)

While the database or Redis is down every route here answers 503 with a reason (api/auth.py).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from chatapp.api.admin import add_admin_routes
from chatapp.api.auth import ILLEGAL, OK, add_auth_routes, add_outage_handlers, bearer_or_cookie
from chatapp.api.forms import BadForm, TooLarge, client_ip, read_capped, read_form
from chatapp.api.health import add_health_routes
from chatapp.api.images import add_image_routes
from chatapp.api.keys import add_key_routes
from chatapp.api.legacy_chat import add_legacy_chat_route
from chatapp.api.middleware import ObservabilityMiddleware
from chatapp.api.open_api_cors import OpenApiCors
from chatapp.api.open_api_settings import OpenApiSettings, load_open_api_settings
from chatapp.api.openai_compat import add_open_api_routes
from chatapp.auth import simulator
from chatapp.auth.callback_nonces import NonceLedger
from chatapp.auth.ratelimit import LoginGuard, get_guard
from chatapp.auth.session_cookie import NAME as SESSION_COOKIE
from chatapp.auth.wechat import MAX_BODY_BYTES, CallbackHandler, WechatRejected
from chatapp.core import metrics, web_policy
from chatapp.core.config import Settings
from chatapp.core.web_policy import SecurityHeadersMiddleware

__all__ = ["SESSION_COOKIE", "bearer_or_cookie", "build_api", "client_ip", "read_capped"]


def build_api(
    settings: Settings,
    *,
    guard: LoginGuard | None = None,
    clock: Callable[[], float] = time.time,
    ledger: NonceLedger | None = None,
    open_api: OpenApiSettings | None = None,
) -> FastAPI:
    """The FastAPI app holding our routes; mount it with `rx.App(api_transformer=...)`.

    Args:
        settings: the validated settings.
        guard: the login rate limiter; the process-wide one when omitted (shared with the page).
        clock: epoch seconds for the callback's timestamp check (tests replay stale pushes).
        ledger: where used signed callback URLs are kept; from the settings when omitted.
        open_api: the open API's settings; from the environment when omitted.
    """
    open_api = open_api or load_open_api_settings()
    app = FastAPI(title="chatapp api", docs_url=None, redoc_url=None, openapi_url=None)
    # Reflex mounts its own app under this one, so the middleware sees every request, `/_event`
    # included: request ids, access log, request/websocket metrics.
    app.add_middleware(ObservabilityMiddleware)
    app.add_middleware(OpenApiCors, origins=open_api.cors_origins)
    # Added last, so outermost: error responses of the middleware above carry the headers too.
    app.add_middleware(SecurityHeadersMiddleware, settings=settings)
    add_health_routes(app, settings)
    add_outage_handlers(app)

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

    handler = CallbackHandler(settings, clock=clock, ledger=ledger)
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
        except TooLarge:
            return PlainTextResponse("too large", status_code=413)
        except WechatRejected as exc:
            return PlainTextResponse(exc.reason, status_code=exc.status)
        if reply == "success":
            return PlainTextResponse("success")
        return Response(reply, media_type="application/xml")

    add_auth_routes(app, settings, login_guard)
    add_open_api_routes(app, settings, open_api)
    add_key_routes(app, settings)
    add_image_routes(app, settings)
    add_legacy_chat_route(app, settings, open_api)
    add_admin_routes(app, settings)

    if settings.is_dev:
        # The simulator exists only in dev: in prod this route is never registered.
        @app.post("/api/v1/dev/wx/simulate")
        async def dev_simulate(request: Request) -> Response:
            try:
                form = await read_form(request)
            except BadForm:
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
