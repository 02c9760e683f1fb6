"""Settings and users for the chat tests: a deployment with two models and lowered ceilings."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import Session

from chatapp.core.config import Settings, load_settings, set_settings


@pytest.fixture
def settings(tmp_path, engine) -> Iterator[Settings]:
    """Models m1 and m2 from an env provider (never called), ceilings 30 messages / 1,000 reply
    tokens."""
    s = load_settings(
        {
            "CHATAPP_DATA_DIR": str(tmp_path),
            "OPENAI_API_KEY": "sk-deployment",
            "OPENAI_BASE_URL": "http://127.0.0.1:9/v1",
            "CHATAPP_MODELS": "m1,m2",
            "CHAT_MAX_CONTEXT_MESSAGES": "30",
            "CHAT_MAX_REPLY_TOKENS": "1000",
            "CHAT_DEFAULT_REPLY_TOKENS": "500",
        }
    )
    set_settings(s)
    yield s
    set_settings(None)


@pytest.fixture
def users(session: Session, settings, users) -> tuple[int, int]:
    """Alice and Bob (tests/conftest.py), seeded under this package's settings."""
    return users
