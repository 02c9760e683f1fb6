"""Where `python -m bench.run` writes its JSON: CI's smoke run must leave a clean checkout clean."""

from __future__ import annotations

import subprocess

from bench.run import results_file
from testkit.paths import ROOT


def test_only_a_full_default_run_replaces_latest_json():
    assert results_file(False).name == "latest.json"
    assert results_file(True).name == "smoke.json"
    assert results_file(True, {"load"}, workers=2).name == "smoke.json"
    for custom in (
        results_file(False, {"ttft"}),
        results_file(False, workers=2, database="postgres"),
        results_file(False, load_steps=[200, 300]),
        results_file(False, ramp_s=5.0),
    ):
        assert custom.name == "custom.json"


def test_what_smoke_and_custom_runs_write_is_git_ignored():
    for name in ("smoke.json", "custom.json", "2026-12-01-1314.json", "last-app.log"):
        path = f"bench/results/{name}"
        assert subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT).returncode == 0, path
    tracked = subprocess.run(["git", "check-ignore", "-q", "bench/results/latest.json"], cwd=ROOT)
    assert tracked.returncode == 1
