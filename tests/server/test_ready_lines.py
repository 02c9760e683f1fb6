"""What `make run` tells a newcomer: the URL, how to log in in dev mode, and that the request log
is one setting away (the Makefile keeps it out of the terminal)."""

from __future__ import annotations

import subprocess

from chatapp.server.serve import ready_lines
from testkit.paths import ROOT


def test_dev_mode_says_the_simulator_logs_you_in():
    lines = ready_lines(port=3000, workers=1, demo=True, dev=True)
    assert "http://localhost:3000" in lines[1]
    assert "演示模型" in lines[0]
    assert "「模拟微信登录」" in lines[2] and "LOG_LEVEL=info" in lines[2]


def test_production_prints_no_simulator_line():
    lines = ready_lines(port=8080, workers=2, demo=False, dev=False)
    assert lines == ["chatapp: serving on http://localhost:8080 with 2 worker(s)"]


def test_make_run_logs_warnings_unless_asked():
    dry = subprocess.run(
        ["make", "-n", "-s", "-o", "setup", "run"], cwd=ROOT, capture_output=True, text=True
    )
    assert "LOG_LEVEL=${LOG_LEVEL:-warning}" in dry.stdout, dry.stdout
