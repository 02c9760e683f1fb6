"""Per-user spending limits (`chatapp.chat.spend`): sends per minute (memory and Redis, as two workers
see it) and answers at once (the database count, under concurrent sends, after a kill), on real
databases. Refusals store nothing and drop nothing."""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from datetime import timedelta

import pytest
from sqlmodel import col, func, select

from chatapp.chat import answers, conversations, spend, store
from chatapp.chat.spend import SendLimited
from chatapp.core.config import load_settings
from chatapp.core.db import session_scope
from chatapp.llm.types import StreamDone, TextDelta, Usage
from chatapp.models import Message, User, utcnow
from testkit.topology import REDIS_TEST_URL


@pytest.fixture
def alice(engine) -> int:
    return _user("alice")


def _user(openid: str) -> int:
    with session_scope() as s:
        user = User(openid=openid)
        s.add(user)
        s.flush()
        assert user.id is not None
        return user.id


def _conv(user_id: int) -> str:
    with session_scope() as s:
        return store.create_conversation(s, user_id=user_id, model="m1").id


def _send(user_id: int, cid: str, text: str = "hi", *, limit: int = 3) -> conversations.Turn:
    with session_scope() as s:
        return conversations.send_message(
            s, user_id=user_id, conversation_id=cid, text=text, max_answers=limit
        )


def _finish(user_id: int, message_id: int) -> None:
    with session_scope() as s:
        store.update_message(s, user_id=user_id, message_id=message_id, status="done", content="a")


def _rows(user_id: int) -> list[tuple[int, str, str, str]]:
    with session_scope() as s:
        rows = s.exec(
            select(Message).where(Message.user_id == user_id).order_by(col(Message.id))
        ).all()
        return [(m.id or 0, m.kind, m.content, m.status) for m in rows]


def _settings(tmp_path, **env: str):
    return load_settings({"CHATAPP_DATA_DIR": str(tmp_path), **env})


# ---- sends per minute -----------------------------------------------------------------------------


async def test_the_send_after_the_limit_within_a_minute_is_refused_per_user(tmp_path):
    guard = spend.make_send_guard(_settings(tmp_path, CHAT_SENDS_PER_MINUTE="3"))
    for _ in range(3):
        await guard.hit(1)
    with pytest.raises(SendLimited) as caught:
        await guard.hit(1)
    assert caught.value.reason == "send_rate_limited" and caught.value.limit == 3
    assert 1 <= caught.value.retry_after_s <= 60
    await guard.hit(2)  # another user has a window of their own
    text = spend.describe(caught.value, "zh")
    assert "每分钟最多 3 次" in text and f"{caught.value.retry_after_s} 秒后再试" in text
    assert "at most 3 per minute" in spend.describe(caught.value, "en")


async def test_workers_sharing_redis_count_the_same_sends(tmp_path):
    settings = _settings(tmp_path, REDIS_URL=REDIS_TEST_URL, CHAT_SENDS_PER_MINUTE="3")
    prefix = f"test-spend-{uuid.uuid4().hex}"
    worker_a = spend.make_send_guard(settings, key_prefix=prefix)
    worker_b = spend.make_send_guard(settings, key_prefix=prefix)
    await worker_a.hit(7)
    await worker_b.hit(7)
    await worker_a.hit(7)
    with pytest.raises(SendLimited):
        await worker_b.hit(7)  # the fourth send, whichever worker gets it


async def test_an_unreachable_rate_storage_lets_sends_through_and_says_so_once(tmp_path, caplog):
    settings = _settings(tmp_path, REDIS_URL="redis://127.0.0.1:1/0", CHAT_SENDS_PER_MINUTE="1")
    guard = spend.make_send_guard(settings)
    with caplog.at_level(logging.WARNING, logger="chatapp.chat.spend"):
        for _ in range(3):
            await guard.hit(1)
    assert [r.getMessage() for r in caplog.records] == [
        "send rate limit not checked: its storage is unreachable"
    ]


# ---- answers at once ------------------------------------------------------------------------------


def test_a_send_past_the_answer_limit_is_refused_and_stores_nothing(alice):
    first = _send(alice, _conv(alice), limit=2)
    _send(alice, _conv(alice), limit=2)
    before = _rows(alice)
    with pytest.raises(SendLimited) as caught:
        _send(alice, _conv(alice), "third", limit=2)
    assert caught.value.reason == "too_many_answers"
    assert _rows(alice) == before  # no user message, no answer slot
    assert "每人最多 2 个" in spend.describe(caught.value, "zh")
    assert "at most 2 per user" in spend.describe(caught.value, "en")
    _finish(alice, first.assistant_message_id)  # an answer ends: the slot is free again
    _send(alice, _conv(alice), "third", limit=2)


