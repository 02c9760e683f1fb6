"""Shared pieces of the benchmarks: the app and fake model under test, the browser, the login step,
process-tree resource readings and percentiles.

Everything runs on 127.0.0.1 with ports picked at run time (other developers share the machine).
"""

from __future__ import annotations

import contextlib
import math
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil
from playwright.sync_api import Browser, Page, Playwright

from testkit.app import AppServer, start_app
from testkit.browser import launch_chromium, log_in
from testkit.fakes.openai_server import FakeOpenAI, Reply
from testkit.net import free_port
from testkit.paths import ROOT

API_KEY = "bench-key"
RESULTS = ROOT / "bench" / "results"


@dataclass
class Stack:
    """The app (production mode, one port) wired to a fake model server."""

    app: AppServer
    fake: FakeOpenAI
    data_dir: Path
    startup_s: float


@contextlib.contextmanager
def stack(**env_extra: str) -> Iterator[Stack]:
    """Starts a fake model server in this process and the real app (builds the frontend: ~40 s).
    The fake's replies are queued per test (`stack.fake.queue(Reply(...))`)."""
    with (
        tempfile.TemporaryDirectory(prefix="chatapp-bench-") as tmp,
        FakeOpenAI(api_key=API_KEY, default=Reply(chunk_chars=4, chunks_per_s=95)) as fake,
    ):
        data = Path(tmp)
        t0 = time.monotonic()
        server = _start_app(data, fake.base_url, env_extra)
        try:
            yield Stack(app=server, fake=fake, data_dir=data, startup_s=time.monotonic() - t0)
        finally:
            server.stop()
            _keep_log(data, "last-app.log")


@dataclass
class LoadStack:
    """The app wired to a fake model server running as its own process (for load: a fake in the
    benchmark's process would share its GIL with the load client)."""

    app: AppServer
    fake_proc: subprocess.Popen
    data_dir: Path
    startup_s: float


@contextlib.contextmanager
def load_stack(
    chunks_per_s: float, chunk_chars: int = 4, env_extra: dict[str, str] | None = None
) -> Iterator[LoadStack]:
    """Starts `python -m testkit.fakes.openai_server` at a fixed pace (answers echo the user's
    message) and the real app."""
    with tempfile.TemporaryDirectory(prefix="chatapp-bench-") as tmp:
        data = Path(tmp)
        fake_port = free_port()
        cmd = [sys.executable, "-m", "testkit.fakes.openai_server", "--port", str(fake_port)]
        cmd += ["--chunks-per-s", str(chunks_per_s), "--chunk-chars", str(chunk_chars)]
        cmd += ["--api-key", API_KEY]
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        server = None
        try:
            _wait_port(fake_port)
            t0 = time.monotonic()
            server = _start_app(data, f"http://127.0.0.1:{fake_port}/v1", env_extra or {})
            startup = time.monotonic() - t0
            yield LoadStack(app=server, fake_proc=proc, data_dir=data, startup_s=startup)
        finally:
            if server is not None:
                server.stop()
                _keep_log(data, "last-load-app.log")
            proc.terminate()
            proc.wait(timeout=10)


def _keep_log(data: Path, name: str) -> None:
    """The app's log outlives the run's temporary folder (an error in the JSON is explained
    there): bench/results/<name>."""
    with contextlib.suppress(OSError):
        RESULTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(data / "app.log", RESULTS / name)


def _wait_port(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port}")


def _start_app(data: Path, base_url: str, env_extra: dict[str, str]) -> AppServer:
    return start_app(
        data,
        data / "app.log",
        OPENAI_API_KEY=API_KEY,
        OPENAI_BASE_URL=base_url,
        CHATAPP_MODELS="fake-gpt",
        **env_extra,
    )


def launch_browser(pw: Playwright) -> Browser:
    """Debian's Chromium, headless (never `playwright install`)."""
    return launch_chromium(pw)


_tokens: dict[str, str] = {}
# The WeChat openid the browser benchmarks log in as (data seeded for them belongs to it).
BENCH_OPENID = "o_bench_user"


def open_chat(page: Page, base_url: str, path: str = "/") -> None:
    """Opens a chat page as a logged-in user, ready to type.

    The ONE place that logs in: a real code login through the dev WeChat simulator, once per app
    (the token is cached), put into the browser's session cookie.
    """
    token = _tokens.get(base_url)
    if token is None:
        from testkit.fakes.wechat import dev_login

        token = _tokens[base_url] = dev_login(base_url, BENCH_OPENID)
    log_in(page.context, base_url, token)
    page.goto(base_url + path)
    page.locator("#composer-input").wait_for(state="visible", timeout=60_000)


def session_tokens(app: AppServer, n: int, prefix: str = "o_load_") -> list[str]:
    """Session tokens of `n` distinct users, minted the way a WeChat login does (a user row and an
    `AuthSession` row in the app's database, signed with the app's secret). The load test needs
    hundreds of users: logging each in through the simulator would trip the login rate limits."""
    from chatapp.auth import accounts, sessions
    from chatapp.core.config import load_settings
    from chatapp.core.db import init_db, session_scope

    settings = load_settings(app.env)
    init_db(app.env["DATABASE_URL"])
    out = []
    with session_scope() as session:
        for i in range(n):
            user = accounts.upsert_user(session, settings=settings, openid=f"{prefix}{i}")
            assert user.id is not None
            out.append(sessions.issue_session(session, settings=settings, user_id=user.id))
    return out


def send(page: Page, text: str) -> None:
    """Types a message and presses Enter, as a user would."""
    box = page.locator("#composer-input")
    box.fill(text)
    box.press("Enter")


def wait_answer_done(page: Page, timeout_ms: float) -> None:
    """Waits until the last answer is no longer streaming."""
    page.wait_for_function(
        """() => { const b = document.querySelectorAll('[data-testid="assistant-bubble"]');
                   return b.length && b[b.length-1].dataset.status !== 'streaming'; }""",
        timeout=timeout_ms,
    )


def tree(pid: int) -> list[psutil.Process]:
    """A process and all its descendants."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def tree_rss(pid: int) -> int:
    """Resident memory of a process tree, bytes."""
    total = 0
    for p in tree(pid):
        with contextlib.suppress(psutil.Error):
            total += p.memory_info().rss
    return total


def backend_pids(root_pid: int) -> list[int]:
    """The processes of the app tree that serve Python (granian/uvicorn workers), not bun/node."""
    out = []
    for p in tree(root_pid):
        with contextlib.suppress(psutil.Error):
            if "python" in p.name().lower() or "granian" in " ".join(p.cmdline()).lower():
                out.append(p.pid)
    return out


def tree_cpu_seconds(pid: int) -> float:
    """User+system CPU seconds used so far by a process tree."""
    total = 0.0
    for p in tree(pid):
        with contextlib.suppress(psutil.Error):
            t = p.cpu_times()
            total += t.user + t.system
    return total


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100), nearest-rank; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def machine() -> dict[str, object]:
    """What the numbers were measured on."""
    cpu = platform.processor() or ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
    }
