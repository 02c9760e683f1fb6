"""The open API over real HTTP: our HTTP app (`build_api`) on 127.0.0.1, the fake
OpenAI-compatible server as the upstream, a real database, users with sessions and keys."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest
from sqlmodel import Session

from chatapp.api.open_api_settings import OpenApiSettings
from chatapp.api.routes import build_api
from chatapp.auth import sessions
from chatapp.core.config import Settings, load_settings, set_settings
from chatapp.models import User
from testkit.fakes.openai_server import FakeOpenAI
from testkit.net import serve

UPSTREAM_KEY = "sk-upstream-deployment"
MODELS = ("fake-gpt", "fake-mini")


@pytest.fixture(scope="module")
def upstream() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(api_key=UPSTREAM_KEY) as srv:
        yield srv


def api_settings(tmp_path, upstream: FakeOpenAI, **extra: str) -> Settings:
    return load_settings(
        {
            "CHATAPP_ENV": "dev",
            "CHATAPP_DATA_DIR": str(tmp_path),
            "JWT_SECRET": "j" * 48,
            "OPENAI_API_KEY": UPSTREAM_KEY,
            "OPENAI_BASE_URL": upstream.base_url,
            "CHATAPP_MODELS": ",".join(MODELS),
            "CHAT_SENDS_PER_MINUTE": "10000",
            "CHAT_MAX_CONCURRENT_ANSWERS": "100",
            "CHAT_MAX_REPLY_TOKENS": "2000",
            "LLM_TIMEOUT": "5",
            **extra,
        }
    )


@dataclass
class Running:
    """Our API on a port, and a way to make users."""

    settings: Settings
    base_url: str
    engine: object

    @property
    def v1(self) -> str:
        return self.base_url + "/v1"

    def user(self, openid: str = "o_api_user") -> str:
        """A new user's session token."""
        with Session(self.engine, expire_on_commit=False) as s:  # type: ignore[arg-type]
            user = User(openid=openid)
            s.add(user)
            s.commit()
            assert user.id is not None
            token = sessions.issue_session(s, settings=self.settings, user_id=user.id)
            s.commit()
        return token

    def new_key(self, token: str, name: str = "script") -> str:
        """A key created over HTTP with the session."""
        reply = httpx.post(
            self.base_url + "/api/v1/keys",
            json={"name": name},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert reply.status_code == 201, reply.text
        return reply.json()["key"]


@pytest.fixture
def start(tmp_path, engine, upstream) -> Iterator[Callable[..., Running]]:
    """start(open_api=..., **env) → our API serving on 127.0.0.1."""
    stack = []
    upstream.reset()

    def _start(open_api: OpenApiSettings | None = None, **env: str) -> Running:
        settings = api_settings(tmp_path, upstream, **env)
        set_settings(settings)
        cm = serve(build_api(settings, open_api=open_api or OpenApiSettings()))
        base_url = cm.__enter__()
        stack.append(cm)
        return Running(settings, base_url, engine)

    yield _start
    for cm in reversed(stack):
        cm.__exit__(None, None, None)
    set_settings(None)
