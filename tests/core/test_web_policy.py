"""The app's own security headers on every response, the image allow-list, and who may read
`/metrics` — against the real API app served on 127.0.0.1 (peers chosen by source address)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from chatapp.api.routes import build_api
from chatapp.core.config import load_settings
from chatapp.core.db import init_db
from chatapp.core.web_policy import content_security_policy, image_sources, security_headers
from chatapp.errors import ConfigError
from testkit.net import serve
from testkit.paths import ROOT

TOKEN = "metrics-token-0123456789"


def settings_for(tmp_path, **env: str):
    return load_settings({"CHATAPP_DATA_DIR": str(tmp_path), "JWT_SECRET": "t" * 48, **env})


def get(url: str, *, source: str = "127.0.0.1", **kwargs) -> httpx.Response:
    """GET from a chosen loopback source address."""
    transport = httpx.HTTPTransport(local_address=source)
    with httpx.Client(transport=transport, timeout=10) as http:
        return http.get(url, **kwargs)


@pytest.fixture
def api(tmp_path):
    init_db(f"sqlite:///{tmp_path}/test.db")

    @contextmanager
    def start(**env: str) -> Iterator[str]:
        # The peer address the app sees is the client's real one: only our own code may read
        # X-Forwarded-For.
        with serve(build_api(settings_for(tmp_path, **env)), proxy_headers=False) as base:
            yield base

    return start


def test_every_response_carries_the_security_headers(api):
    with api(IMAGE_HOSTS_ALLOW="upload.wikimedia.org,*.example.net:*") as base:
        for path in (
            "/api/health",
            "/api/v1/client-config",
            "/metrics",
            "/nope",
            "/api/v1/auth/verify",
        ):
            r = get(base + path)
            assert r.headers["x-content-type-options"] == "nosniff", path
            assert r.headers["x-frame-options"] == "DENY", path
            assert r.headers["referrer-policy"] == "strict-origin-when-cross-origin", path
            csp = r.headers["content-security-policy"]
            assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp, path
            img = next(d for d in csp.split("; ") if d.startswith("img-src "))
            assert img == "img-src 'self' data: blob: upload.wikimedia.org *.example.net:*"
        config = get(base + "/api/v1/client-config").json()
        assert config == {"image_hosts": ["upload.wikimedia.org", "*.example.net:*"]}


def test_img_src_admits_the_wechat_qr_host_only_when_the_login_page_shows_it(tmp_path):
    assert image_sources(settings_for(tmp_path)) == ["'self'", "data:", "blob:"]
    scan = settings_for(tmp_path, WECHAT_LOGIN="both", WECHAT_APPSECRET="s")
    assert image_sources(scan)[-1] == "https://mp.weixin.qq.com"
    own_qr = settings_for(tmp_path, WECHAT_QR_IMAGE="https://cdn.example.com/qr.png")
    assert "https://cdn.example.com" in content_security_policy(own_qr)
    assert "https:" not in content_security_policy(settings_for(tmp_path)).split()


@pytest.mark.parametrize(
    "value", ["*", "https:", "a b", "x.com/path", "x.com'", "x.com;script-src *", "ftp://x.com"]
)
def test_an_image_host_that_is_not_a_host_source_fails_at_start_up(tmp_path, value):
    with pytest.raises(ConfigError, match="IMAGE_HOSTS_ALLOW"):
        settings_for(tmp_path, IMAGE_HOSTS_ALLOW=value)


def test_metrics_default_to_loopback_only(api):
    with api() as base:
        assert get(base + "/metrics").status_code == 200  # from 127.0.0.1
    with api(METRICS_ALLOW="127.0.0.2") as base:
        refused = get(base + "/metrics")
        assert refused.status_code == 403 and "chatapp_" not in refused.text
        allowed = get(base + "/metrics", source="127.0.0.2")
        assert allowed.status_code == 200 and "chatapp_http_requests_total" in allowed.text


def test_metrics_token_as_bearer(api):
    with api(METRICS_TOKEN=TOKEN, METRICS_ALLOW="none") as base:
        missing = get(base + "/metrics")
        assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
        wrong = get(base + "/metrics", headers={"Authorization": "Bearer " + "x" * 24})
        assert wrong.status_code == 401 and "chatapp_" not in wrong.text
        ok = get(base + "/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert ok.status_code == 200 and "chatapp_http_requests_total" in ok.text


def test_a_forged_forwarded_for_gains_nothing(api, monkeypatch):
    """Behind one trusted proxy both the proxy (peer) and the client it names must be allowed."""
    monkeypatch.setenv("TRUSTED_PROXY_HOPS", "1")
    with api(METRICS_ALLOW="127.0.0.2") as base:
        # Straight to the app from a peer that is not allowed, claiming an allowed client.
        forged = get(base + "/metrics", headers={"X-Forwarded-For": "127.0.0.2"})
        assert forged.status_code == 403
    with api() as base:
        # Through the (loopback) proxy for an outside client: refused; for a local one: fine.
        outside = get(base + "/metrics", headers={"X-Forwarded-For": "203.0.113.7"})
        assert outside.status_code == 403
        assert get(base + "/metrics", headers={"X-Forwarded-For": "127.0.0.1"}).status_code == 200


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"METRICS_TOKEN": "short"}, "METRICS_TOKEN"),
        ({"METRICS_ALLOW": "10.0.0.0/33"}, "METRICS_ALLOW"),
        ({"METRICS_ALLOW": "prometheus.internal"}, "METRICS_ALLOW"),
    ],
)
def test_bad_metrics_settings_fail_at_start_up(tmp_path, env, message):
    with pytest.raises(ConfigError, match=message):
        settings_for(tmp_path, **env)


def test_nginx_falls_back_to_the_apps_default_headers(tmp_path):
    """deploy/nginx/chatapp.conf adds headers only where the app sent none: the same values."""
    conf = (ROOT / "deploy" / "nginx" / "chatapp.conf").read_text()
    fallback = dict(
        (m.group(1).replace("_", "-"), m.group(2))
        for m in re.finditer(r'map \$upstream_http_(\w+) \$\w+ \{\s*""\s+"([^"]*)";', conf)
    )
    app = {k.decode(): v.decode() for k, v in security_headers(settings_for(tmp_path))}
    assert fallback == app
