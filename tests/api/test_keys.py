"""Open API keys over HTTP with the session: create (form or JSON), list, revoke; only the
owner; stored hashed; bad input answered in the user's language."""

from __future__ import annotations

import hashlib

import httpx
from sqlmodel import Session, select

from chatapp.auth import api_keys
from chatapp.auth.session_cookie import NAME as SESSION_COOKIE
from chatapp.models import ApiKey


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_create_list_revoke(start):
    run = start()
    token = run.user()
    url = run.base_url + "/api/v1/keys"
    as_form = httpx.post(url, data={"name": "VS Code"}, headers=bearer(token))
    as_json = httpx.post(url, json={"name": " my   script "}, headers=bearer(token))
    assert as_form.status_code == as_json.status_code == 201
    key = as_form.json()["key"]
    assert key.startswith("ck-") and len(key) == 46
    assert as_json.json()["name"] == "my script"
    listed = httpx.get(url, headers=bearer(token)).json()["data"]
    assert [k["name"] for k in listed] == ["my script", "VS Code"]
    assert listed[1]["prefix"] == key[:7] and listed[1]["last_used_at"] is None
    assert all(key not in str(item) for item in listed)  # shown once, never listed
    # Stored as its SHA-256 only.
    with Session(run.engine) as s:  # type: ignore[arg-type]
        rows = s.exec(select(ApiKey)).all()
        assert hashlib.sha256(key.encode()).hexdigest() in {r.secret_hash for r in rows}
        assert all(key not in repr(r.model_dump()) for r in rows)
    # Used once: "last used" shows.
    assert httpx.get(run.v1 + "/models", headers=bearer(key)).status_code == 200
    used = httpx.get(url, headers=bearer(token)).json()["data"][1]
    assert used["last_used_at"] is not None and used["requests"] == 0  # no model call
    gone = httpx.delete(f"{url}/{as_form.json()['id']}", headers=bearer(token))
    assert gone.json() == {"id": as_form.json()["id"], "revoked": True}
    assert [k["name"] for k in httpx.get(url, headers=bearer(token)).json()["data"]] == [
        "my script"
    ]
    assert httpx.get(run.v1 + "/models", headers=bearer(key)).status_code == 401
    again = httpx.delete(f"{url}/{as_form.json()['id']}", headers=bearer(token))
    assert again.status_code == 404


def test_the_session_cookie_works_too(start):
    run = start()
    token = run.user()
    reply = httpx.post(
        run.base_url + "/api/v1/keys", json={"name": "c"}, cookies={SESSION_COOKIE: token}
    )
    assert reply.status_code == 201


def test_only_the_owner_sees_and_revokes(start):
    run = start()
    alice, bob = run.user("o_alice"), run.user("o_bob")
    url = run.base_url + "/api/v1/keys"
    key_id = httpx.post(url, json={"name": "a"}, headers=bearer(alice)).json()["id"]
    assert httpx.get(url, headers=bearer(bob)).json()["data"] == []
    assert httpx.delete(f"{url}/{key_id}", headers=bearer(bob)).status_code == 404
    assert len(httpx.get(url, headers=bearer(alice)).json()["data"]) == 1


def test_refusals(start):
    run = start()
    token = run.user()
    url = run.base_url + "/api/v1/keys"
    no_session = httpx.post(url, json={"name": "x"})
    assert no_session.status_code == 401 and "登录" in no_session.json()["error"]["message"]
    key = run.new_key(token)
    # A key cannot mint keys.
    assert httpx.get(url, headers=bearer(key)).status_code == 401
    empty = httpx.post(url, json={"name": "  "}, headers=bearer(token))
    assert empty.status_code == 400 and empty.json()["error"]["param"] == "name"
    assert empty.json()["error"]["message"] == "Key 名称不能为空，最多 64 个字符。"
    long_en = httpx.post(
        url, json={"name": "n" * 65}, headers={**bearer(token), "Accept-Language": "en"}
    )
    assert long_en.json()["error"]["message"] == "A key needs a name of at most 64 characters."
    cross = httpx.post(
        url, json={"name": "x"}, headers={**bearer(token), "Sec-Fetch-Site": "cross-site"}
    )
    assert cross.status_code == 403
    assert httpx.delete(url + "/abc", headers=bearer(token)).status_code == 404
    for i in range(api_keys.MAX_KEYS_PER_USER - 1):
        run.new_key(token, f"k{i}")
    full = httpx.post(url, json={"name": "one too many"}, headers=bearer(token))
    assert full.status_code == 400 and full.json()["error"]["code"] == "api_key_limit"
