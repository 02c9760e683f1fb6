"""The one start script: `python -m chatapp.server.serve` (what `make run`, the Docker image and the
deploy tests all run).

Order of work, each step skippable for the cases that need it:

1. validate the settings (a bad configuration fails with one clear line, not a traceback);
2. refuse more than one worker without `REDIS_URL` (Reflex keeps state in process memory otherwise,
   and a tab whose events land on another worker would lose it);
3. apply database migrations (`alembic upgrade head`, see `chatapp/server/migrate.py`);
4. build the frontend (`reflex export --frontend-only`) unless `--no-build` — the Docker image
   builds it once at image build time, and several instances on one machine share one build
   (`--build-only` once, then `--no-build` each); a building start serves from its own copy in
   `.web-instances/<port>`;
5. serve the backend on one port with the built frontend mounted on it (UI, websocket `/_event`,
   HTTP API, `/ping`, `/metrics`), with `WEB_CONCURRENCY` granian workers.

Why not `reflex run --env prod --single-port`: it recompiles and rebuilds the frontend on every
start (needs bun at start, ~15 s, and two instances building in one `.web` collide).
"""

from __future__ import annotations

import argparse
import fcntl
import os
import shutil

# bandit B404: runs only our own fixed build command
import subprocess  # nosec B404
import sys
import tempfile
from pathlib import Path

from chatapp.chat.providers import load_providers
from chatapp.core.config import load_settings, set_settings
from chatapp.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def web_dir() -> Path:
    """Reflex's frontend directory: `REFLEX_WEB_WORKDIR` when set (tests give extra instances
    their own), else `.web`."""
    return Path(os.environ.get("REFLEX_WEB_WORKDIR") or ROOT / ".web")


def build_dir() -> Path:
    """Where the built static frontend lands and is served from."""
    return web_dir() / "build" / "client"


def workers_from_env(environ: dict[str, str] | os._Environ[str]) -> int:
    """Worker processes per instance: `WEB_CONCURRENCY` (the Heroku/gunicorn convention), else 1."""
    raw = environ.get("WEB_CONCURRENCY") or environ.get("GRANIAN_WORKERS") or "1"
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigError(f"WEB_CONCURRENCY must be a whole number, got {raw!r}") from exc
    if value < 1:
        raise ConfigError(f"WEB_CONCURRENCY must be at least 1, got {value}")
    return value


def check_workers(workers: int, redis_url: str | None) -> None:
    """Refuses a multi-worker setup that would silently lose state between workers.

    Raises:
        ConfigError: more than one worker and no Redis.
    """
    if workers > 1 and not redis_url:
        raise ConfigError(
            f"WEB_CONCURRENCY={workers} needs REDIS_URL: with more than one worker (or instance) "
            "Reflex must keep state in Redis (redis://host:6379/0); set REDIS_URL or use 1 worker"
        )


def build_frontend(api_url: str | None = None) -> None:
    """Compiles the app and builds the static frontend into `.web/build/client`.

    A lock file serialises concurrent builds in one checkout (two instances started together).
    `api_url` is baked into the bundle: the browser opens its websocket there (Reflex swaps in the
    page's host only when it is `localhost`, and drops the port only on https).
    """
    env = dict(os.environ)
    if api_url:
        env["API_URL"] = api_url
    env.setdefault("REFLEX_USE_SYSTEM_BUN", "1")
    env.setdefault("REFLEX_TELEMETRY_ENABLED", "false")
    tools = ROOT / ".tools" / "node_modules" / ".bin"
    env["PATH"] = os.pathsep.join([str(tools), str(Path(sys.executable).parent), env["PATH"]])
    web = web_dir()
    lock_path = web.parent / f"{web.name}.build.lock"
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        # bandit B603: fixed argv, no user input
        subprocess.run(  # nosec B603
            [sys.executable, "-m", "reflex", "export", "--frontend-only", "--no-zip"],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )


def private_web_dir(port: int) -> Path:
    """Copies the fresh build to a directory only this instance serves from.

    Why: the bundle bakes in the backend URL (port included on plain http), and every build in this
    checkout rewrites `.web/build/client`; an instance that built for its own port must not start
    serving another instance's later build (e.g. two test servers on different ports).
    """
    web = ROOT / ".web-instances" / str(port)
    shutil.rmtree(web, ignore_errors=True)
    shutil.copytree(build_dir(), web / "build" / "client")
    return web


