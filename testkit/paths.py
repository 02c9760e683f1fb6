"""Where things are: the checkout, and the folder test runs keep their evidence in."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Screenshots and app logs of browser runs (git-ignored; CI keeps them as artifacts).
ARTIFACTS = ROOT / "test-artifacts"
