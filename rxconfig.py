"""Reflex configuration, derived from the same environment the app's Settings read."""

import os

import reflex as rx

_port = int(os.environ.get("PORT") or 3000)
_public_url = (os.environ.get("PUBLIC_URL") or f"http://localhost:{_port}").rstrip("/")
_cors = tuple(o.strip() for o in (os.environ.get("CORS_ORIGINS") or "").split(",") if o.strip())

config = rx.Config(
    app_name="chatapp",
    # The app owns its engine (chatapp.core.db); Reflex's own db_url is kept in step for `reflex db`.
    db_url=os.environ.get("DATABASE_URL") or "sqlite:///data/chatapp.db",
    redis_url=os.environ.get("REDIS_URL") or None,
    # One process without Redis keeps states in memory. Reflex's default ("disk") pickles every
    # changed state to a file and scans the folder for expired ones: ~10 % of the CPU with 100
    # streams (bench/README.md). Nothing durable lives in a state: a tab that reconnects (also
    # after a restart) rehydrates, and its page reloads from the database and the session cookie.
    # With REDIS_URL, Reflex uses the Redis state manager (several workers or instances).
    state_manager_mode=(
        rx.constants.StateManagerMode.REDIS
        if os.environ.get("REDIS_URL")
        else rx.constants.StateManagerMode.MEMORY
    ),
    frontend_port=_port,
    backend_port=_port,
    # The browser talks to the origin it was served from (one port: UI, websocket and API).
    api_url=os.environ.get("API_URL") or _public_url,
    deploy_url=_public_url,
    cors_allowed_origins=_cors or (_public_url,),
    telemetry_enabled=False,
    # Behind the shipped nginx: 1. X-Forwarded-For is trusted only from this many proxies.
    trusted_proxy_hops=int(os.environ.get("TRUSTED_PROXY_HOPS") or 0),
    show_built_with_reflex=False,
    disable_plugins=[rx.plugins.sitemap.SitemapPlugin],
    plugins=[
        rx.plugins.RadixThemesPlugin(
            theme=rx.theme(accent_color="green", radius="medium", appearance="inherit")
        )
    ],
)