def _prepare_metrics_dir(workers: int) -> None:
    """Prometheus multiprocess mode for several workers: one fresh directory per instance start."""
    if workers <= 1 or os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return
    path = Path(tempfile.gettempdir()) / f"chatapp-metrics-{os.getpid()}"
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)


def serve_backend(host: str, port: int, workers: int) -> None:
    """Serves the app (backend + the built frontend) on one port; returns when the server stops."""
    from reflex import constants
    from reflex.config import environment
    from reflex.utils import exec as rx_exec

    environment.REFLEX_ENV_MODE.set(constants.Env.PROD)
    # The frontend was built already; the workers must not recompile it.
    environment.REFLEX_SKIP_COMPILE.set(True)
    # Always explicit: with Redis, Reflex's default is 2×cores+1 workers.
    os.environ["GRANIAN_WORKERS"] = str(workers)
    os.environ.setdefault("GRANIAN_LOG_LEVEL", "warning")
    rx_exec.run_backend_prod(
        host, port, constants.LogLevel.WARNING, mount_frontend_compiled_app=True
    )


def ready_lines(*, port: int, workers: int, demo: bool, dev: bool) -> list[str]:
    """What the start script prints once it is about to serve: the URL, and for a newcomer how
    to get in (the demo model without a key; in dev mode the login page's simulator) and how to
    see the request log, which `make run` keeps out of the terminal."""
    lines = []
    if demo:
        lines.append("chatapp: no OPENAI_API_KEY — using the offline demo model (演示模型 / demo)")
    lines.append(f"chatapp: serving on http://localhost:{port} with {workers} worker(s)")
    if dev:
        lines.append(
            "chatapp: dev mode — on the login page 「模拟微信登录」 (Simulate WeChat login) logs you"
            " in; LOG_LEVEL=info shows the per-request log"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    """Checks settings, migrates, builds (unless told not to) and serves."""
    parser = argparse.ArgumentParser(description="serve chatapp")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT") or 3000))
    # bandit B104: a server listens on all interfaces by default; HOST narrows it
    parser.add_argument("--host", default=os.environ.get("HOST", "0.0.0.0"))  # noqa: S104  # nosec B104
    parser.add_argument(
        "--no-build", action="store_true", help="serve the frontend already built (Docker image)"
    )
    parser.add_argument("--build-only", action="store_true", help="build the frontend and exit")
    parser.add_argument("--no-migrate", action="store_true", help="skip `alembic upgrade head`")
    args = parser.parse_args(argv)
    os.environ["PORT"] = str(args.port)
    try:
        settings = load_settings()
        workers = workers_from_env(os.environ)
        check_workers(workers, settings.redis_url)
        # Before anything imports prometheus_client: it picks its storage at import time.
        _prepare_metrics_dir(workers)
        providers = load_providers(settings)
    except ConfigError as exc:
        print(f"chatapp: configuration error: {exc}", file=sys.stderr)
        return 2
    set_settings(settings)
    # Reflex finds rxconfig.py and .web/ in the working directory.
    os.chdir(ROOT)
    # The start script logs JSON unless told otherwise (workers inherit the environment).
    if not os.environ.get("LOG_FORMAT"):  # unset or empty (an empty line in .env)
        os.environ["LOG_FORMAT"] = "json"
    if args.build_only:
        build_frontend()
        print(f"chatapp: frontend built in {build_dir()}")
        return 0
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if not args.no_migrate:
        from chatapp.server.migrate import upgrade

        print(f"chatapp: migrations: {upgrade(settings.database_url)}")
    if not args.no_build:
        build_frontend()
        if not os.environ.get("REFLEX_WEB_WORKDIR"):
            # Reflex serves `$REFLEX_WEB_WORKDIR/build/client` (and writes small files there).
            os.environ["REFLEX_WEB_WORKDIR"] = str(private_web_dir(args.port))
    elif not (build_dir() / "index.html").exists():
        print(
            f"chatapp: --no-build but no frontend in {build_dir()}; run with --build-only first",
            file=sys.stderr,
        )
        return 2
    for line in ready_lines(
        port=args.port, workers=workers, demo=not providers, dev=settings.is_dev
    ):
        print(line, flush=True)
    serve_backend(args.host, args.port, workers)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
