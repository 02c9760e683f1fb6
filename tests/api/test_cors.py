"""CORS on the open API: none unless configured, then only /v1 and only those origins."""

from __future__ import annotations

import httpx

from chatapp.api.open_api_settings import OpenApiSettings

PREFLIGHT = {
    "Origin": "https://tools.example",
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization,content-type",
}


def test_no_cors_by_default(start):
    run = start()
    reply = httpx.options(run.v1 + "/chat/completions", headers=PREFLIGHT)
    assert "access-control-allow-origin" not in reply.headers
    plain = httpx.get(run.v1 + "/models", headers={"Origin": "https://tools.example"})
    assert "access-control-allow-origin" not in plain.headers


def test_configured_origins_on_v1_only(start):
    run = start(open_api=OpenApiSettings(cors_origins=("https://tools.example",)))
    key = run.new_key(run.user())
    ok = httpx.options(run.v1 + "/chat/completions", headers=PREFLIGHT)
    assert ok.status_code == 200
    assert ok.headers["access-control-allow-origin"] == "https://tools.example"
    assert "authorization" in ok.headers["access-control-allow-headers"].lower()
    listed = httpx.get(
        run.v1 + "/models",
        headers={"Origin": "https://tools.example", "Authorization": f"Bearer {key}"},
    )
    assert listed.headers["access-control-allow-origin"] == "https://tools.example"
    other = httpx.options(
        run.v1 + "/chat/completions", headers={**PREFLIGHT, "Origin": "https://evil.example"}
    )
    assert "access-control-allow-origin" not in other.headers
    # The session routes never answer another origin.
    keys = httpx.options(run.base_url + "/api/v1/keys", headers=PREFLIGHT)
    assert "access-control-allow-origin" not in keys.headers
