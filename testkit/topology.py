"""The production topology on one machine, without Docker: the frontend built once as the image
builds it, app instances started by the image's start script (`testkit.app.AppServer` with
`--no-build`), one PostgreSQL database (`testkit.postgres`), one Redis DB, and nginx with the
shipped `deploy/nginx/chatapp.conf` (TLS with a throw-away self-signed cert).

Everything listens on free ports picked at runtime and is stopped by the fixture that started it.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from testkit.app import app_env
from testkit.net import free_port
from testkit.paths import ROOT

NGINX = "/usr/sbin/nginx"
CHATAPP_CONF = ROOT / "deploy" / "nginx" / "chatapp.conf"
# Never DB 0 (developers use it); the benchmarks pick an empty one of their own.
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
