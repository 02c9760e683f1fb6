"""The production topology on one machine, without Docker: N app instances started by the same start
script the image runs (`python -m chatapp.server.serve --no-build`), one PostgreSQL database, one Redis DB,
and nginx with the shipped `deploy/nginx/chatapp.conf` (TLS with a throw-away self-signed cert).

Everything listens on free ports picked at runtime and is stopped by the fixture that started it.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.e2e.harness import ROOT, app_env, free_port

NGINX = "/usr/sbin/nginx"
CHATAPP_CONF = ROOT / "deploy" / "nginx" / "chatapp.conf"
PG_ADMIN = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test").replace(
    "postgresql+psycopg://", "postgresql://"
)
REDIS_TEST_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/7")
_TEMPLATE_VAR = re.compile(r"\$\{([A-Z0-9_]+)\}")


def render_conf(text: str, values: dict[str, str]) -> str:
    """The nginx image's envsubst, restricted to ${UPPER_CASE} names (nginx's $vars stay)."""

    def sub(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise KeyError(f"chatapp.conf needs {name}")
        return values[name]

    return _TEMPLATE_VAR.sub(sub, text)


@contextmanager
def fresh_pg_database() -> Iterator[str]:
    """A new, empty PostgreSQL database (dropped afterwards); yields its URL."""
    import psycopg

    name = f"chatapp_deploy_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def flush_redis(url: str) -> None:
    """Empties the Redis DB the test owns (never DB 0: other developers use it)."""
    import redis

    assert not url.rstrip("/").endswith("/0"), "use a dedicated Redis DB number for tests"
    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()


def build_frontend(api_url: str, log_path: Path) -> float:
    """Builds the frontend once (as the Docker image does); returns seconds taken."""
    start = time.monotonic()
    env = app_env(0, log_path.parent, API_URL=api_url, PUBLIC_URL=api_url)
    with log_path.open("ab") as log:
        subprocess.run(
            [sys.executable, "-m", "chatapp.server.serve", "--build-only"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            check=True,
            timeout=600,
        )
    return time.monotonic() - start


@dataclass
class Instance:
    """One app instance started by the production start script."""

    name: str
    port: int
    env: dict[str, str]
    log_path: Path
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Instance:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "chatapp.server.serve", "--no-build", "--port", str(self.port)],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def wait_ready(self, timeout: float = 90) -> Instance:
        """Waits for `/api/health` to answer 200 (database, Redis, migrations)."""
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited:\n{self.log_path.read_text()[-3000:]}")
            try:
                if httpx.get(self.url + "/api/health", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"{self.name} not ready:\n{self.log_path.read_text()[-3000:]}")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signals the whole process group (the supervisor and its granian workers)."""
        if self.proc is None:
            return
        with suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)
        self.proc = None

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

    def log_records(self) -> list[dict]:
        """The JSON lines this instance logged."""
        import json

        out = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                with suppress(ValueError):
                    out.append(json.loads(line))
        return out


@dataclass
class Nginx:
    """nginx with the shipped chatapp.conf, under a private prefix."""

    prefix: Path
    upstreams: list[str]
    http_port: int = field(default_factory=free_port)
    https_port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    def _cert(self) -> tuple[Path, Path]:
        cert, key = self.prefix / "cert.pem", self.prefix / "key.pem"
        subprocess.run(
            [
                "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                "-keyout", str(key), "-out", str(cert),
            ],
            check=True,
            capture_output=True,
        )  # fmt: skip
        return cert, key

    def start(self) -> Nginx:
        self.prefix.mkdir(parents=True, exist_ok=True)
        # nginx workers drop to `nobody` when the master is root: they need to read and write here.
        self.prefix.chmod(0o755)
        for sub in ("logs", "tmp"):
            (self.prefix / sub).mkdir(exist_ok=True)
            (self.prefix / sub).chmod(0o777)
        cert, key = self._cert()
        values = {
            "CHATAPP_UPSTREAM_1": self.upstreams[0],
            "CHATAPP_UPSTREAM_2": self.upstreams[1],
            "NGINX_HTTP_PORT": str(self.http_port),
            "NGINX_HTTPS_PORT": str(self.https_port),
            "TLS_CERT": str(cert),
            "TLS_KEY": str(key),
        }
        site = render_conf(CHATAPP_CONF.read_text(), values)
        (self.prefix / "chatapp.conf").write_text(site)
        tmp = self.prefix / "tmp"
        (self.prefix / "nginx.conf").write_text(
            f"""daemon off;
worker_processes 1;
pid {self.prefix}/nginx.pid;
error_log {self.prefix}/logs/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log {self.prefix}/logs/access.log;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    include /etc/nginx/mime.types;
    include {self.prefix}/chatapp.conf;
}}
"""
        )
        self.proc = subprocess.Popen(
            [NGINX, "-p", str(self.prefix), "-c", str(self.prefix / "nginx.conf")],
            stdout=subprocess.DEVNULL,
            stderr=(self.prefix / "logs" / "stderr.log").open("ab"),
            start_new_session=True,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError((self.prefix / "logs" / "stderr.log").read_text())
            try:
                httpx.get(f"http://127.0.0.1:{self.http_port}/", timeout=1)
                return self
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError("nginx did not start")

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGQUIT)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
        self.proc = None
