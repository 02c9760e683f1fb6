"""Authorization against hand-written tabs on the real websocket: a socket with no session cookie
at all, and a socket of another logged-in user, send every chat handler with the victim's ids
while the victim's answer streams. They must receive nothing of hers (asserted on the frames they
received, once her answer has ended and every event they sent has been handled) and change
nothing (her rows, read back).
"""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from testkit.app import AppServer
from testkit.fakes.openai_server import FakeOpenAI, Reply
from testkit.fakes.reflex_socket import Protocol, ReflexSocket, capture_protocol, run_async
from testkit.fakes.wechat import dev_login

# Streams for ~3 s (4 characters per chunk, 25 chunks a second): long enough for every hostile
# event to land while it is live.
LIVE_CHARS = 300


@pytest.fixture(scope="module")
def protocol(browser, app) -> Protocol:
    return capture_protocol(browser, app.url, dev_login(app.url, "o_sock_capture"))


def _db(app: AppServer) -> sqlite3.Connection:
    return sqlite3.connect(app.env["DATABASE_URL"].removeprefix("sqlite:///"))


def _rows(app: AppServer, conversation_id: str) -> tuple[Any, list[Any]]:
    with _db(app) as db:
        conv = db.execute(
            "SELECT id, user_id, title, pinned, model, temperature, context_window, role_id "
            "FROM conversation WHERE id=?",
            (conversation_id,),
        ).fetchone()
        msgs = db.execute(
            "SELECT id, kind, content, status FROM message WHERE conversation_id=? ORDER BY id",
            (conversation_id,),
        ).fetchall()
    return conv, msgs


def _conversation_of(app: AppServer, message_id: int) -> str:
    with _db(app) as db:
        return db.execute(
            "SELECT conversation_id FROM message WHERE id=?", (message_id,)
        ).fetchone()[0]


def _answer_id(tab: ReflexSocket, after: int = 0) -> int:
    """The id of the newest answer streamed to `tab` (from its `cs.a(id,` scripts)."""
    ids = [int(s.split("cs.a(", 1)[1].split(",", 1)[0]) for s in tab.scripts() if "cs.a(" in s]
    return max(i for i in ids if i > after)


