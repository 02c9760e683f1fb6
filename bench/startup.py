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

from testkit.app import AppServer, app_env
from testkit.net import free_port
from testkit.paths import ROOT


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
        server = AppServer(
            port=port,
            env=env,
            log_path=Path(tmp) / "app.log",
            cwd=clone,
            python=str(clone / ".venv/bin/python"),
        )
        try:
            server.launch().wait_ready(timeout=600, paths=("/",))
        finally:
            server.stop()
        t3 = time.monotonic()
    return {
        "clone_s": round(t1 - t0, 1),
        "setup_s": round(t2 - t1, 1),
        "first_start_s": round(t3 - t2, 1),
        "total_s": round(t3 - t0, 1),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="start-up benchmark")
    parser.add_argument("--cold", action="store_true", help="fresh clone + make setup + start")
    args = parser.parse_args()
    if args.cold:
        print(json.dumps(cold(), indent=2))
