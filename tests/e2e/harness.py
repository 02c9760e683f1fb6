"""Starts the real app (production mode, one port) as a subprocess for browser and socket tests."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = ROOT / "test-artifacts"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def private_web_dir(data_dir: Path) -> Path:
    """A frontend build directory of its own for an extra app instance.

    The build bakes the instance's URL (port) into the bundle, so instances sharing `.web` would
    send each other's browsers to the wrong port. Reflex initialises the directory (bun installs
    from its cache: ~20 s). A copy of `.web` does not work: its bundler config holds paths.
    """
    return data_dir / "web"


def start_extra_app(data_dir: Path, name: str, **env_extra: str) -> AppServer:
    """Starts an extra app instance with its own frontend build (`private_web_dir`); its log is
    `test-artifacts/app-<name>.log`."""
    env = app_env(
        free_port(), data_dir, REFLEX_WEB_WORKDIR=str(private_web_dir(data_dir)), **env_extra
    )
    ARTIFACTS.mkdir(exist_ok=True)
    return AppServer(port=int(env["PORT"]), env=env, log_path=ARTIFACTS / f"app-{name}.log").start()


def app_env(port: int, data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of an app instance under test."""
    env = dict(os.environ)
    env.update(
        PORT=str(port),
        CHATAPP_DATA_DIR=str(data_dir),
        DATABASE_URL=f"sqlite:///{data_dir}/chatapp.db",
        REFLEX_USE_SYSTEM_BUN="1",
        REFLEX_TELEMETRY_ENABLED="false",
        # The suites drive one user faster than a person can (dozens of sends a minute, many
        # tabs): the per-user limits (chatapp.chat.spend) are tested on an instance of their own.
        CHAT_SENDS_PER_MINUTE="10000",
        CHAT_MAX_CONCURRENT_ANSWERS="100",
        PATH=f"{ROOT / '.tools/node_modules/.bin'}:{Path(sys.executable).parent}:{env.get('PATH', '')}",
    )
    env.update(extra)
    return env


@dataclass
class AppServer:
    """A running app instance."""

    port: int
    env: dict[str, str]
    log_path: Path
    proc: subprocess.Popen | None = None
    extra_args: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}"

    def start(self, timeout: float = 300) -> AppServer:
        """Starts the app and waits until it serves pages and answers /ping."""
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "chatapp.server.serve",
                "--port",
                str(self.port),
                *self.extra_args,
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"app exited early:\n{self.log_path.read_text()[-3000:]}")
            try:
                if (
                    httpx.get(self.url + "/ping", timeout=1).status_code == 200
                    and httpx.get(self.url + "/", timeout=5).status_code == 200
                ):
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"app did not start:\n{self.log_path.read_text()[-3000:]}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Stops the app and everything it started."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)
        self.proc = None
