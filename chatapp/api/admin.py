"""The admin's JSON for scripts: the dashboard's usage series.

    GET /api/v1/admin/usage?days=N   session JWT as Bearer or the session cookie
        200 {"code": "0000", "info": "成功", "days": N, "data": [{"day", "model", "messages",
            "prompt_tokens", "completion_tokens", "active_users"}, …]}   oldest day first
        400 `days` not a whole number in 1…366 · 401 no or bad session · 403 not an admin

The rows are `admin.dashboard.tokens_by_day_and_model`, the same the stacked chart draws; the
admin check is `admin.console`'s, re-read from the database on every request.
"""

from __future__ import annotations

import asyncio

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from chatapp.admin import console, dashboard
from chatapp.api.auth import DENIED, ILLEGAL, OK, bearer_or_cookie
from chatapp.auth import sessions
from chatapp.core.config import Settings
from chatapp.core.db import session_scope
from chatapp.errors import AuthError, Forbidden

DEFAULT_DAYS = 30


def parse_days(raw: str | None) -> int | None:
    """`days` as given (default 30), or None when it is not a whole number in 1…MAX_DAYS."""
    if raw is None or raw == "":
        return DEFAULT_DAYS
    text = raw.strip()
    if not text.isascii() or not text.isdigit():
        return None
    days = int(text)
    return days if 1 <= days <= dashboard.MAX_DAYS else None


def _usage(settings: Settings, token: str, days: int) -> list[dict[str, object]]:
    with session_scope() as session:
        claims = sessions.verify_session(session, settings=settings, token=token)
        return console.usage_json(session, settings=settings, actor_id=claims.user_id, days=days)


def add_admin_routes(app: FastAPI, settings: Settings) -> None:
    """Mounts the admin routes on `app`."""

    @app.get("/api/v1/admin/usage")
    async def admin_usage(request: Request) -> Response:
        token = bearer_or_cookie(request)
        if not token:
            return JSONResponse(DENIED, status_code=401, headers={"WWW-Authenticate": "Bearer"})
        days = parse_days(request.query_params.get("days"))
        if days is None:
            message = f"days 必须是 1–{dashboard.MAX_DAYS} 的整数"
            return JSONResponse({**ILLEGAL, "message": message}, status_code=400)
        try:
            rows = await asyncio.to_thread(_usage, settings, token, days)
        except AuthError:
            return JSONResponse(DENIED, status_code=401, headers={"WWW-Authenticate": "Bearer"})
        except Forbidden:
            return JSONResponse({**DENIED, "message": "需要管理员权限"}, status_code=403)
        return JSONResponse({**OK, "days": days, "data": rows})
