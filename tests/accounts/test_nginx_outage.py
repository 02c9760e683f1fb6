"""Behind the shipped nginx, the auth routes' 503 during a database outage does not take the app
instances out of nginx's pool (it is the same on every instance): other requests still reach them."""

from __future__ import annotations

import uuid

import httpx
import psycopg
from limits.aio.storage import MemoryStorage

from chatapp.api.routes import build_api
from chatapp.auth.ratelimit import LoginGuard
from chatapp.core.db import init_db
from tests.accounts.conftest import make_settings
from tests.deploy.topology import Nginx
from tests.fakes.tcp_proxy import TcpProxy
from tests.fakes.wechat import serve

ADMIN = "postgresql://postgres@127.0.0.1:5432/test"


def test_auth_503s_do_not_mark_the_instances_failed(tmp_path):
    name = f"chatapp_nginx_outage_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    proxy = TcpProxy(("127.0.0.1", 5432)).start()
    try:
        init_db(f"postgresql+psycopg://postgres@127.0.0.1:{proxy.port}/{name}")
        api = build_api(make_settings(tmp_path), guard=LoginGuard(MemoryStorage()))
        with serve(api) as base:
            upstream = base.split("://", 1)[1]
            nginx = Nginx(prefix=tmp_path / "nginx", upstreams=[upstream, upstream]).start()
            try:
                with httpx.Client(base_url=nginx.url, verify=False, timeout=30) as client:
                    assert client.get("/metrics").status_code == 200
                    proxy.cut()
                    for _ in range(3):
                        # GETs: nginx would try the other instance on a 503 and count both failed.
                        handoff = client.get("/api/v1/auth/session", params={"ticket": "x" * 43})
                        assert handoff.status_code == 503
                        login = client.post("/api/v1/auth/login", data={"code": "12345678"})
                        assert login.status_code == 503 and login.json()["reason"] == "database"
                    # Both instances are still in the pool: nginx forwards, no 502.
                    assert client.get("/metrics").status_code == 200
            finally:
                nginx.stop()
    finally:
        proxy.cut()
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
