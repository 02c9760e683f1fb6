"""`start_scan` is an event any client can send: it does nothing unless scan login is on (each
run costs a WeChat API call and a database row)."""

from __future__ import annotations

import asyncio

import pytest
from sqlmodel import select

from chatapp.core.config import set_settings
from chatapp.core.db import session_scope
from chatapp.models import LoginTicket
from chatapp.state.auth import LoginState
from tests.auth.conftest import make_settings


@pytest.fixture
def code_mode(tmp_path, db, fake_api):
    fake, url = fake_api
    set_settings(make_settings(tmp_path, WECHAT_LOGIN="code", WECHAT_API_BASE=url))
    yield fake
    set_settings(None)


async def test_start_scan_is_refused_in_code_mode(code_mode):
    fake = code_mode
    state = LoginState(_reflex_internal_init=True)  # type: ignore[call-arg]

    async def run() -> list:
        return [event async for event in LoginState.start_scan.fn(state)]  # type: ignore[attr-defined]

    events = await asyncio.wait_for(run(), timeout=10)
    assert events == []
    assert fake.token_requests == [] and fake.qrcode_requests == []
    assert state.scan_status == "" and state.qr_url == ""
    with session_scope() as session:
        assert session.exec(select(LoginTicket)).all() == []