def test_regenerate_and_edit_past_the_limit_are_refused_and_drop_nothing(alice):
    cid = _conv(alice)
    done = _send(alice, cid, "question", limit=1)
    _finish(alice, done.assistant_message_id)
    _send(alice, _conv(alice), "elsewhere", limit=1)  # streaming in another tab
    before = _rows(alice)
    # The scope inside: it sees the refusal and rolls back, as `_start_turn`'s does.
    with pytest.raises(SendLimited), session_scope() as s:
        conversations.regenerate(
            s, user_id=alice, message_id=done.assistant_message_id, max_answers=1
        )
    with pytest.raises(SendLimited), session_scope() as s:
        conversations.edit_and_resend(
            s, user_id=alice, message_id=done.user_message_id, text="changed", max_answers=1
        )
    assert _rows(alice) == before  # the answer was not deleted, the question not changed


def test_other_users_finished_and_dead_answers_do_not_count(alice):
    bob = _user("bob")
    for _ in range(3):
        _send(bob, _conv(bob))
    done = _send(alice, _conv(alice), limit=2)
    _finish(alice, done.assistant_message_id)
    killed = _send(alice, _conv(alice), limit=2)
    # Its process was killed: no checkpoint since (the start-up reaper has not run yet).
    with session_scope() as s:
        row = s.get(Message, killed.assistant_message_id)
        assert row is not None
        row.updated_at = utcnow() - timedelta(seconds=answers.STALE_STREAM_S + 1)
        s.add(row)
    with session_scope() as s:
        assert (
            spend.live_answers(
                s,
                user_id=alice,
                fresh_since=utcnow() - timedelta(seconds=answers.STALE_STREAM_S),
            )
            == 0
        )
    _send(alice, _conv(alice), limit=1)


def test_concurrent_sends_of_one_user_never_open_more_than_the_limit(alice):
    """Six tabs (six conversations) press send at the same moment: two answers open."""
    tabs = [_conv(alice) for _ in range(6)]
    barrier = threading.Barrier(len(tabs))
    outcomes: list[str] = []

    def tab(cid: str) -> None:
        barrier.wait()
        try:
            _send(alice, cid, limit=2)
            outcomes.append("sent")
        except SendLimited:
            outcomes.append("refused")

    threads = [threading.Thread(target=tab, args=(cid,)) for cid in tabs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["refused"] * 4 + ["sent"] * 2
    with session_scope() as s:
        streaming = s.exec(
            select(func.count())
            .select_from(Message)
            .where(Message.user_id == alice, Message.status == "streaming")
        ).one()
        users = s.exec(
            select(func.count()).select_from(Message).where(Message.kind == "user")
        ).one()
    assert (streaming, users) == (2, 2)


class _SilentModel:
    """Sends one chunk, then nothing until cancelled; records whether its stream was closed."""

    def __init__(self) -> None:
        self.closed = asyncio.Event()

    async def stream_chat(self, messages, model, **params):
        try:
            yield TextDelta("partial")
            await asyncio.sleep(3600)
            yield StreamDone("stop", Usage(1, 1, 2))
        finally:
            self.closed.set()


async def test_an_answer_whose_message_was_deleted_stops_its_model_call(alice):
    """Deleting a streaming answer (another tab's regenerate, edit or delete) must not leave its
    model call running uncounted: the checkpointer notices the row is gone and stops the job."""
    turn = _send(alice, _conv(alice))
    model = _SilentModel()
    with session_scope() as s:
        request = conversations.build_request(s, user_id=alice, turn=turn)
    job = answers.AnswerJob(
        user_id=alice,
        message_id=turn.assistant_message_id,
        request=request,
        client=model,
        checkpoint_interval=0.05,
    )
    job.task = asyncio.create_task(job.run())
    while not job.length:
        await asyncio.sleep(0.01)
    with session_scope() as s:
        store.delete_messages(s, user_id=alice, message_ids=[turn.assistant_message_id])
    await asyncio.wait_for(job.done.wait(), 5)
    assert job.status == "stopped"
    assert model.closed.is_set()  # the upstream stream was closed
