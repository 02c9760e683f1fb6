"""Browser-test fixtures: a fake model server, the real app in production mode, a logged-in page
(the browser itself is tests/conftest.py's)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page

from testkit.app import AppServer, start_app
from testkit.browser import log_in, watched_page
from testkit.fakes.openai_server import FakeOpenAI, Reply
from testkit.fakes.wechat import dev_login
from testkit.paths import ARTIFACTS

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
    ARTIFACTS.mkdir(exist_ok=True)
    server = start_app(
        tmp_path_factory.mktemp("app-data"),
        ARTIFACTS / "app-e2e.log",
        name="e2e",
        OPENAI_API_KEY=API_KEY,
        OPENAI_BASE_URL=fake_llm.base_url,
        CHATAPP_MODELS="fake-gpt,fake-gpt-mini",
        # tests/e2e/test_image_generation.py: an image model, drawn by the fake's images endpoint.
        CHATAPP_IMAGE_MODELS="fake-image",
        # tests/e2e/test_web_security.py: images from this host load, from others they do not.
        IMAGE_HOSTS_ALLOW="127.0.0.3:*",
    )
    yield server
    server.stop()


@pytest.fixture(scope="session")
def session_token(app) -> str:
    """One logged-in user for the chat suite (real code login through the dev WeChat simulator)."""
    return dev_login(app.url)


@pytest.fixture
def page(browser, app, fake_llm, session_token, request) -> Iterator[Page]:
    fake_llm.reset()
    with watched_page(
        browser, request.node.name, viewport={"width": 1280, "height": 820}, locale="zh-CN"
    ) as pg:
        log_in(pg.context, app.url, session_token)
        yield pg
