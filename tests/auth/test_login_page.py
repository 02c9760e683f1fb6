"""The login page's composition per settings, and the pure helpers of the auth state."""

from __future__ import annotations

import pytest

from chatapp.core.config import set_settings
from chatapp.pages.login import login_page
from chatapp.state.auth import safe_next
from tests.auth.conftest import make_settings


@pytest.fixture
def use_settings():
    def _use(settings):
        set_settings(settings)
        return settings

    yield _use
    set_settings(None)


def test_simulator_panel_only_in_dev(tmp_path, use_settings):
    use_settings(make_settings(tmp_path))
    dev = str(login_page())
    assert "login-simulator" in dev and "sim-send" in dev
    use_settings(make_settings(tmp_path, CHATAPP_ENV="prod"))
    prod = str(login_page())
    assert "login-simulator" not in prod and "sim-send" not in prod
    assert "login-code" in prod


@pytest.mark.parametrize(
    ("mode", "scan", "code"),
    [("code", False, True), ("scan", True, False), ("both", True, True)],
)
def test_login_modes(tmp_path, use_settings, mode, scan, code):
    use_settings(make_settings(tmp_path, WECHAT_LOGIN=mode))
    page = str(login_page())
    assert ("login-scan" in page) == scan
    assert ("login-code" in page) == code


def test_safe_next():
    assert safe_next("/chat/abc?x=1") == "/chat/abc?x=1"
    for bad in ["//evil.com", "https://evil.com", "javascript:alert(1)", "/\\evil", "", "/login"]:
        assert safe_next(bad) == "/"
