"""Chat use cases and the answer job, with a hand-written fake model and a real database."""

from __future__ import annotations

import asyncio
import json

import pytest

from chatapp.chat import answers, conversations, store
from chatapp.core.db import session_scope
from chatapp.errors import InvalidInput, NotFound
from chatapp.llm.types import StreamDone, TextDelta, Usage
from chatapp.models import Role, User


class FakeModel:
    """Streams given chunks; records every request; can fail or stall after some chunks."""

    def __init__(
        self,
        chunks=("Hel", "lo", "!"),
        *,
        fail_after=None,
        error_kind="server",
        stall_after=None,
        delay=0.0,
    ):
        self.chunks = list(chunks)
        self.fail_after = fail_after
        self.error_kind = error_kind
        self.stall_after = stall_after
        self.delay = delay
        self.requests: list[dict] = []
        self.closed = False
        self.seen_messages_in_db: list[int] = []

    async def stream_chat(self, messages, model, **params):
        self.requests.append({"messages": messages, "model": model, **params})
        try:
            for i, chunk in enumerate(self.chunks):
                if self.fail_after is not None and i == self.fail_after:
                    err = RuntimeError("upstream said: sk-secret-key")
                    err.kind = self.error_kind  # type: ignore[attr-defined]
                    raise err
                if self.stall_after is not None and i == self.stall_after:
                    await asyncio.sleep(3600)
                await asyncio.sleep(self.delay)
                yield TextDelta(chunk)
            yield StreamDone("stop", Usage(3, 2, 5))
        finally:
            self.closed = True


@pytest.fixture
def alice(engine) -> int:
    with session_scope() as s:
        user = User(openid="alice")
        s.add(user)
        s.flush()
        return user.id


def _new_conv(user_id: int, **fields) -> str:
    with session_scope() as s:
        return store.create_conversation(s, user_id=user_id, model="m1", **fields).id


def _msg(user_id: int, message_id: int):
    with session_scope() as s:
        return store.get_message(s, user_id=user_id, message_id=message_id)


async def _answer(user_id: int, turn, model: FakeModel, **kw) -> answers.AnswerJob:
    with session_scope() as s:
        request = conversations.build_request(s, user_id=user_id, turn=turn)
    job = answers.start_answer(
        user_id=user_id, message_id=turn.assistant_message_id, request=request, client=model
    )
    return job


async def test_send_stores_user_message_before_the_model_is_called(alice):
    cid = _new_conv(alice)
    with session_scope() as s:
        turn = conversations.send_message(s, user_id=alice, conversation_id=cid, text="  你好  ")
    # Committed: a new session sees it before any model work started.
    assert _msg(alice, turn.user_message_id).content == "  你好"
    assert _msg(alice, turn.assistant_message_id).status == "streaming"
    with session_scope() as s:
        conv = store.get_conversation(s, user_id=alice, conversation_id=cid)
        assert conv.title == "你好"


async def test_answer_streams_and_is_persisted_with_finish_reason_and_usage(alice):
    cid = _new_conv(alice, temperature=0.3, max_tokens=77)
    with session_scope() as s:
        turn = conversations.send_message(s, user_id=alice, conversation_id=cid, text="hi")
    model = FakeModel()
    job = await _answer(alice, turn, model)
    await asyncio.wait_for(job.done.wait(), 5)
    msg = _msg(alice, turn.assistant_message_id)
    assert (msg.content, msg.status, msg.finish_reason) == ("Hello!", "done", "stop")
    assert (msg.prompt_tokens, msg.completion_tokens) == (3, 2)
    assert model.requests[0]["messages"] == [{"role": "user", "content": "hi"}]
    assert model.requests[0]["temperature"] == 0.3
    assert model.requests[0]["max_tokens"] == 77
    assert answers.get_job(turn.assistant_message_id) is job


async def test_failed_answer_keeps_partial_text_and_error_code_never_exception_text(alice):
    cid = _new_conv(alice)
    with session_scope() as s:
        turn = conversations.send_message(s, user_id=alice, conversation_id=cid, text="hi")
    job = await _answer(alice, turn, FakeModel(fail_after=2, error_kind="truncated"))
    await asyncio.wait_for(job.done.wait(), 5)
    msg = _msg(alice, turn.assistant_message_id)
    assert (msg.content, msg.status, msg.error_code) == ("Hello", "error", "truncated")
    assert "sk-secret" not in json.dumps(msg.model_dump(mode="json"))


