"""Static checks of the shipped deployment files (no hadolint offline: these are the ones we need)."""

from __future__ import annotations

import re
import subprocess

import yaml

from testkit.paths import ROOT
from testkit.topology import CHATAPP_CONF, NGINX, render_conf

TEMPLATE_VARS = set(re.findall(r"\$\{([A-Z0-9_]+)\}", CHATAPP_CONF.read_text()))


def test_chatapp_conf_templates_only_upstreams_ports_and_certs():
    assert {
        "CHATAPP_UPSTREAM_1",
        "CHATAPP_UPSTREAM_2",
        "NGINX_HTTP_PORT",
        "NGINX_HTTPS_PORT",
        "TLS_CERT",
        "TLS_KEY",
    } == TEMPLATE_VARS


def test_compose_wires_every_template_variable_and_the_services():
    compose = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text())
    services = compose["services"]
    assert {"nginx", "app1", "app2", "postgres", "redis"} <= set(services)
    assert set(services["nginx"]["environment"]) >= TEMPLATE_VARS
    for name in ("app1", "app2"):
        env = services[name]["environment"]
        assert env["REDIS_URL"].startswith("redis://redis:")
        assert env["DATABASE_URL"].startswith("postgresql+psycopg://")
        assert services[name]["env_file"] == "../.env"
    assert "pgdata:/var/lib/postgresql/data" in services["postgres"]["volumes"]
    mount = "./nginx/chatapp.conf:/etc/nginx/templates/default.conf.template:ro"
    assert mount in services["nginx"]["volumes"]


def test_dockerfile_is_multi_stage_non_root_with_healthcheck_and_one_start_script():
    text = (ROOT / "Dockerfile").read_text()
    assert len(re.findall(r"^FROM ", text, re.M)) == 2
    assert re.search(r"^USER chatapp$", text, re.M)
    assert "HEALTHCHECK" in text and "/api/health" in text
    assert 'CMD ["python", "-m", "chatapp.server.serve", "--no-build"]' in text
    assert "pip install -r requirements.lock" in text
    assert "--build-only" in text  # the frontend is built at image build time
    runtime = text.split("AS runtime", 1)[1]
    assert "npm" not in runtime.replace("npm only", "") and "bun@" not in runtime


def test_lock_pins_every_runtime_dependency():
    pins = dict(
        line.split("==", 1)
        for line in (ROOT / "requirements.lock").read_text().splitlines()
        if line and not line.startswith("#")
    )
    for name in ("reflex", "sqlmodel", "alembic", "prometheus-client", "psycopg", "redis"):
        assert name in pins, name
    assert "pytest" not in pins and "playwright" not in pins


def test_rendered_conf_passes_nginx_syntax_check(tmp_path):
    site = render_conf(
        CHATAPP_CONF.read_text(),
        {
            "CHATAPP_UPSTREAM_1": "127.0.0.1:1",
            "CHATAPP_UPSTREAM_2": "127.0.0.1:2",
            "NGINX_HTTP_PORT": "8080",
            "NGINX_HTTPS_PORT": "8443",
            "TLS_CERT": str(tmp_path / "c.pem"),
            "TLS_KEY": str(tmp_path / "k.pem"),
        },
    )
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=t",
         "-keyout", str(tmp_path / "k.pem"), "-out", str(tmp_path / "c.pem")],
        check=True,
        capture_output=True,
    )  # fmt: skip
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/n.pid; error_log {tmp_path}/e.log; events {{}}\n"
        f"http {{ include /etc/nginx/mime.types; include {tmp_path}/site.conf; }}\n"
    )
    check = subprocess.run(
        [NGINX, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stderr


def test_every_third_party_import_of_the_app_is_locked():
    """The image installs only requirements.lock: an import satisfied by a dev tool's dependency
    (fastapi came in through llmock once) would pass every test here and crash in the image."""
    import ast
    import sys
    from importlib.metadata import packages_distributions

    from packaging.utils import canonicalize_name

    pins = {
        canonicalize_name(line.split("==", 1)[0])
        for line in (ROOT / "requirements.lock").read_text().splitlines()
        if line and not line.startswith("#")
    }
    owners = packages_distributions()
    missing = set()
    for path in [*(ROOT / "chatapp").rglob("*.py"), ROOT / "rxconfig.py"]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top in sys.stdlib_module_names or top == "chatapp":
                    continue
                dists = {canonicalize_name(d) for d in owners.get(top, [top])}
                if not dists & pins:
                    missing.add(f"{top} ({path.relative_to(ROOT)})")
    assert not missing, (
        f"imported but not in requirements.lock (add to pyproject, `make lock`): {missing}"
    )
