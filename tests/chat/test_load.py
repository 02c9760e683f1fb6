"""Load: 100 users × 20 messages at once through the real use cases, the real HTTP client and a
fake upstream. Every message and answer is stored exactly once, in order, in its owner's
conversation; nothing leaks across users. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from chatapp.chat import answers, conversations, store
from chatapp.core.db import get_engine, session_scope
from chatapp.llm import ChatClient
from chatapp.models import User
from testkit.fakes.openai_server import FakeOpenAI, Reply

USERS = 100
MESSAGES = 20


async def _user(index: int, client: ChatClient) -> tuple[int, str]:
    def setup() -> tuple[int, str]:
        with session_scope() as s:
            user = User(openid=f"load-{index}")
            s.add(user)
            s.flush()
            assert user.id is not None
            conv = store.create_conversation(s, user_id=user.id, model="fake-gpt")
            return user.id, conv.id

    user_id, cid = await asyncio.to_thread(setup)
    for i in range(MESSAGES):

        def send(i: int = i) -> tuple[conversations.Turn, answers.AnswerRequest]:
            with session_scope() as s:
                turn = conversations.send_message(
                    s, user_id=user_id, conversation_id=cid, text=f"u{index}-m{i}"
                )
                return turn, conversations.build_request(s, user_id=user_id, turn=turn)

        turn, request = await asyncio.to_thread(send)
        job = answers.AnswerJob(
            user_id=user_id, message_id=turn.assistant_message_id, request=request, client=client
        )  # type: ignore[arg-type]
        await job.run()
        assert job.status == "done", (index, i, job.error_code)
    return user_id, cid


async def test_100_users_20_messages_each_nothing_lost_or_leaked(engine):
    with FakeOpenAI(default=Reply(chunk_chars=3, chunks_per_s=0)) as fake:
        client = ChatClient(fake.base_url, None, max_retries=0)
        try:
            results = await asyncio.gather(*(_user(i, client) for i in range(USERS)))
        finally:
            await client.aclose()
        assert fake.completed == USERS * MESSAGES

    for index, (user_id, cid) in enumerate(results):
        with session_scope() as s:
            rows = store.list_messages(s, user_id=user_id, conversation_id=cid)
        assert [m.kind for m in rows] == ["user", "assistant"] * MESSAGES
        for i in range(MESSAGES):
            question, answer = rows[2 * i], rows[2 * i + 1]
            assert question.content == f"u{index}-m{i}"
            assert answer.content == f"You said: u{index}-m{i}"  # the fake echoes the question
            assert answer.status == "done" and answer.finish_reason == "stop"
        assert [m.id for m in rows] == sorted(m.id for m in rows)

    with get_engine().connect() as db:
        total = db.execute(text("SELECT count(*) FROM message")).scalar_one()
        leaks = db.execute(
            text(
                "SELECT count(*) FROM message m JOIN conversation c ON c.id = m.conversation_id WHERE c.user_id != m.user_id"
            )
        ).scalar_one()
    assert total == USERS * MESSAGES * 2
    assert leaks == 0
