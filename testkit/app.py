"""The real app as a subprocess, started by the production start script
(`python -m chatapp.server.serve`): one instance for the browser suites, several behind nginx for
the topology tests, a fresh clone's for the cold-start benchmark.

    server = start_app(data_dir, log_path, OPENAI_BASE_URL=fake.base_url)   # built, serving
    ...
    server.stop()
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from testkit.net import ExitedEarly, free_port, wait_served
from testkit.paths import ARTIFACTS, ROOT

# Ready for a browser: the backend answers and the frontend's first page is served.
SERVED = ("/ping", "/")
# Ready for traffic behind a load balancer: database, Redis and migrations (what nginx probes).
HEALTHY = ("/api/health",)


def app_env(port: int, data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of an app instance under test: this process's, plus its port, its own data
    directory and SQLite database, and limits a test suite does not trip; `extra` wins."""
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
    """One app instance in a process group of its own (so a stop reaches its workers and bun)."""

    port: int
    env: dict[str, str]
    log_path: Path
    name: str = "app"
    # The topology tests use 127.0.0.1: the session cookie is per host, shared with nginx's URL.
    host: str = "localhost"
    cwd: Path = ROOT
    python: str = sys.executable
    extra_args: list[str] = field(default_factory=list)
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def launch(self) -> AppServer:
        """Starts the process and returns at once (instances of a topology start side by side)."""
        command = [self.python, "-m", "chatapp.server.serve", "--port", str(self.port)]
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [*command, *self.extra_args],
                cwd=self.cwd,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def wait_ready(self, timeout: float = 300, paths: Sequence[str] = SERVED) -> AppServer:
        """Waits until every path in `paths` answers 200 (a first start builds the frontend).

        Raises:
            RuntimeError: the process exited, or did not serve in time (then it is stopped); the
                message ends with the log's tail.
        """
        try:
            wait_served([self.url + p for p in paths], timeout=timeout, proc=self.proc)
        except ExitedEarly:
            raise RuntimeError(f"{self.name} exited early:\n{self.log_tail()}") from None
        except TimeoutError:
            self.stop()
            raise RuntimeError(f"{self.name} did not start:\n{self.log_tail()}") from None
        return self

    def start(self, timeout: float = 300) -> AppServer:
        """Starts the app and waits until it serves pages and answers /ping."""
        return self.launch().wait_ready(timeout)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Signals the whole process group (the supervisor, its workers, the frontend server) and
        waits for it; SIGKILL if it outlives 15 s."""
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

    def kill(self) -> None:
        """A crash: SIGKILL to the whole process group, no shutdown handlers."""
        self.stop(signal.SIGKILL)

    # ---- what it said -----------------------------------------------------------------------------

    def log_tail(self, chars: int = 3000) -> str:
        """The end of the instance's log."""
        return self.log_path.read_text(errors="replace")[-chars:]

    def log_offset(self) -> int:
        """Where the log ends now: pass it to `log_since` / `wait_for_log` to read only later lines
        (a log file may be shared by several runs)."""
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def log_since(self, offset: int) -> str:
        """What the instance logged after `offset` (see `log_offset`)."""
        with self.log_path.open("rb") as log:
            log.seek(offset)
            return log.read().decode("utf-8", "replace")

    def wait_for_log(self, text: str, *, since: int, timeout: float = 15) -> str:
        """Waits until the instance logs a line containing `text` after `since`; returns that line.

        Raises:
            AssertionError: no such line within `timeout` seconds.
        """
        deadline = time.monotonic() + timeout
        while True:
            for line in self.log_since(since).splitlines():
                if text in line:
                    return line
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"the app never logged {text!r}:\n{self.log_since(since)[-2000:]}"
                )
            time.sleep(0.05)

    def log_records(self) -> list[dict]:
        """The JSON lines this instance logged (LOG_FORMAT=json)."""
        out = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                with contextlib.suppress(ValueError):
                    out.append(json.loads(line))
        return out

    def metric(self, name: str, **labels: str) -> float:
        """One sample of this instance's `/metrics` (0 when absent)."""
        text = httpx.get(self.url + "/metrics", timeout=5).text
        want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
        for line in text.splitlines():
            if line.startswith("#"):
                continue
            series, _, value = line.rpartition(" ")
            sname, _, rest = series.partition("{")
            got = ",".join(sorted(rest.rstrip("}").split(","))) if rest else ""
            if sname == name and got == want:
                return float(value)
        return 0.0


def start_app(data_dir: Path, log_path: Path, *, name: str = "app", **env_extra: str) -> AppServer:
    """Starts an app instance on a free port with its data in `data_dir` (the shared frontend
    build in `.web`) and `env_extra` on top of `app_env`; waits until it serves."""
    port = free_port()
    env = app_env(port, data_dir, **env_extra)
    return AppServer(port=port, env=env, log_path=log_path, name=name).start()


def private_web_dir(data_dir: Path) -> Path:
    """A frontend build directory of its own for an extra app instance.

    The build bakes the instance's URL (port) into the bundle, so instances sharing `.web` would
    send each other's browsers to the wrong port. Reflex initialises the directory (bun installs
    from its cache: ~20 s). A copy of `.web` does not work: its bundler config holds paths.
    """
    return data_dir / "web"


def start_extra_app(data_dir: Path, name: str, **env_extra: str) -> AppServer:
    """Starts an extra app instance beside the suite's own, with its own frontend build
    (`private_web_dir`); its log is `test-artifacts/app-<name>.log`."""
    ARTIFACTS.mkdir(exist_ok=True)
    return start_app(
        data_dir,
        ARTIFACTS / f"app-{name}.log",
        name=name,
        REFLEX_WEB_WORKDIR=str(private_web_dir(data_dir)),
        **env_extra,
    )
