"""The Docker image, built and run for real (no Docker Hub: a debootstrap base, the classic builder).

What runs, in file order on one module-scoped image and container:

1. `scripts/docker_engine.sh` (Debian's dockerd without bridge or iptables, when none runs),
   `scripts/docker_base.sh` (bookworm + python3 by debootstrap from this machine's Debian mirror,
   `docker import`, cached), then `DOCKER_BUILDKIT=0 docker build --network host` of a copy of the
   checkout (`git ls-files`) with this machine's CA bundle dropped into `deploy/ca/` (the registries
   are reached through a TLS proxy here, as behind many corporate networks);
2. `docker run --network host --read-only --tmpfs /tmp -v <volume>:/app/data` with the image's own
   CMD, in prod mode, with WeChat in safe (encrypted) mode and the fake OpenAI server on 127.0.0.1;
3. HEALTHCHECK turns healthy; non-root; nothing but the volume (and /tmp) is writable; the page is
   served; a code login through a signed, encrypted WeChat push; Chromium opens the container's page,
   its websocket connects back and a chat is answered by the fake model; after `docker restart` the
   conversation is still there; `deploy/compose.yaml` passes Debian's `docker-compose config`.

Numbers (image size, build steps, time to healthy) are printed (`pytest -s`) and written to
`test-artifacts/image/report.json`; the build and container logs land beside it.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import secrets
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from chatapp.core.config import load_settings
from testkit.browser import log_in
from testkit.docker_image import (
    EVIDENCE,
    IMAGE,
    LABEL,
    REPORT,
    Container,
    build_context,
    build_image,
    checkout_port,
    docker,
)
from testkit.fakes.openai_server import FakeOpenAI
from testkit.fakes.wechat import WechatSimulator
from testkit.paths import ROOT
from tests.deploy.conftest import API_KEY, SHORT

# Needs root, Debian's docker.io and debootstrap (make sysdeps): not part of `make test-fast`. The
# first test carries the base and the build (cold: several minutes, see docs/deploy.md).
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1800)]

ANSWER = '[data-testid="assistant-bubble"]'
QUESTION = "hello from the browser to the container"


def _settings_env(port: int, fake_llm: FakeOpenAI) -> dict[str, str]:
    """Production settings for the container (and for our WeChat simulator: same token and key)."""
    return {
        "PORT": str(port),
        "PUBLIC_URL": f"http://localhost:{port}",
        "JWT_SECRET": secrets.token_urlsafe(48),
        "WECHAT_TOKEN": secrets.token_hex(16),
        "WECHAT_APPID": "wx" + secrets.token_hex(8),
        "WECHAT_ORIGINAL_ID": "gh_" + secrets.token_hex(6),
        "WECHAT_MODE": "safe",
        "WECHAT_AES_KEY": base64.b64encode(os.urandom(32)).decode().rstrip("="),
        "OPENAI_API_KEY": API_KEY,
        # --network host: the container's 127.0.0.1 is this machine's.
        "OPENAI_BASE_URL": fake_llm.base_url,
        "CHATAPP_MODELS": "fake-gpt",
    }


@pytest.fixture(scope="module")
def image(tmp_path_factory) -> Iterator[tuple[str, int]]:
    """The image, built for a port fixed per checkout; yields (name, port)."""
    shutil.rmtree(EVIDENCE, ignore_errors=True)
    engine = subprocess.run(
        ["bash", str(ROOT / "scripts" / "docker_engine.sh")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert engine.returncode == 0, f"no Docker engine (run `make sysdeps` as root): {engine.stderr}"
    try:
        t0 = time.monotonic()
        base = subprocess.run(
            ["bash", str(ROOT / "scripts" / "docker_base.sh")],
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert base.returncode == 0, f"docker_base.sh failed:\n{base.stderr}"
        base_image = base.stdout.strip().splitlines()[-1]
        REPORT["base_image"] = base_image
        REPORT["base_s"] = round(time.monotonic() - t0, 1)
        REPORT["base_from"] = "bootstrapped" if "debootstrap" in base.stderr else "cache"
        port = checkout_port()
        REPORT["port"] = port
        context = build_context(tmp_path_factory.mktemp("image") / "context")
        REPORT.values.update(build_image(context, base_image, f"http://localhost:{port}"))
        size = int(docker("image", "inspect", "-f", "{{.Size}}", IMAGE).stdout)
        base_size = int(docker("image", "inspect", "-f", "{{.Size}}", base_image).stdout)
        REPORT["image_mb"] = round(size / 1e6)
        REPORT["base_image_mb"] = round(base_size / 1e6)
        yield IMAGE, port
    finally:
        # Earlier builds of this checkout's tags, now untagged (their layers are this cache's past).
        docker("image", "prune", "-f", "--filter", f"label={LABEL}=1", check=False)
        REPORT.write()


@pytest.fixture(scope="module")
def container(image, fake_llm) -> Iterator[Container]:
    name, port = image
    box = Container(
        name=f"chatapp-test-{uuid.uuid4().hex[:8]}",
        volume=f"chatapp-test-data-{uuid.uuid4().hex[:8]}",
        port=port,
        env=_settings_env(port, fake_llm),
    )
    env_args = [arg for k, v in box.env.items() for arg in ("-e", f"{k}={v}")]
    t0 = time.monotonic()
    docker(
        "run", "-d", "--name", box.name, "--network", "host",
        "--read-only", "--tmpfs", "/tmp", "-v", f"{box.volume}:/app/data",
        *env_args, name,
    )  # fmt: skip
    try:
        ready = None
        while box.health().startswith("running") and time.monotonic() - t0 < 120:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(box.url + "/api/health", timeout=2).status_code == 200:
                    ready = time.monotonic() - t0
                    break
            time.sleep(0.1)
        box.wait_healthy()
        REPORT["ready_s"] = round(ready, 1) if ready is not None else None  # /api/health answers
        REPORT["healthy_s"] = round(time.monotonic() - t0, 1)  # Docker says "healthy"
        yield box
    finally:
        EVIDENCE.mkdir(parents=True, exist_ok=True)
        (EVIDENCE / "container.log").write_text(box.logs())
        docker("rm", "-f", box.name, check=False)
        docker("volume", "rm", "-f", box.volume, check=False)


@pytest.fixture(scope="module")
def token(container: Container) -> str:
    """A session token, through the real code flow: a signed, AES-encrypted "登录" push (as WeChat's
    servers send it) to the container's callback; the code in its encrypted reply is redeemed."""
    settings = load_settings({"CHATAPP_ENV": "prod", **container.env})
    wechat = WechatSimulator(settings, container.url)
    reply = wechat.reply(wechat.text("o_image_user", "登录"))
    match = re.search(r"\d{8}", reply.get("Content", ""))
    assert match, reply
    login = httpx.post(container.url + "/api/v1/auth/login", data={"code": match.group(0)})
    assert login.status_code == 200, login.text
    return login.json()["data"]


