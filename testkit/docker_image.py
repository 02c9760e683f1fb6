"""Building and running the app's Docker image for tests: the build context, the classic build with
its per-step timings, the container handle, and the report the image test writes.

One tag, volume and port per checkout, so several work trees can share one Docker engine; the
image test (tests/deploy/test_image.py) drives them.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from testkit.net import free_port
from testkit.paths import ARTIFACTS, ROOT

EVIDENCE = ARTIFACTS / "image"
# Where a TLS proxy's CA is trusted on this machine (what pip, npm and git use here).
CA_BUNDLE = Path(os.environ.get("SSL_CERT_FILE") or "/etc/ssl/certs/ca-certificates.crt")
# One tag, volume and port per checkout: several work trees may share one Docker engine.
_CHECKOUT = hashlib.sha256(str(ROOT).encode()).hexdigest()[:10]
IMAGE = f"chatapp-test:{_CHECKOUT}"
BUILD_STAGE = f"chatapp-test-build:{_CHECKOUT}"
LABEL = "chatapp.test-image"
BUILD_TIMEOUT_S = 1500


@dataclass
class Report:
    """What the run measured; printed and written to EVIDENCE/report.json at the end."""

    values: dict[str, object] = field(default_factory=dict)

    def __setitem__(self, key: str, value: object) -> None:
        self.values[key] = value

    def write(self) -> None:
        EVIDENCE.mkdir(parents=True, exist_ok=True)
        (EVIDENCE / "report.json").write_text(json.dumps(self.values, indent=2) + "\n")
        print("\nimage test: " + json.dumps(self.values, indent=1))


REPORT = Report()


def docker(*args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess:
    """Runs the docker client; output captured as text."""
    proc = subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"docker {' '.join(args[:3])} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


def _port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        # As a server binds (granian does): a port is free even with connections in TIME_WAIT.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("0.0.0.0", port))  # the container listens on all interfaces
        except OSError:
            return False
    return True


def checkout_port() -> int:
    """A port fixed per checkout (below the ephemeral range), so the build's last step (the bundle
    bakes the websocket address, port included) stays cached between runs; any free one if taken."""
    preferred = 20000 + int(_CHECKOUT, 16) % 12000
    return preferred if _port_is_free(preferred) else free_port()


def build_context(dest: Path) -> Path:
    """The checkout as a fresh clone would have it (tracked and new, not ignored files), plus this
    machine's CA bundle in deploy/ca/ (never committed: deploy/ca/.gitignore)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for raw in filter(None, listed):
        rel = raw.decode()
        src = ROOT / rel
        if not src.is_file():  # deleted in the work tree, not yet committed
            continue
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target)
    shutil.copyfile(CA_BUNDLE, dest / "deploy" / "ca" / "build-machine.crt")
    return dest


def build_image(context: Path, base: str, public_url: str) -> dict[str, object]:
    """`docker build` with the classic builder; returns seconds per step and the total."""
    env = dict(os.environ, DOCKER_BUILDKIT="0", DOCKER_CLI_HINTS="false")
    cmd = [
        "docker", "build", "--network", "host", "--label", f"{LABEL}=1",
        "--build-arg", f"PYTHON_IMAGE={base}", "--build-arg", f"PUBLIC_URL={public_url}",
        "-t", IMAGE, str(context),
    ]  # fmt: skip
    EVIDENCE.mkdir(parents=True, exist_ok=True)
    steps: list[tuple[str, float, bool]] = []
    t0 = last = time.monotonic()
    current, cached = "", False
    with (EVIDENCE / "build.log").open("w") as log:
        proc = subprocess.Popen(
            cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            now = time.monotonic()
            log.write(f"{now - t0:7.1f} {line}")
            if line.startswith("Step "):
                if current:
                    steps.append((current, now - last, cached))
                number = line.split()[1].split("/")[0]
                current, cached, last = f"{number} {line.split(':', 1)[1].strip()[:60]}", False, now
            elif "Using cache" in line:
                cached = True
            if now - t0 > BUILD_TIMEOUT_S:
                proc.kill()
        code = proc.wait()
        if current:
            steps.append((current, time.monotonic() - last, cached))
    total = time.monotonic() - t0
    assert code == 0, f"docker build failed:\n{(EVIDENCE / 'build.log').read_text()[-4000:]}"
    # Tag the build stage too (all cached: ~1 s), or the prune below would take its layers with it
    # (an untagged stage is "dangling") and the next run would rebuild the frontend.
    stage = [*cmd[:-3], "--target", "build", "-t", BUILD_STAGE, str(context)]
    tagged = subprocess.run(stage, env=env, capture_output=True, text=True, timeout=300)
    assert tagged.returncode == 0, tagged.stdout[-2000:] + tagged.stderr
    slow = sorted((s for s in steps if not s[2]), key=lambda s: -s[1])[:6]
    return {
        "build_s": round(total, 1),
        "build_steps_cached": f"{sum(1 for s in steps if s[2])}/{len(steps)}",
        "build_slowest_steps_s": {name: round(sec, 1) for name, sec, _ in slow},
    }


@dataclass
class Container:
    """The app's container: its name, volume, address and the settings it runs with."""

    name: str
    volume: str
    port: int
    env: dict[str, str]

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}"

    def health(self) -> str:
        out = docker("inspect", "-f", "{{.State.Status}} {{.State.Health.Status}}", self.name)
        return out.stdout.strip()

    def wait_healthy(self, timeout: float = 180) -> float:
        """Seconds until Docker's HEALTHCHECK says healthy (fails if the container exits)."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            state = self.health()
            if state == "running healthy":
                return time.monotonic() - t0
            if not state.startswith("running"):
                break
            time.sleep(0.25)
        raise AssertionError(
            f"container {state!r} after {time.monotonic() - t0:.0f} s:\n{self.logs()}"
        )

    def logs(self) -> str:
        out = docker("logs", self.name, check=False)
        return out.stdout + out.stderr

    def exec(self, *cmd: str) -> subprocess.CompletedProcess:
        return docker("exec", self.name, *cmd, check=False)
