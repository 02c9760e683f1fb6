"""Behind the shipped nginx, the auth routes' 503 during a database outage does not take the app
instances out of nginx's pool (it is the same on every instance): other requests still reach them."""

from __future__ import annotations

import httpx
from limits.aio.storage import MemoryStorage

from chatapp.api.routes import build_api
from chatapp.auth.ratelimit import LoginGuard
from chatapp.core.db import init_db
from testkit.net import serve
from testkit.postgres import pg_database_behind_proxy
from testkit.topology import Nginx
from tests.auth.conftest import make_settings


def test_auth_503s_do_not_mark_the_instances_failed(tmp_path):
    with pg_database_behind_proxy("chatapp_nginx_outage") as (proxy, url):
        init_db(url)
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
