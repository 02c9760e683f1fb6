"""`make run`: serve the app in production mode on one port (UI, websocket and HTTP API).

Validates the settings first so a bad configuration fails with one clear line, not a traceback.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from chatapp.config import load_settings
from chatapp.errors import ConfigError
from chatapp.providers import load_providers


def main(argv: list[str] | None = None) -> int:
    """Checks settings, then runs `reflex run --env prod --single-port`."""
    parser = argparse.ArgumentParser(description="serve chatapp")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT") or 3000))
    args = parser.parse_args(argv)
    os.environ["PORT"] = str(args.port)
    # Reflex's own bun download needs the internet; use the bun installed from npm (make setup).
    os.environ.setdefault("REFLEX_USE_SYSTEM_BUN", "1")
    os.environ.setdefault("REFLEX_TELEMETRY_ENABLED", "false")
    tools = Path(__file__).resolve().parent.parent / ".tools" / "node_modules" / ".bin"
    if tools.is_dir():
        os.environ["PATH"] = f"{tools}:{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"
    try:
        settings = load_settings()
        providers = load_providers(settings)
    except ConfigError as exc:
        print(f"chatapp: configuration error: {exc}", file=sys.stderr)
        return 2
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if not providers:
        print("chatapp: no OPENAI_API_KEY — using the offline demo model (演示模型 / demo)")
    print(f"chatapp: serving on http://localhost:{args.port}")
    cmd = [
        sys.executable,
        "-m",
        "reflex",
        "run",
        "--env",
        "prod",
        "--single-port",
        "--frontend-port",
        str(args.port),
        "--backend-port",
        str(args.port),
        "--backend-host",
        os.environ.get("HOST", "0.0.0.0"),  # noqa: S104 - a server listens
    ]
    return subprocess.call(cmd)  # noqa: S603 - fixed argv


if __name__ == "__main__":
    raise SystemExit(main())
