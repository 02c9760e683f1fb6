"""Benchmark 6 — start-up: `make run` to the first page served.

Warm: the app is started the way `make run` does (`python -m chatapp.server.serve`, which runs
`reflex run --env prod`: it compiles and builds the frontend on every start), timed from process
start until `/ping` answers and `/` returns 200 — `bench.common` times every app it starts.
Cold (`python -m bench.startup --cold`, not part of `make bench`): a fresh `git clone` of this
checkout into a temp dir, then `make setup` (venv + pip install + bun) and the same warm start.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from pathlib import Path

from tests.e2e.harness import ROOT, AppServer, app_env, free_port


def cold() -> dict[str, float]:
    """Clone, set up and start once; seconds for each part."""
    with tempfile.TemporaryDirectory(prefix="chatapp-cold-") as tmp:
        clone = Path(tmp) / "chatapp"
        t0 = time.monotonic()
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        t1 = time.monotonic()
        subprocess.run(["make", "setup"], cwd=clone, check=True, capture_output=True)
        t2 = time.monotonic()
        port = free_port()
        env = app_env(port, Path(tmp) / "data")
        env["PATH"] = f"{clone / '.tools/node_modules/.bin'}:{clone / '.venv/bin'}:{env['PATH']}"
        server = AppServer(port=port, env=env, log_path=Path(tmp) / "app.log")
        server.proc = None
        proc = subprocess.Popen(
            [str(clone / ".venv/bin/python"), "-m", "chatapp.server.serve", "--port", str(port)],
            cwd=clone,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        server.proc = proc
        try:
            _wait_served(server.url, proc)
        finally:
            server.stop()
        t3 = time.monotonic()
    return {
        "clone_s": round(t1 - t0, 1),
        "setup_s": round(t2 - t1, 1),
        "first_start_s": round(t3 - t2, 1),
        "total_s": round(t3 - t0, 1),
    }


def _wait_served(url: str, proc: subprocess.Popen, timeout: float = 600) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("the app exited during start-up")
        try:
            if httpx.get(url + "/", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError("the app did not start")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="start-up benchmark")
    parser.add_argument("--cold", action="store_true", help="fresh clone + make setup + start")
    args = parser.parse_args()
    if args.cold:
        print(json.dumps(cold(), indent=2))
