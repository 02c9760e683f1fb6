"""Fixtures for the deployment tests: the whole topology (2 instances + PostgreSQL + Redis + nginx)."""

from __future__ import annotations

import secrets
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page

from testkit.app import HEALTHY, AppServer, app_env
from testkit.browser import log_in
from testkit.fakes.openai_server import FakeOpenAI, Reply
from testkit.fakes.wechat import dev_login
from testkit.net import free_port
from testkit.paths import ARTIFACTS
from testkit.postgres import fresh_pg_database
from testkit.topology import REDIS_TEST_URL, Nginx, build_frontend, flush_redis

API_KEY = "test-key-deploy"
SHORT = "Short answer from the fake model."
# Where a run's logs and a failure's evidence are kept (pytest's tmp dirs do not last).
EVIDENCE_DIR = ARTIFACTS / "deploy"


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/deploy" in str(item.fspath) and "browser" in item.fixturenames:
            # Needs Chromium, nginx, PostgreSQL and Redis: not part of `make test-fast`.
            item.add_marker(pytest.mark.e2e)


def login(page: Page, base_url: str, token: str) -> None:
    """Opens the app at `base_url` as the user of `token` (see the `session_token` fixture).

    The session cookie is per host, not per port, so one token serves nginx and every instance.
    """
    log_in(page.context, base_url, token)
    page.goto(base_url + "/")
    page.locator("#composer-input").wait_for(state="visible", timeout=30_000)


@dataclass
class Topology:
    """What the scale-out tests drive."""

    instances: list[AppServer]
    nginx: Nginx
    database_url: str
    build_seconds: float
    start_seconds: float


@pytest.fixture(scope="module")
def fake_llm() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(
        api_key=API_KEY, default=Reply(text=SHORT, chunk_chars=4, chunks_per_s=95)
    ) as srv:
        yield srv


@pytest.fixture(scope="module")
def topology(tmp_path_factory, fake_llm) -> Iterator[Topology]:
    base: Path = tmp_path_factory.mktemp("topology")
    shutil.rmtree(EVIDENCE_DIR, ignore_errors=True)  # a previous run's evidence
    ports = [free_port(), free_port()]
    nginx = Nginx(prefix=base / "nginx", upstreams=[f"127.0.0.1:{p}" for p in ports])
    public = nginx.url
    # The bundle's backend URL is the public one (Reflex keeps a non-localhost host as is).
    build_s = build_frontend(public, base / "build.log")
    flush_redis(REDIS_TEST_URL)
    with fresh_pg_database() as db_url:
        jwt = secrets.token_urlsafe(48)
        origins = ",".join([public, *(f"http://127.0.0.1:{p}" for p in ports)])
        instances = []
        t0 = time.monotonic()
        for name, port in zip(("a", "b"), ports, strict=True):
            data = base / f"data-{name}"
            data.mkdir()
            env = app_env(
                port,
                data,
                HOST="127.0.0.1",
                DATABASE_URL=db_url,
                REDIS_URL=REDIS_TEST_URL,
                PUBLIC_URL=public,
                CORS_ORIGINS=origins,
                JWT_SECRET=jwt,
                INSTANCE_NAME=name,
                LOG_FORMAT="json",
                WEB_CONCURRENCY="1",
                OPENAI_API_KEY=API_KEY,
                OPENAI_BASE_URL=fake_llm.base_url,
                CHATAPP_MODELS="fake-gpt",
            )
            instance = AppServer(
                port=port,
                env=env,
                log_path=base / f"app-{name}.log",
                name=name,
                host="127.0.0.1",
                extra_args=["--no-build"],
            )
            instances.append(instance.launch())
        try:
            for inst in instances:
                inst.wait_ready(timeout=90, paths=HEALTHY)
            start_s = time.monotonic() - t0
            nginx.start()
            yield Topology(instances, nginx, db_url, build_s, start_s)
        finally:
            nginx.stop()
            for inst in instances:
                inst.kill()
            flush_redis(REDIS_TEST_URL)
            keep_logs(base)


def keep_logs(base: Path) -> None:
    """Copies the instances' and nginx's logs to EVIDENCE_DIR: pytest keeps only its last three
    temporary directories, and a failure in CI is read from the artifacts."""
    EVIDENCE_DIR.mkdir(parents=True, exist_ok=True)
    for log in [*base.glob("app-*.log"), *base.glob("nginx/logs/*.log")]:
        shutil.copy(log, EVIDENCE_DIR / log.name)


@pytest.fixture(scope="module")
def session_token(topology: Topology) -> str:
    """One user, logged in through the real WeChat code flow (dev simulator) on one instance; the
    JWT and its session row (PostgreSQL) are valid on every instance."""
    return dev_login(topology.instances[0].url, openid="o_deploy_user")