def _open(browser: Browser, container: Container, token: str, path: str = "/"):
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    log_in(context, container.url, token)
    page = context.new_page()
    page.set_default_timeout(30_000)
    sockets: list[str] = []
    errors: list[str] = []
    page.on("websocket", lambda ws: sockets.append(ws.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(container.url + path)
    page.locator("#composer-input").wait_for(state="visible")
    return context, page, sockets, errors


def _ask(page: Page, text: str) -> None:
    n = page.locator(ANSWER).count()
    box = page.locator("#composer-input")
    box.fill(text)
    box.press("Enter")
    expect(page.locator(ANSWER)).to_have_count(n + 1)
    expect(page.locator(ANSWER).last).to_have_text(SHORT)


# ---- the tests, in order -------------------------------------------------------------------------


def test_image_runs_non_root_and_writes_only_its_volume(container: Container):
    user = container.exec("id", "-u")
    assert user.returncode == 0 and user.stdout.strip() not in {"", "0"}, user
    assert docker("inspect", "-f", "{{.Config.User}}", container.name).stdout.strip() == "chatapp"
    for path in ("/app/x", "/app/.web/build/client/x", "/opt/venv/x", "/etc/x", "/usr/x"):
        write = container.exec("sh", "-c", f"echo > {path}")
        assert write.returncode != 0, f"{path} is writable"
    assert (
        container.exec("sh", "-c", "echo > /app/data/probe && rm /app/data/probe").returncode == 0
    )
    # What the app keeps: the database and Reflex's upload folder (REFLEX_UPLOADED_FILES_DIR).
    listing = container.exec("ls", "/app/data").stdout.split()
    assert "chatapp.db" in listing and "uploaded_files" in listing, listing
    # Prod mode, and the start script is the image's own CMD.
    assert container.exec("printenv", "CHATAPP_ENV").stdout.strip() == "prod"
    cmd = json.loads(docker("inspect", "-f", "{{json .Config.Cmd}}", container.name).stdout)
    assert cmd[:2] == ["python", "-m"] and "--no-build" in cmd, cmd


def test_health_page_and_no_traceback(container: Container):
    health = httpx.get(container.url + "/api/health", timeout=5)
    assert health.status_code == 200, health.text
    assert health.json()["checks"] == {"database": True, "migrations": True}
    page = httpx.get(container.url + "/", timeout=5)
    assert page.status_code == 200 and "<html" in page.text.lower()
    assert httpx.get(container.url + "/chat/some-id", timeout=5).status_code == 200
    logs = container.logs()
    assert "migrations: upgraded None -> " in logs, logs[-2000:]
    assert "Traceback" not in logs, logs[-4000:]


def test_wechat_login_then_chat_in_the_browser(
    container: Container, token: str, browser: Browser, fake_llm: FakeOpenAI
):
    fake_llm.reset()
    context, page, sockets, errors = _open(browser, container, token)
    try:
        _ask(page, QUESTION)
        # The page served by the container opened its websocket back to the container.
        assert any(f"localhost:{container.port}/_event" in url for url in sockets), sockets
        # The answer came from the fake model on this machine's 127.0.0.1 (--network host).
        sent = [r.json for r in fake_llm.requests if r.path.endswith("/chat/completions")]
        assert any(QUESTION in json.dumps(body, ensure_ascii=False) for body in sent), sent
        expect(page.locator('[data-testid="conv-item"]').first).to_be_visible()
        assert not errors, errors
    finally:
        EVIDENCE.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(EVIDENCE / "chat.png"), full_page=True)
        context.close()


def test_the_conversation_survives_a_restart(container: Container, token: str, browser: Browser):
    t0 = time.monotonic()
    docker("restart", container.name, timeout=120)
    container.wait_healthy()
    REPORT["healthy_after_restart_s"] = round(time.monotonic() - t0, 1)
    context, page, _sockets, errors = _open(browser, container, token)
    try:
        item = page.locator('[data-testid="conv-item"]').first
        item.click()
        expect(page.locator('[data-testid="user-bubble"]').first).to_have_text(QUESTION)
        expect(page.locator(ANSWER).first).to_have_text(SHORT)
        _ask(page, "and after the restart?")
        assert not errors, errors
    finally:
        EVIDENCE.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(EVIDENCE / "restart.png"), full_page=True)
        context.close()


def test_compose_file_is_valid_for_debians_docker_compose(tmp_path):
    if shutil.which("docker-compose") is None:
        pytest.fail("docker-compose missing: run `make sysdeps` as root (Debian's docker-compose)")
    (tmp_path / "deploy").mkdir()
    shutil.copy(ROOT / "deploy" / "compose.yaml", tmp_path / "deploy" / "compose.yaml")
    (tmp_path / ".env").write_text("")  # env_file: ../.env
    env = dict(os.environ, POSTGRES_PASSWORD="x" * 24, PUBLIC_URL="https://chat.example.com")
    env.pop("PYTHON_IMAGE", None)
    check = subprocess.run(
        ["docker-compose", "-p", "chatapp", "-f", "deploy/compose.yaml", "config"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert check.returncode == 0, check.stderr
    import yaml

    services = yaml.safe_load(check.stdout)["services"]
    for name in ("app1", "app2"):
        app = services[name]
        assert app["build"]["args"]["PUBLIC_URL"] == "https://chat.example.com"
        assert app["build"]["args"]["PYTHON_IMAGE"] == "python:3.11-slim-bookworm"
        assert app["read_only"] is True and "/tmp" in app["tmpfs"]
