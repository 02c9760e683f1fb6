"""Fixtures of the role tests: a role of Alice's (the users come from tests/conftest.py) and a
model resolver offering two models."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from chatapp.roles.schema import Opening, RoleInput


@pytest.fixture
def mine() -> RoleInput:
    """A user's role with a prompt, an opening pair, a tag and some defaults."""
    return RoleInput(
        name="我的助手",
        system_prompt="你是我的助手。",
        opening=(Opening("user", "你好"), Opening("assistant", "你好！")),
        model="m-2",
        temperature=0.2,
        context_window=6,
        tags=("工作",),
    )


@pytest.fixture
def resolve() -> Callable[[str | None], str]:
    """A deployment offering m-1 (the default) and m-2."""

    def resolve_model(model: str | None) -> str:
        return model if model in {"m-1", "m-2"} else "m-1"

    return resolve_model
