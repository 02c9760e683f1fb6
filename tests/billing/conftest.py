"""Fixtures of the billing tests: each test starts with no 敏感词 cached in the process (the
cache is per process, the database per test)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chatapp.billing import sensitive


@pytest.fixture(autouse=True)
def _fresh_word_cache() -> Iterator[None]:
    sensitive.forget_cached_policy()
    yield
    sensitive.forget_cached_policy()
