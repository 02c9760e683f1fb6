"""The start script and migrations: what the Docker image runs, proven outside Docker."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sqlmodel import SQLModel

from chatapp.api.health import _db_checks
from chatapp.core import db as dbmod
from chatapp.errors import ConfigError
from chatapp.server import migrate
from chatapp.server.serve import check_workers, workers_from_env
from testkit.app import HEALTHY, AppServer, app_env
from testkit.net import free_port
from testkit.paths import ROOT
from testkit.postgres import fresh_pg_database
from testkit.topology import build_frontend, flush_redis

# ---- configuration -------------------------------------------------------------------------------


def test_workers_come_from_web_concurrency():
    assert workers_from_env({}) == 1
    assert workers_from_env({"WEB_CONCURRENCY": "3"}) == 3
    with pytest.raises(ConfigError):
        workers_from_env({"WEB_CONCURRENCY": "many"})
    with pytest.raises(ConfigError):
        workers_from_env({"WEB_CONCURRENCY": "0"})


def test_more_than_one_worker_needs_redis():
    check_workers(1, None)
    check_workers(4, "redis://127.0.0.1:6379/0")
    with pytest.raises(ConfigError, match="REDIS_URL"):
        check_workers(2, None)


def test_start_script_refuses_workers_without_redis(tmp_path):
    env = app_env(free_port(), tmp_path, WEB_CONCURRENCY="2")
    env.pop("REDIS_URL", None)
    proc = subprocess.run(
        [sys.executable, "-m", "chatapp.server.serve", "--no-build"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "WEB_CONCURRENCY=2 needs REDIS_URL" in proc.stderr


# ---- migrations ----------------------------------------------------------------------------------


def test_migrations_match_the_models(tmp_path):
    """Fails after a models.py change until `make migration` regenerates the revision."""
    diff = migrate.pending_changes(f"sqlite:///{tmp_path}/m.db")
    assert diff == [], f"models and migrations differ, run `make migration`: {diff}"


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_upgrade_creates_every_table_and_is_idempotent(backend, tmp_path, request):
    url = (
        f"sqlite:///{tmp_path}/fresh.db"
        if backend == "sqlite"
        else request.getfixturevalue("pg_url")
    )
    if backend == "postgres":
        eng = dbmod.make_engine(url)
        SQLModel.metadata.drop_all(eng)
        with eng.begin() as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        eng.dispose()
    assert migrate.upgrade(url) == f"upgraded None -> {migrate.head_revision()}"
    assert migrate.upgrade(url) == f"at {migrate.head_revision()}"
    eng = dbmod.init_db(url)
    try:
        assert _db_checks() == {"database": True, "migrations": True}
        assert migrate.is_current(eng)
    finally:
        eng.dispose()
        dbmod._engine = None


def test_a_create_all_database_is_adopted_and_health_says_when_not_migrated(engine):
    # `engine` (SQLite and PostgreSQL) is made by create_all, as dev and tests do.
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    assert _db_checks() == {"database": True, "migrations": False}
    assert migrate.upgrade(str(engine.url.render_as_string(hide_password=False))).startswith(
        "adopted"
    )
    assert _db_checks() == {"database": True, "migrations": True}


# ---- the image's file layout, served by the start script ----------------------------------------


def _image_tree(dest: Path) -> Path:
    """The runtime stage of the Dockerfile: code, assets and the built frontend; no bun, no .web
    sources, no node_modules."""
    dest.mkdir()
    for name in ("pyproject.toml", "rxconfig.py"):
        shutil.copy2(ROOT / name, dest / name)
    for name in ("assets", "chatapp"):
        shutil.copytree(ROOT / name, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / ".web/build/client", dest / ".web/build/client")
    (dest / "data").mkdir()
    return dest


@pytest.mark.e2e
def test_image_layout_serves_on_fresh_postgres_with_two_workers(tmp_path):
    port = free_port()
    build_frontend(f"http://localhost:{port}", tmp_path / "build.log")
    tree = _image_tree(tmp_path / "app")
    redis_url = "redis://127.0.0.1:6379/8"
    flush_redis(redis_url)
    with fresh_pg_database() as db_url:
        env = app_env(
            port,
            tree / "data",
            DATABASE_URL=db_url,
            REDIS_URL=redis_url,
            WEB_CONCURRENCY="2",
            HOST="127.0.0.1",
            LOG_FORMAT="json",
            # No bun or node on the PATH: the image has none at run time.
            PATH=f"{Path(sys.executable).parent}:/usr/bin:/bin",
        )
        inst = AppServer(
            port=port,
            env=env,
            log_path=tmp_path / "app.log",
            name="image",
            host="127.0.0.1",
            cwd=tree,
            extra_args=["--no-build"],
        )
        try:
            inst.launch().wait_ready(timeout=90, paths=HEALTHY)
            health = httpx.get(inst.url + "/api/health", timeout=5).json()
            assert health["checks"] == {"database": True, "migrations": True, "redis": True}
            page = httpx.get(inst.url + "/", headers={"X-Request-ID": "req-test-123456"})
            assert page.status_code == 200 and "<html" in page.text.lower()
            assert page.headers["x-request-id"] == "req-test-123456"
            for _ in range(5):
                httpx.get(inst.url + "/chat/some-id").raise_for_status()
            # Several workers, one /metrics: prometheus multiprocess mode sums them.
            loads = inst.metric(
                "chatapp_http_requests_total", method="GET", route="frontend", status="200"
            )
            assert loads == 6
            log = (tmp_path / "app.log").read_text()
            assert "upgraded None -> " in log and "with 2 worker(s)" in log
            access = [r for r in inst.log_records() if r.get("logger") == "chatapp.access"]
            assert any(r.get("request_id") == "req-test-123456" for r in access), access[:3]
            pids = {r["pid"] for r in access}
            print(f"\naccess log lines from worker pids {sorted(pids)}")
        finally:
            inst.kill()
            flush_redis(redis_url)
