"""What a hostile user can push upstream: the attack of issue 20 (context window 200, token budget
1,000,000, max tokens 128,000, stored in the conversation) against the real fake OpenAI server,
through the turn the send handlers run (`chat.screens.start_turn`). The server records what it
received; it must respect the operator's ceilings."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chatapp.chat import answers, conversations, screens, store
from chatapp.chat.prompts import message_tokens
from chatapp.chat.providers import get_router
from chatapp.core.config import Settings, load_settings, set_settings
from chatapp.core.db import session_scope
from chatapp.models import Message, User
from testkit.fakes.openai_server import FakeOpenAI, Reply

KEY = "sk-upstream-test"
# ~500 estimated tokens each: 150 exchanges are ~150k tokens of history.
LONG = "All work and no play makes Jack a dull boy. " * 45


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(api_key=KEY, default=Reply(text="ok")) as srv:
        yield srv


def _settings(tmp_path, fake: FakeOpenAI, **env: str) -> Iterator[Settings]:
    settings = load_settings(
        {
            "CHATAPP_DATA_DIR": str(tmp_path),
            "OPENAI_API_KEY": KEY,
            "OPENAI_BASE_URL": fake.base_url,
            "CHATAPP_MODELS": "fake-gpt",
            **env,
        }
    )
    set_settings(settings)
    try:
        yield settings
    finally:
        set_settings(None)


@pytest.fixture
def settings(tmp_path, fake, engine) -> Iterator[Settings]:
    yield from _settings(tmp_path, fake)


def _hostile_conversation(**params) -> tuple[int, str]:
    """A user whose conversation holds the attack's settings and a long history (seeded through
    the session, as a client that skipped the form, or a row from before the ceilings, would)."""
    with session_scope() as s:
        user = User(openid="o_hostile")
        s.add(user)
        s.flush()
        assert user.id is not None
        conv = store.create_conversation(
            s,
            user_id=user.id,
            model="fake-gpt",
            context_window=200,
            token_budget=1_000_000,
            max_tokens=128_000,
            temperature=9.0,
            top_p=5.0,
            **params,
        )
        for i in range(150):
            for kind in ("user", "assistant"):
                s.add(
                    Message(
                        conversation_id=conv.id, user_id=user.id, kind=kind, content=f"{i} {LONG}"
                    )
                )
        return user.id, conv.id


async def _send_through_the_turn(user_id: int, cid: str, settings: Settings) -> None:
    """What the send handlers do once the message passed the rate check: the turn, the request
    (`start_turn`), the model call, until the answer has ended."""
    started = screens.start_turn(
        lambda s: conversations.send_message(
            s,
            user_id=user_id,
            conversation_id=cid,
            text="and now?",
            max_answers=settings.max_concurrent_answers,
        ),
        user_id=user_id,
        lang="zh",
        appending=True,
    )
    job = answers.start_answer(
        user_id=user_id,
        message_id=started.turn.assistant_message_id,
        request=started.request,
        client=get_router().client_for(started.request.model),
    )
    await job.done.wait()
    assert job.status == "done"


async def test_the_attacks_settings_are_clamped_to_the_ceilings_upstream(settings, fake):
    user_id, cid = _hostile_conversation()
    await _send_through_the_turn(user_id, cid, settings)
    [sent] = [r for r in fake.requests if r.path.endswith("/chat/completions")]
    body = sent.json
    assert body["max_tokens"] == 8192  # CHAT_MAX_REPLY_TOKENS, not 128,000
    assert body["temperature"] == 2.0 and body["top_p"] == 1.0
    history = body["messages"]
    assert len(history) <= 50  # CHAT_MAX_CONTEXT_MESSAGES, not 200
    assert history[-1] == {"role": "user", "content": "and now?"}
    assert sum(message_tokens(m["content"]) for m in history) <= 32_000  # CHAT_MAX_TOKEN_BUDGET
    # The attack sent ~1.5 MB per request (44.7 MB in 30 sends); the budget bounds it.
    assert len(str(body).encode()) < 32_000 * 4 + 50 * 200


@pytest.fixture
def tight(tmp_path, fake, engine) -> Iterator[Settings]:
    yield from _settings(
        tmp_path,
        fake,
        CHAT_MAX_CONTEXT_MESSAGES="6",
        CHAT_MAX_TOKEN_BUDGET="1500",
        CHAT_MAX_REPLY_TOKENS="300",
        CHAT_DEFAULT_REPLY_TOKENS="200",
    )


async def test_lowered_ceilings_bind_values_stored_before_and_unset_ones_get_the_default(
    tight, fake
):
    user_id, cid = _hostile_conversation()
    await _send_through_the_turn(user_id, cid, tight)
    body = fake.requests[-1].json
    assert body["max_tokens"] == 300
    assert len(body["messages"]) <= 6
    assert sum(message_tokens(m["content"]) for m in body["messages"]) <= 1500
    with session_scope() as s:  # a conversation that never set a reply length
        conv = store.get_conversation(s, user_id=user_id, conversation_id=cid)
        assert conv is not None
        conv.max_tokens = None
        s.add(conv)
    await _send_through_the_turn(user_id, cid, tight)
    assert fake.requests[-1].json["max_tokens"] == 200  # CHAT_DEFAULT_REPLY_TOKENS
