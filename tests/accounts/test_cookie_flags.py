"""The session cookie is SameSite=Lax always, and Secure exactly when the site is served over https."""

from __future__ import annotations

import subprocess
import sys

import pytest

PROBE = (
    "from chatapp.state.auth import AuthState;"
    "c = AuthState.get_fields()['session_token'].default;"
    "print(c.secure, c.same_site, c.name)"
)


@pytest.mark.parametrize(
    ("public_url", "secure"),
    [("https://chat.example.com", "True"), ("http://localhost:3000", "False")],
)
def test_session_cookie_flags(public_url, secure):
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        env={"PUBLIC_URL": public_url, "PATH": ""},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout.split()
    assert out == [secure, "lax", "chatapp_session"]