async def test_unexpected_exception_is_recorded_as_internal(alice):
    cid = _new_conv(alice)
    with session_scope() as s:
        turn = conversations.send_message(s, user_id=alice, conversation_id=cid, text="hi")
    model = FakeModel(fail_after=0, error_kind=None)
    job = await _answer(alice, turn, model)
    await asyncio.wait_for(job.done.wait(), 5)
    assert _msg(alice, turn.assistant_message_id).error_code == "internal"


async def test_stop_cancels_upstream_and_keeps_what_arrived(alice):
    cid = _new_conv(alice)
    with session_scope() as s:
        turn = conversations.send_message(s, user_id=alice, conversation_id=cid, text="hi")
    model = FakeModel(stall_after=2)
    job = await _answer(alice, turn, model)
    while job.length < 5:
        await asyncio.sleep(0.01)
    job.cancel()
    await asyncio.wait_for(job.done.wait(), 5)
    assert model.closed, "the upstream stream was not closed"
    msg = _msg(alice, turn.assistant_message_id)
    assert (msg.content, msg.status, msg.error_code) == ("Hello", "stopped", "stopped")


async def test_an_answer_cancelled_by_a_shutdown_is_interrupted_not_stopped(alice):
    """A graceful restart cancels every task of the process: the user did not press Stop, so
    the answer says it was interrupted (and can be retried), keeping what arrived."""
    cid = _new_conv(alice)
    with session_scope() as s:
        turn = conversations.send_message(s, user_id=alice, conversation_id=cid, text="hi")
    job = await _answer(alice, turn, FakeModel(stall_after=2))
    while job.length < 5:
        await asyncio.sleep(0.01)
    assert job.task is not None
    job.task.cancel()  # what the event loop's shutdown does, not job.cancel()
    await asyncio.wait_for(job.done.wait(), 5)
    msg = _msg(alice, turn.assistant_message_id)
    assert (msg.content, msg.status, msg.error_code) == ("Hello", "interrupted", "interrupted")


async def test_checkpoints_while_streaming(alice, monkeypatch):
    cid = _new_conv(alice)
    with session_scope() as s:
        turn = conversations.send_message(s, user_id=alice, conversation_id=cid, text="hi")
        request = conversations.build_request(s, user_id=alice, turn=turn)
    model = FakeModel(stall_after=2)
    job = answers.AnswerJob(
        user_id=alice,
        message_id=turn.assistant_message_id,
        request=request,
        client=model,
        checkpoint_interval=0.05,
    )
    task = asyncio.create_task(job.run())
    for _ in range(200):
        await asyncio.sleep(0.02)
        if _msg(alice, turn.assistant_message_id).content == "Hello":
            break
    msg = _msg(alice, turn.assistant_message_id)
    assert (msg.content, msg.status) == ("Hello", "streaming")
    task.cancel()
    await asyncio.wait_for(job.done.wait(), 5)


async def test_regenerate_replaces_the_answer_and_following_messages(alice):
    cid = _new_conv(alice)
    with session_scope() as s:
        t1 = conversations.send_message(s, user_id=alice, conversation_id=cid, text="q1")
        store.update_message(
            s, user_id=alice, message_id=t1.assistant_message_id, content="a1", status="done"
        )
        t2 = conversations.send_message(s, user_id=alice, conversation_id=cid, text="q2")
        store.update_message(
            s, user_id=alice, message_id=t2.assistant_message_id, content="a2", status="done"
        )
    with session_scope() as s:
        t3 = conversations.regenerate(s, user_id=alice, message_id=t1.assistant_message_id)
        request = conversations.build_request(s, user_id=alice, turn=t3)
        kinds = [
            (m.kind, m.content) for m in store.list_messages(s, user_id=alice, conversation_id=cid)
        ]
    assert t3.user_message_id == t1.user_message_id
    assert kinds == [("user", "q1"), ("assistant", "")]
    assert request.messages == [{"role": "user", "content": "q1"}]


async def test_edit_and_resend_drops_what_followed(alice):
    cid = _new_conv(alice)
    with session_scope() as s:
        t1 = conversations.send_message(s, user_id=alice, conversation_id=cid, text="q1")
        store.update_message(
            s, user_id=alice, message_id=t1.assistant_message_id, content="a1", status="done"
        )
        conversations.send_message(s, user_id=alice, conversation_id=cid, text="q2")
    with session_scope() as s:
        t = conversations.edit_and_resend(
            s, user_id=alice, message_id=t1.user_message_id, text="q1 edited"
        )
        rows = store.list_messages(s, user_id=alice, conversation_id=cid)
    assert [(m.kind, m.content) for m in rows] == [("user", "q1 edited"), ("assistant", "")]
    assert t.assistant_message_id == rows[-1].id