def _secret(tag: str, chars: int) -> str:
    word = f"secret{tag}{uuid.uuid4().hex[:6]} "
    return (word * (chars // len(word) + 1))[:chars]


@dataclass
class Victim:
    """A user with a finished exchange and an answer streaming now, seen through her own tab."""

    tab: ReflexSocket
    conversation_id: str
    question_id: int  # her finished question...
    answer_id: int  # ...and its answer
    live_id: int  # the answer streaming now
    live_text: str
    secrets: tuple[str, ...]  # texts of hers nobody else may receive

    def ended(self) -> bool:
        return any(f"cs.d({self.live_id})" in s for s in self.tab.scripts())


async def _victim(app: AppServer, fake_llm: FakeOpenAI, protocol: Protocol) -> Victim:
    """Logs the victim in, lets her finish one exchange, and starts a second, slow answer."""
    token = await asyncio.to_thread(dev_login, app.url, f"o_victim_{uuid.uuid4().hex[:8]}")
    tab = ReflexSocket(app.url, protocol, token)
    await tab.connect()
    question = _secret("question", 40)
    answer = _secret("answer", 40)
    fake_llm.queue(Reply(text=answer, chunk_chars=8, chunks_per_s=0))
    await tab.emit_raw(protocol.send_with(question))
    await tab.wait_for(lambda: any("cs.d(" in s for s in tab.scripts()))
    answer_id = _answer_id(tab)
    conversation_id = await asyncio.to_thread(_conversation_of, app, answer_id)
    live_text = _secret("live", LIVE_CHARS)
    fake_llm.queue(Reply(text=live_text, chunk_chars=4, chunks_per_s=25))
    await tab.emit_raw(protocol.send_with(_secret("again", 30), conversation_id))
    await tab.wait_for(lambda: _answer_id(tab) > answer_id)
    _, messages = await asyncio.to_thread(_rows, app, conversation_id)
    question_id, _, _, live_id = (m[0] for m in messages)
    return Victim(
        tab=tab,
        conversation_id=conversation_id,
        question_id=question_id,
        answer_id=answer_id,
        live_id=live_id,
        live_text=live_text,
        secrets=(question.split()[0], answer.split()[0], live_text.split()[0]),
    )


def _leaks(tab: ReflexSocket, victim: Victim) -> list[str]:
    """What of the victim's `tab` received: her texts (her title is her question's), her answer's
    batches. Not her conversation id: the page path a tab sends comes back in its router vars."""
    received = tab.received()
    found = [s for s in victim.secrets if s in received]
    found += [s for s in tab.scripts() if f"cs.a({victim.live_id}," in s or "cs.r(" in s]
    return found


def _attackers(app: AppServer) -> dict[str, str | None]:
    return {"no session": None, "another user": dev_login(app.url, "o_sock_mallory")}


@pytest.mark.parametrize("who", ["no session", "another user"])
def test_follow_with_own_flag_streams_nothing_to_a_stranger(app, fake_llm, protocol, who):
    """The hole an outside attacker found: `follow {"message_id": N, "own": true}` for a live
    answer of another user streamed it to a socket with no cookie at all."""
    session = _attackers(app)[who]

    async def scenario() -> list[str]:
        victim = await _victim(app, fake_llm, protocol)
        async with ReflexSocket(app.url, protocol, session) as stranger:
            await stranger.emit("follow", {"message_id": victim.live_id, "own": True})
            await stranger.emit("follow", {"message_id": victim.live_id})
            assert not victim.ended(), "the answer ended before the follow events were sent"
            await victim.tab.wait_for(victim.ended)
            await stranger.barrier()
            await victim.tab.close()
            return _leaks(stranger, victim)

    assert run_async(scenario()) == []


def _cases(v: Victim) -> dict[str, list[tuple[str, dict[str, Any], str]]]:
    """Every ChatState handler, as (handler, payload, page path) events naming the victim's ids."""
    cid, chat = v.conversation_id, f"/chat/{v.conversation_id}"
    form = "__reflex_form_data__"
    return {
        "follow": [("follow", {"message_id": v.live_id, "own": True}, chat)],
        "follow (no flag)": [("follow", {"message_id": v.live_id}, chat)],
        "resync": [("resync", {"form": {"have": 0}}, chat)],
        "stop": [("stop", {}, chat)],
        "load_page": [("load_page", {}, chat)],
        "regenerate": [("regenerate", {"message_id": v.answer_id}, chat)],
        "continue_answer": [("continue_answer", {"message_id": v.answer_id}, chat)],
        "delete_message": [
            ("delete_message", {"message_id": v.question_id}, chat),
            ("delete_message", {"message_id": v.live_id}, chat),
        ],
        # Her deleted message is not in the attacker's state: an undo there restores nothing.
        "undo_delete": [("undo_delete", {}, chat)],
        "save_edit": [
            ("start_edit", {"message_id": v.question_id}, chat),
            (
                "save_edit",
                {"form": {form: [["message_id", str(v.question_id)], ["text", "pwned"]]}},
                chat,
            ),
        ],
        "toggle_pin": [("toggle_pin", {"conversation_id": cid}, "/")],
        "rename": [
            ("start_rename", {"conversation_id": cid}, "/"),
            ("rename", {"form": {"conversation_id": cid, "title": "pwned"}}, "/"),
        ],
        "delete_conversation": [("delete_conversation", {"conversation_id": cid}, chat)],
        "confirm_delete": [
            ("ask_delete", {"conversation_id": cid}, chat),
            ("confirm_delete", {}, chat),
        ],
        "load_earlier": [("load_earlier", {}, chat)],
        "send": [
            ("send", {"form": {form: [["conversation_id", cid], ["text", "pwned send"]]}}, chat)
        ],
        "clear_context": [("clear_context", {}, chat)],
        "update_settings": [("update_settings", {"form": {"temperature": "2"}}, chat)],
        "set_model": [("set_model", {"model": "fake-gpt-mini"}, chat)],
        # A prefix of her texts: the query itself comes back to the searching tab.
        "search": [("search", {"query": "secretquestion"}, "/")],
        "load_more_conversations": [("load_more_conversations", {}, "/")],
        "new_conversation": [("new_conversation", {}, "/")],
    }


@pytest.mark.parametrize("who", ["no session", "another user"])
def test_every_chat_handler_gives_and_changes_nothing_of_another_user(app, fake_llm, protocol, who):
    session = _attackers(app)[who]

    async def scenario() -> tuple[dict[str, list[str]], Victim, Any, Any]:
        victim = await _victim(app, fake_llm, protocol)
        before = await asyncio.to_thread(_rows, app, victim.conversation_id)
        cases = _cases(victim)
        tabs = {name: ReflexSocket(app.url, protocol, session) for name in cases}
        try:
            await asyncio.gather(*(tab.connect() for tab in tabs.values()))

            async def attack(name: str) -> None:
                for handler, payload, path in cases[name]:
                    await tabs[name].emit(handler, payload, path=path)

            await asyncio.gather(*(attack(name) for name in cases))
            assert not victim.ended(), "the answer ended before every hostile event was sent"
            await victim.tab.wait_for(victim.ended)
            await asyncio.gather(*(tab.barrier() for tab in tabs.values()))
            leaks = {name: _leaks(tab, victim) for name, tab in tabs.items()}
        finally:
            await asyncio.gather(*(tab.close() for tab in tabs.values()))
            await victim.tab.close()
        after = await asyncio.to_thread(_rows, app, victim.conversation_id)
        return {k: v for k, v in leaks.items() if v}, victim, before, after

    leaks, victim, before, after = run_async(scenario())
    assert leaks == {}
    (conv_before, msgs_before), (conv_after, msgs_after) = before, after
    assert conv_after == conv_before, "the victim's conversation was changed"
    # Her messages are as they were, and the live answer ran to its end (not stopped, not cut).
    assert msgs_after[:-1] == msgs_before[:-1]
    assert msgs_after[-1] == (victim.live_id, "assistant", victim.live_text, "done")
