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
import hashlib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from chatapp.core.config import load_settings
from testkit.browser import log_in
from testkit.fakes.openai_server import FakeOpenAI
from testkit.fakes.wechat import WechatSimulator
from testkit.net import free_port
from testkit.paths import ARTIFACTS, ROOT
from tests.deploy.conftest import API_KEY, SHORT

# Needs root, Debian's docker.io and debootstrap (make sysdeps): not part of `make test-fast`. The
# first test carries the base and the build (cold: several minutes, see docs/deploy.md).
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1800)]

EVIDENCE = ARTIFACTS / "image"
# Where a TLS proxy's CA is trusted on this machine (what pip, npm and git use here).
CA_BUNDLE = Path(os.environ.get("SSL_CERT_FILE") or "/etc/ssl/certs/ca-certificates.crt")
# One tag, volume and port per checkout: several work trees may share one Docker engine.
_CHECKOUT = hashlib.sha256(str(ROOT).encode()).hexdigest()[:10]
IMAGE = f"chatapp-test:{_CHECKOUT}"
BUILD_STAGE = f"chatapp-test-build:{_CHECKOUT}"
LABEL = "chatapp.test-image"
ANSWER = '[data-testid="assistant-bubble"]'
QUESTION = "hello from the browser to the container"
BUILD_TIMEOUT_S = 1500


@dataclass
class Report:
    """What the run measured; printed and written to EVIDENCE/report.json at the end."""

    values: dict[str, object] = field(default_factory=dict)

    def __setitem__(self, key: str, value: object) -> None:
        self.values[key] = value

    def write(self) -> None:
        EVIDENCE.mkdir(parents=True, exist_ok=True)
        (EVIDENCE / "report.json").write_text(json.dumps(self.values, indent=2) + "\n")
        print("\nimage test: " + json.dumps(self.values, indent=1))


REPORT = Report()


def docker(*args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess:
    """Runs the docker client; output captured as text."""
    proc = subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"docker {' '.join(args[:3])} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


def _port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        # As a server binds (granian does): a port is free even with connections in TIME_WAIT.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("0.0.0.0", port))  # the container listens on all interfaces
        except OSError:
            return False
    return True


def _test_port() -> int:
    """A port fixed per checkout (below the ephemeral range), so the build's last step (the bundle
    bakes the websocket address, port included) stays cached between runs; any free one if taken."""
    preferred = 20000 + int(_CHECKOUT, 16) % 12000
    return preferred if _port_is_free(preferred) else free_port()


def build_context(dest: Path) -> Path:
    """The checkout as a fresh clone would have it (tracked and new, not ignored files), plus this
    machine's CA bundle in deploy/ca/ (never committed: deploy/ca/.gitignore)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for raw in filter(None, listed):
        rel = raw.decode()
        src = ROOT / rel
        if not src.is_file():  # deleted in the work tree, not yet committed
            continue
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target)
    shutil.copyfile(CA_BUNDLE, dest / "deploy" / "ca" / "build-machine.crt")
    return dest


def _build(context: Path, base: str, public_url: str) -> dict[str, object]:
    """`docker build` with the classic builder; returns seconds per step and the total."""
    env = dict(os.environ, DOCKER_BUILDKIT="0", DOCKER_CLI_HINTS="false")
    cmd = [
        "docker", "build", "--network", "host", "--label", f"{LABEL}=1",
        "--build-arg", f"PYTHON_IMAGE={base}", "--build-arg", f"PUBLIC_URL={public_url}",
        "-t", IMAGE, str(context),
    ]  # fmt: skip
    EVIDENCE.mkdir(parents=True, exist_ok=True)
    steps: list[tuple[str, float, bool]] = []
    t0 = last = time.monotonic()
    current, cached = "", False
    with (EVIDENCE / "build.log").open("w") as log:
        proc = subprocess.Popen(
            cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            now = time.monotonic()
            log.write(f"{now - t0:7.1f} {line}")
            if line.startswith("Step "):
                if current:
                    steps.append((current, now - last, cached))
                number = line.split()[1].split("/")[0]
                current, cached, last = f"{number} {line.split(':', 1)[1].strip()[:60]}", False, now
            elif "Using cache" in line:
                cached = True
            if now - t0 > BUILD_TIMEOUT_S:
                proc.kill()
        code = proc.wait()
        if current:
            steps.append((current, time.monotonic() - last, cached))
    total = time.monotonic() - t0
    assert code == 0, f"docker build failed:\n{(EVIDENCE / 'build.log').read_text()[-4000:]}"
    # Tag the build stage too (all cached: ~1 s), or the prune below would take its layers with it
    # (an untagged stage is "dangling") and the next run would rebuild the frontend.
    stage = [*cmd[:-3], "--target", "build", "-t", BUILD_STAGE, str(context)]
    tagged = subprocess.run(stage, env=env, capture_output=True, text=True, timeout=300)
    assert tagged.returncode == 0, tagged.stdout[-2000:] + tagged.stderr
    slow = sorted((s for s in steps if not s[2]), key=lambda s: -s[1])[:6]
    return {
        "build_s": round(total, 1),
        "build_steps_cached": f"{sum(1 for s in steps if s[2])}/{len(steps)}",
        "build_slowest_steps_s": {name: round(sec, 1) for name, sec, _ in slow},
    }


@dataclass
class Container:
    """The app's container: its name, volume, address and the settings it runs with."""

    name: str
    volume: str
    port: int
    env: dict[str, str]

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}"

    def health(self) -> str:
        out = docker("inspect", "-f", "{{.State.Status}} {{.State.Health.Status}}", self.name)
        return out.stdout.strip()

    def wait_healthy(self, timeout: float = 180) -> float:
        """Seconds until Docker's HEALTHCHECK says healthy (fails if the container exits)."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            state = self.health()
            if state == "running healthy":
                return time.monotonic() - t0
            if not state.startswith("running"):
                break
            time.sleep(0.25)
        raise AssertionError(
            f"container {state!r} after {time.monotonic() - t0:.0f} s:\n{self.logs()}"
        )

    def logs(self) -> str:
        out = docker("logs", self.name, check=False)
        return out.stdout + out.stderr

    def exec(self, *cmd: str) -> subprocess.CompletedProcess:
        return docker("exec", self.name, *cmd, check=False)


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
        port = _test_port()
        REPORT["port"] = port
        context = build_context(tmp_path_factory.mktemp("image") / "context")
        REPORT.values.update(_build(context, base_image, f"http://localhost:{port}"))
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
