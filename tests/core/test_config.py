"""Settings: validated once, from a mapping; prod refuses placeholder secrets."""

from __future__ import annotations

import pytest

from chatapp.core.config import load_settings
from chatapp.errors import ConfigError

GOOD_PROD = {
    "CHATAPP_ENV": "prod",
    "JWT_SECRET": "k" * 40,
    "WECHAT_TOKEN": "tok",
    "WECHAT_APPID": "wx123",
    "WECHAT_ORIGINAL_ID": "gh_abc",
}


def test_dev_defaults_need_nothing_and_keep_a_generated_secret(tmp_path):
    env = {"CHATAPP_DATA_DIR": str(tmp_path)}
    first = load_settings(env)
    assert first.is_dev and first.demo_mode
    assert first.database_url == f"sqlite:///{tmp_path}/chatapp.db"
    assert len(first.jwt_secret) >= 32
    assert load_settings(env).jwt_secret == first.jwt_secret  # survives restarts
    assert first.cors_origins == ("http://localhost:3000",)


def test_prod_with_good_settings_loads():
    s = load_settings(GOOD_PROD)
    assert s.env == "prod" and not s.is_dev


@pytest.mark.parametrize("secret", ["", "change-me", "short", "secret"])
def test_prod_refuses_placeholder_jwt_secret(secret):
    with pytest.raises(ConfigError, match="JWT_SECRET"):
        load_settings({**GOOD_PROD, "JWT_SECRET": secret})


def test_prod_refuses_missing_wechat_settings():
    env = dict(GOOD_PROD)
    del env["WECHAT_TOKEN"]
    with pytest.raises(ConfigError, match="WECHAT_TOKEN"):
        load_settings(env)
    with pytest.raises(ConfigError, match="WECHAT_APPSECRET"):
        load_settings({**GOOD_PROD, "WECHAT_LOGIN": "scan"})


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CHATAPP_ENV", "staging"),
        ("WECHAT_MODE", "weird"),
        ("WECHAT_LOGIN", "sms"),
        ("PORT", "eighty"),
        ("LLM_TIMEOUT", "x"),
    ],
)
def test_malformed_values_fail_clearly(tmp_path, name, value):
    with pytest.raises(ConfigError, match=name):
        load_settings({"CHATAPP_DATA_DIR": str(tmp_path), name: value})


def test_safe_mode_needs_the_aes_key(tmp_path):
    with pytest.raises(ConfigError, match="WECHAT_AES_KEY"):
        load_settings({"CHATAPP_DATA_DIR": str(tmp_path), "WECHAT_MODE": "safe"})


def test_provider_settings(tmp_path):
    s = load_settings(
        {
            "CHATAPP_DATA_DIR": str(tmp_path),
            "OPENAI_API_KEY": "sk-x",
            "OPENAI_BASE_URL": "http://127.0.0.1:9/v1/",
            "CHATAPP_MODELS": "a, b,,c",
            "CORS_ORIGINS": "https://chat.example.com",
        }
    )
    assert not s.demo_mode
    assert s.openai_base_url == "http://127.0.0.1:9/v1"
    assert s.models == ("a", "b", "c")
    assert s.cors_origins == ("https://chat.example.com",)
