"""Browser-test fixtures: a fake model server, the real app in production mode, Debian Chromium."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.e2e.harness import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, AppServer, app_env, free_port
from tests.fakes.openai_server import FakeOpenAI, Reply
from tests.fakes.wechat import dev_login

API_KEY = "test-key-e2e"


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/e2e" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def fake_llm() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(api_key=API_KEY, default=Reply(chunk_chars=4, chunks_per_s=95)) as srv:
        yield srv


@pytest.fixture(scope="session")
def app(fake_llm, tmp_path_factory) -> Iterator[AppServer]:
    data = tmp_path_factory.mktemp("app-data")
    port = free_port()
    env = app_env(
        port,
        data,
        OPENAI_API_KEY=API_KEY,
        OPENAI_BASE_URL=fake_llm.base_url,
        CHATAPP_MODELS="fake-gpt,fake-gpt-mini",
        # tests/e2e/test_web_security.py: images from this host load, from others they do not.
        IMAGE_HOSTS_ALLOW="127.0.0.3:*",
    )
    ARTIFACTS.mkdir(exist_ok=True)
    server = AppServer(port=port, env=env, log_path=ARTIFACTS / "app-e2e.log").start()
    yield server
    server.stop()


# Module scope: a live sync Playwright keeps an event loop running in the main thread, which
# would break `asyncio.run` in later, unrelated tests.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def session_token(app) -> str:
    """One logged-in user for the chat suite (real code login through the dev WeChat simulator)."""
    return dev_login(app.url)


def log_in(context: BrowserContext, app: AppServer, token: str) -> None:
    """Puts the session cookie into a browser context, as the login route sets it (HttpOnly, so
    the page's scripts never see it; the server reads it from the websocket's handshake)."""
    context.add_cookies(
        [
            {
                "name": "chatapp_session",
                "value": token,
                "url": app.url,
                "httpOnly": True,
                "sameSite": "Lax",
            }
        ]
    )


@pytest.fixture
def page(browser, app, fake_llm, session_token, request) -> Iterator[Page]:
    fake_llm.reset()
    context = browser.new_context(viewport={"width": 1280, "height": 820}, locale="zh-CN")
    log_in(context, app, session_token)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.set_default_timeout(15_000)
    yield pg
    ARTIFACTS.mkdir(exist_ok=True)
    with contextlib.suppress(Exception):
        pg.screenshot(path=str(ARTIFACTS / f"{request.node.name}-final.png"))
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def shot(page: Page, name: str) -> None:
    """Saves a screenshot as a test artifact."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
