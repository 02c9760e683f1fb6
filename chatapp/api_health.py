"""Readiness: `/api/health` answers 200 when the database (and Redis, when configured) answer."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text

from chatapp.config import Settings
from chatapp.db import get_engine


def _db_ok() -> bool:
    try:
        with get_engine().connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:
        return False


async def _redis_ok(url: str) -> bool:
    try:
        import redis.asyncio as aioredis

        client = aioredis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        try:
            return bool(await client.ping())  # type: ignore[misc]
        finally:
            await client.aclose()
    except Exception:
        return False


def add_health_routes(api: FastAPI, settings: Settings) -> None:
    """Adds `/api/health`."""

    @api.get("/api/health")
    async def health() -> JSONResponse:
        checks = {"database": await asyncio.to_thread(_db_ok)}
        if settings.redis_url:
            checks["redis"] = await _redis_ok(settings.redis_url)
        ok = all(checks.values())
        return JSONResponse({"ok": ok, "checks": checks}, status_code=200 if ok else 503)
