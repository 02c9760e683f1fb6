"""Fixtures: settings per WeChat mode, a fresh SQLite database, our API on real HTTP."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from limits.aio.storage import MemoryStorage

from chatapp.api.routes import build_api
from chatapp.auth.ratelimit import LoginGuard, LoginLimits
from chatapp.core.config import Settings, load_settings
from chatapp.core.db import init_db
from testkit.fakes.wechat import FakeWechatApi, WechatSimulator
from testkit.net import serve

APPID = "wxtest0123456789"
ORIGINAL_ID = "gh_test_account"
AES_KEY = base64.b64encode(os.urandom(32)).decode()[:43]


def make_settings(tmp_path, mode: str = "plain", **extra: str) -> Settings:
    env = {
        "CHATAPP_ENV": "dev",
        "CHATAPP_DATA_DIR": str(tmp_path),
        "JWT_SECRET": "t" * 48,
        "WECHAT_TOKEN": "test-token",
        "WECHAT_APPID": APPID,
        "WECHAT_APPSECRET": "test-secret",
        "WECHAT_ORIGINAL_ID": ORIGINAL_ID,
        "WECHAT_MODE": mode,
        "WECHAT_AES_KEY": AES_KEY if mode != "plain" else "",
        "CHATAPP_SITE_NAME": "测试站",
        "ADMIN_OPENIDS": "o_admin",
        **extra,
    }
    return load_settings(env)


@pytest.fixture
def db(tmp_path):
    return init_db(f"sqlite:///{tmp_path}/test.db")


class Clock:
    """Epoch seconds the test can move."""

    def __init__(self) -> None:
        import time

        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@dataclass
class Running:
    settings: Settings
    base_url: str
    wx: WechatSimulator
    guard: LoginGuard
    clock: Clock


@pytest.fixture
def start(tmp_path, db):
    """start(mode=..., limits=..., **env) → a running API on 127.0.0.1."""
    stack = []

    def _start(mode: str = "plain", limits: LoginLimits | None = None, **env: str) -> Running:
        settings = make_settings(tmp_path, mode, **env)
        guard = LoginGuard(MemoryStorage(), limits)
        clock = Clock()
        cm = serve(build_api(settings, guard=guard, clock=clock))
        base_url = cm.__enter__()
        stack.append(cm)
        return Running(settings, base_url, WechatSimulator(settings, base_url), guard, clock)

    yield _start
    for cm in reversed(stack):
        cm.__exit__(None, None, None)


@pytest.fixture
def fake_api() -> Iterator[tuple[FakeWechatApi, str]]:
    fake = FakeWechatApi()
    with serve(fake.app()) as url:
        yield fake, url