async def test_clear_context_divider_limits_history(alice):
    cid = _new_conv(alice)
    with session_scope() as s:
        t1 = conversations.send_message(s, user_id=alice, conversation_id=cid, text="old")
        store.update_message(
            s, user_id=alice, message_id=t1.assistant_message_id, content="a", status="done"
        )
        conversations.clear_context(s, user_id=alice, conversation_id=cid)
        t2 = conversations.send_message(s, user_id=alice, conversation_id=cid, text="new")
        request = conversations.build_request(s, user_id=alice, turn=t2)
    assert request.messages == [{"role": "user", "content": "new"}]


async def test_clear_context_twice_adds_one_divider_and_none_to_an_empty_conversation(alice):
    cid = _new_conv(alice)
    with session_scope() as s:
        assert conversations.clear_context(s, user_id=alice, conversation_id=cid) is None
        conversations.send_message(s, user_id=alice, conversation_id=cid, text="q")
        first = conversations.clear_context(s, user_id=alice, conversation_id=cid)
        again = conversations.clear_context(s, user_id=alice, conversation_id=cid)
        rows = store.list_messages(s, user_id=alice, conversation_id=cid)
    assert first is not None and again is None
    assert [m.kind for m in rows] == ["user", "assistant", "divider"]


async def test_role_prompt_is_sent_as_system_with_opening_messages(alice):
    with session_scope() as s:
        role = Role(
            name="译者",
            system_prompt="Translate.",
            opening_json=json.dumps(
                [
                    {"role": "user", "content": "cat"},
                    {"role": "assistant", "content": "猫"},
                    {"role": "system", "content": "ignored"},
                ]
            ),
        )
        s.add(role)
        s.flush()
        role_id = role.id
    cid = _new_conv(alice, role_id=role_id)
    with session_scope() as s:
        turn = conversations.send_message(s, user_id=alice, conversation_id=cid, text="dog")
        request = conversations.build_request(s, user_id=alice, turn=turn)
    assert request.messages == [
        {"role": "system", "content": "Translate."},
        {"role": "user", "content": "cat"},
        {"role": "assistant", "content": "猫"},
        {"role": "user", "content": "dog"},
    ]


@pytest.mark.parametrize(
    ("text", "reason"),
    [("", "empty_message"), ("  \n ", "empty_message"), ("x" * 32_001, "message_too_long")],
)
async def test_bad_text_is_refused_and_nothing_is_stored(alice, text, reason):
    cid = _new_conv(alice)
    with session_scope() as s, pytest.raises(InvalidInput) as info:
        conversations.send_message(s, user_id=alice, conversation_id=cid, text=text)
    assert info.value.reason == reason
    with session_scope() as s:
        assert store.count_messages(s, user_id=alice, conversation_id=cid) == 0


async def test_other_users_ids_are_not_found(alice):
    cid = _new_conv(alice)
    with session_scope() as s:
        bob = User(openid="bob")
        s.add(bob)
        s.flush()
        bob_id = bob.id
        turn = conversations.send_message(s, user_id=alice, conversation_id=cid, text="q")
    with session_scope() as s:
        with pytest.raises(NotFound):
            conversations.send_message(s, user_id=bob_id, conversation_id=cid, text="x")
        with pytest.raises(NotFound):
            conversations.regenerate(s, user_id=bob_id, message_id=turn.assistant_message_id)
        with pytest.raises(NotFound):
            conversations.edit_and_resend(
                s, user_id=bob_id, message_id=turn.user_message_id, text="x"
            )
        with pytest.raises(NotFound):
            conversations.clear_context(s, user_id=bob_id, conversation_id=cid)
    with session_scope() as s:
        assert store.count_messages(s, user_id=alice, conversation_id=cid) == 2


def test_a_turn_reads_its_conversation_row_once(alice, engine):
    """A turn looks its conversation up several times (send, each added message, the request):
    the rows are held for the session, so only the first lookup queries the database (the
    identity map's weak references would let them go: five SELECTs per first message)."""
    from sqlalchemy import event

    cid = _new_conv(alice)
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        with session_scope() as s:
            turn = conversations.send_message(s, user_id=alice, conversation_id=cid, text="hi")
            conversations.build_request(s, user_id=alice, turn=turn)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    conversation_reads = [
        q
        for q in statements
        if q.lstrip().upper().startswith("SELECT") and "FROM conversation" in q
    ]
    assert len(conversation_reads) == 1, conversation_reads
