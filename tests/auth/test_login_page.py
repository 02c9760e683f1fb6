"""The login page follows the running server's settings (not the build's), and the pure helpers of
the auth state."""

from __future__ import annotations

import pytest

from chatapp.core.config import set_settings
from chatapp.pages.login import login_page
from chatapp.state.auth import page_options, safe_next
from tests.auth.conftest import make_settings


@pytest.fixture
def use_settings():
    def _use(settings):
        set_settings(settings)
        return settings

    yield _use
    set_settings(None)


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_one_build_holds_every_layout(tmp_path, use_settings, env):
    # The Docker image compiles the page once; WECHAT_LOGIN and CHATAPP_ENV are set where it runs.
    use_settings(make_settings(tmp_path, CHATAPP_ENV=env, WECHAT_LOGIN="code"))
    page = str(login_page())
    for part in ("login-scan", "login-code", "login-simulator"):
        assert part in page
    assert "login_mode" in page and "dev_mode" in page


def test_simulator_panel_only_in_dev(tmp_path):
    assert page_options(make_settings(tmp_path))["dev_mode"] is True
    assert page_options(make_settings(tmp_path, CHATAPP_ENV="prod"))["dev_mode"] is False


@pytest.mark.parametrize("mode", ["code", "scan", "both"])
def test_login_modes(tmp_path, mode):
    options = page_options(make_settings(tmp_path, WECHAT_LOGIN=mode, WECHAT_QR_IMAGE="/qr.png"))
    assert options["login_mode"] == mode
    assert options["account_qr"] == "/qr.png"


def test_safe_next():
    assert safe_next("/chat/abc?x=1") == "/chat/abc?x=1"
    for bad in ["//evil.com", "https://evil.com", "javascript:alert(1)", "/\\evil", "", "/login"]:
        assert safe_next(bad) == "/"
