"""Loopback networking for tests: a free port, an ASGI app served from a thread, waiting until a
process serves a URL."""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import httpx
import uvicorn


class ExitedEarly(RuntimeError):
    """The process a test waited for exited before it served."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serve(app, *, proxy_headers: bool = True) -> Iterator[str]:
    """Runs the ASGI `app` with uvicorn in a background thread on a free 127.0.0.1 port.

    Args:
        app: Any ASGI application.
        proxy_headers: False keeps uvicorn from rewriting the peer address from X-Forwarded-For
            (for tests where only the app's own code may read that header).

    Yields:
        The server's base URL.
    """
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="off",
        proxy_headers=proxy_headers,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def wait_served(
    urls: Sequence[str],
    *,
    timeout: float,
    proc: subprocess.Popen | None = None,
    interval: float = 0.3,
) -> None:
    """Polls until every URL in `urls` answers a GET with 200.

    Args:
        urls: What must be served.
        timeout: Seconds to wait at most.
        proc: The process serving them: its exit ends the wait at once.
        interval: Seconds between two rounds of polls.

    Raises:
        ExitedEarly: `proc` exited first.
        TimeoutError: not every URL answered 200 within `timeout`.
    """
    deadline = time.monotonic() + timeout
    while True:
        if proc is not None and proc.poll() is not None:
            raise ExitedEarly(f"exited with status {proc.returncode}")
        try:
            if all(httpx.get(url, timeout=5).status_code == 200 for url in urls):
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{', '.join(urls)} not served within {timeout} s")
        time.sleep(interval)
