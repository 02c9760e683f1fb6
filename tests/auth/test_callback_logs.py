"""Signed callback query strings (and the login handoff's secret) never reach a log: not the
shipped nginx's access log, not the app's own."""

from __future__ import annotations

import logging
import time

import httpx

from chatapp.auth import simulator
from testkit.topology import Nginx

HANDOFF = "/api/v1/auth/session"  # the login handoff: a one-time secret in its query string


def test_the_apps_access_log_has_no_query_strings(start, caplog):
    run = start()
    xml = simulator.text_push(run.settings, openid="o_log", content="登录")
    params, body = simulator.signed_request(run.settings, xml)
    with caplog.at_level(logging.INFO, logger="chatapp.access"):
        assert run.wx.post_raw(params, body).status_code == 200
        httpx.get(run.base_url + HANDOFF, params={"ticket": "SECRET-TICKET-VALUE"})
    lines = [r.getMessage() for r in caplog.records if r.name == "chatapp.access"]
    assert any("/api/v1/wx/portal/" in line for line in lines), lines
    assert any(HANDOFF in line for line in lines), lines
    text = "\n".join(lines)
    for secret in (params["signature"], params["nonce"], "SECRET-TICKET-VALUE"):
        assert secret not in text


def test_nginx_keeps_callback_query_strings_out_of_its_log(start, tmp_path):
    run = start()
    upstream = run.base_url.split("://", 1)[1]
    nginx = Nginx(prefix=tmp_path / "nginx", upstreams=[upstream, upstream]).start()
    try:
        with httpx.Client(verify=False, timeout=10) as client:
            xml = simulator.text_push(run.settings, openid="o_nginx", content="登录")
            params, body = simulator.signed_request(run.settings, xml)
            portal = f"{nginx.url}/api/v1/wx/portal/{run.settings.wechat_appid}"
            pushed = client.post(portal, params=params, content=body)
            assert pushed.status_code == 200 and "验证码" in pushed.text
            client.get(nginx.url + HANDOFF, params={"ticket": "SECRET-TICKET-VALUE"})
            client.get(nginx.url + "/api/health", params={"marker": "logged"})
        log = tmp_path / "nginx" / "logs" / "access.log"
        deadline = time.monotonic() + 10
        while "marker=logged" not in (log.read_text() if log.exists() else ""):
            assert time.monotonic() < deadline, "nginx wrote no access log"
            time.sleep(0.05)
        text = log.read_text()
        for secret in (params["signature"], params["nonce"], "SECRET-TICKET-VALUE"):
            assert secret not in text
    finally:
        nginx.stop()
