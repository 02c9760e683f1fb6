"""The third-party llmock server (an OpenAI-compatible server that injects scripted faults and
grades how the client coped) as a subprocess on a free 127.0.0.1 port."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from testkit.net import ExitedEarly, free_port, wait_served


@contextmanager
def llmock_server(timeout: float = 30) -> Iterator[str]:
    """Runs `llmock serve` (installed beside this Python) until the block ends.

    Yields:
        Its base URL (the OpenAI API is under `/v1`, its controls under `/_llmock`).

    Raises:
        RuntimeError: it did not answer `/health` within `timeout` seconds.
    """
    port = free_port()
    exe = Path(sys.executable).with_name("llmock")
    proc = subprocess.Popen(
        [str(exe), "serve", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        # A proxy in the developer's environment must not stand between it and its own port.
        env={**os.environ, "NO_PROXY": "127.0.0.1"},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_served([url + "/health"], timeout=timeout, proc=proc, interval=0.1)
        except (ExitedEarly, TimeoutError) as exc:
            raise RuntimeError(f"llmock did not start: {exc}") from None
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
