"""The benchmarks and the shared test infrastructure stand on their own: neither imports `tests`
(what both need lives in `testkit`)."""

from __future__ import annotations

import ast

import pytest

from testkit.paths import ROOT


def _imported_modules(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("folder", ["bench", "testkit"])
def test_nothing_outside_tests_imports_tests(folder):
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            m for m in _imported_modules(ast.parse(path.read_text())) if m.split(".")[0] == "tests"
        )
        for path in sorted((ROOT / folder).rglob("*.py"))
    }
    assert {p: m for p, m in offenders.items() if m} == {}
