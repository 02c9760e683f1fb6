"""The open conversation's thread (ThreadState: its messages and the answer in progress) and the
follower that streams an answer into a tab (AnswerFollower: follow, resync, stop).

The follower sends only the *new* text of an answer to the browser, batched (see
chatapp/chat/pace.py), via `window.chatStream` in assets/stream_store.js — the reasoning the same
way on its own channel (`cs.t`), in the same message as the answer's batch (`cs.a`); the finished
answer then replaces its live bubble, without its text and reasoning for the tab that streamed
them. This keeps
websocket traffic O(answer), not O(answer²). Batches go straight to the tab's socket
(chatapp/state/stream_push.py), not through a state update.

AnswerFollower is a mixin of ChatState, so its events keep ChatState's name and lock: the send
handler that starts an answer and the follower that streams it are one state, and the grant the
first leaves for the second (stream_push) spares the follower a lock per answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import TYPE_CHECKING, Any

import reflex as rx

from chatapp.chat import answers, pace, screens
from chatapp.chat.items import MessageItem, keep_keys
from chatapp.core import timefmt
from chatapp.state import stream_push
from chatapp.state.auth import AuthState
from chatapp.state.chat_base import ChatBase, assign_changed
from chatapp.state.ui import UIState
from chatapp.state.worker import in_session

log = logging.getLogger(__name__)

# Following an answer streamed by another process (after a reconnect to another instance): poll
# the checkpoints, which are written every second.
REMOTE_POLL_S = 0.5
# Messages added during a visit before they are folded into `messages`. Each send and each
# finished answer re-send `recent` whole (~150 B of fields per message, plus user texts); a fold
# re-sends the last PAGE_SIZE messages once (streamed answers in them carry no text). 20 put the
# "1k after 20 earlier messages" stream-cost case at 12.8 B/char, 6 at 8.9 (bench/README.md).
RECENT_MAX = 6
# A follower that has not beaten for this long is gone (its process died or the task ended).
FOLLOWER_DEAD_S = 2.0
# How often an idle follower (the model is silent) wakes up anyway; well below FOLLOWER_DEAD_S.
FOLLOW_BEAT_S = 0.5


def _js(name: str, *args: object) -> str:
    """A call of `window.cs.<name>(...)` (the stream store in chat_markdown.jsx). The names are
    short on purpose: this string is most of the framing cost of every streamed batch."""
    payload = ",".join(json.dumps(a, ensure_ascii=False, separators=(",", ":")) for a in args)
    return f"window.cs&&cs.{name}({payload})"


class ThreadState(rx.State):
    """The open conversation's messages and its answer in progress (set by ChatState's handlers).

    A state of its own: these vars change on every send and every finished answer, and every
    component that reads a state re-renders when any var of that state changes. In ChatState,
    each send would re-render the header, the list and the composer twice, and the first token
    of a model that answers at once would wait behind that (bench/README.md, "first token").
    """

    # The conversation as it was when opened (and pages loaded earlier)...
    messages: list[MessageItem] = []
    # ...and the messages added since. Reflex re-sends a changed var whole: keeping new messages
    # apart means a send or a finished answer re-sends only these, not the history
    # (bench/README.md, "stream cost": 42 B/char after 20 messages with one list for both).
    recent: list[MessageItem] = []
    # The message being sent and a typing placeholder, shown before it is stored (see `send`).
    # A var of its own, so showing them sends two small items, not `recent` again.
    pending: list[MessageItem] = []
    has_earlier: bool = False
    # The answer being generated; PENDING_ANSWER_ID while the sent message is being stored.
    streaming_id: int = -1

    @rx.var
    def is_streaming(self) -> bool:
        """True while an answer of the open conversation is on its way (the stop button shows)."""
        return self.streaming_id != -1

    def _assign(self, **values: Any) -> None:
        assign_changed(self, values)

    def _clear(self) -> None:
        self._assign(messages=[], recent=[], pending=[], has_earlier=False, streaming_id=-1)

    def _show(self, view: screens.ConversationView) -> None:
        """Shows a conversation as it opens."""
        self._assign(
            has_earlier=view.has_earlier,
            messages=view.messages,
            recent=[],
            pending=[],
            streaming_id=view.streaming_id,
        )

    def _replace(self, item: MessageItem) -> None:
        """Puts `item` in place of the shown message with its id, in that message's row."""
        for name in ("recent", "messages"):
            shown: list[MessageItem] = getattr(self, name)
            if any(m.id == item.id for m in shown):
                setattr(
                    self, name, [keep_keys([m], [item])[0] if m.id == item.id else m for m in shown]
                )
                return

    def _add_recent(self, items: list[MessageItem]) -> None:
        """Shows new bubbles at the end of the conversation."""
        recent = self.recent + items
        if len(recent) > RECENT_MAX:
            # A long visit: fold what was added into the history once (one bigger update, ~4 KB
            # with 20 messages, once every four sends).
            combined = self.messages + recent
            self._assign(messages=combined[-screens.PAGE_SIZE :], recent=[])
            self.has_earlier = self.has_earlier or len(combined) > screens.PAGE_SIZE
        else:
            self.recent = recent

    def _drop(self, message_id: int) -> None:
        """Stops showing a deleted message."""
        self._assign(
            messages=[m for m in self.messages if m.id != message_id],
            recent=[m for m in self.recent if m.id != message_id],
        )


class AnswerFollower(ChatBase, mixin=True):
    """ChatState's events that stream the open conversation's answer: follow, resync and stop."""

    if TYPE_CHECKING:  # provided by ConversationList, mixed into ChatState beside this

        def _patch_row(self, conversation_id: str, row: list[str]) -> None: ...

    async def _thread(self) -> ThreadState:
        return await self.get_state(ThreadState)

    @rx.event
    async def stop(self):
        """Stops the answer being generated: cancels the upstream request, keeps what arrived."""
        streaming_id = (await self._thread()).streaming_id
        if streaming_id < 0:
            return
        job = answers.get_job(streaming_id)
        if job is not None and job.user_id == await self._user_id():
            job.cancel()
        # An answer streamed by another process (this tab reconnected elsewhere) cannot be stopped
        # from here; it ends on its own and is shown as it is saved.

    @rx.event
    async def resync(self, form: dict):
        """The browser saw a gap in the stream, or heard nothing for a while (socket drop, instance
        restart). Sends the whole answer again, and restarts the follower if it died."""
        streaming_id = (await self._thread()).streaming_id
        if streaming_id < 0 or await self._user_id() is None:
            return None
        try:
            have = int(form.get("have", 0))
        except (TypeError, ValueError):
            have = 0
        handle = stream_push.current(self.router.session.client_token)
        if (
            handle is None
            or handle.message_id != streaming_id
            or time.monotonic() - handle.beat > FOLLOWER_DEAD_S
        ):
            return type(self).follow(streaming_id)  # starts by sending the whole text
        if have < handle.sent:
            handle.resync = True
            handle.poke()
        return None

    @rx.event(background=True)
    async def follow(self, message_id: int):
        """Pushes an answer's new text to this tab until it is finished (any process, any reload).

        Who may follow is decided here, never by what the client sends. The fast path: the send
        handler of this tab started the job in this process for the user it verified, and left a
        grant (see stream_push); the job's user must be the grant's. That tab's page and stream
        store were running before the first batch, so the finished text need not be sent again,
        and the state is locked once per answer (at the end). Any other follower (a reload, a
        resync, a made-up event) is checked under the lock: the tab shows this answer as its
        streaming one, and the answer belongs to the tab's logged-in user; it locks the state
        twice. In between, batches go straight to the tab's socket and a resync arrives through
        the follower handle (see stream_push).
        """
        token = self.router.session.client_token
        grant = stream_push.take_grant(token, message_id)
        job = answers.get_job(message_id)
        if grant is not None and job is not None and job.user_id == grant.user_id:
            # The send handler set `streaming_id` and started the job a moment ago; taking the
            # lock again only to read that back would be one of the two state round trips per answer
            # (through Redis with several workers) that 300 answers starting within a second pile
            # up (bench/README.md, "concurrency"). The end re-checks under the lock anyway.
            user_id: int | None = grant.user_id
        else:
            grant = None
            async with self:
                if (await self._thread()).streaming_id != message_id:
                    return
                user_id = await self._user_id()
                job = answers.get_job(message_id)
            if user_id is None or (job is not None and job.user_id != user_id):
                log.warning("refused to follow answer %s: not the tab's user's", message_id)
                return
        handle = stream_push.register(token, message_id)
        try:
            finished = await self._push_answer(token, handle, message_id, user_id)
        finally:
            stream_push.unregister(token, handle)
        if not finished:
            return  # replaced by a newer follower, or the tab's socket left this process
        async with self:
            thread = await self._thread()
            if stream_push.current(token) is None and thread.streaming_id == message_id:
                # A background task does not run in the context of the tab's events: the finished
                # bubble's time label is in the tab's time zone only if set here.
                timefmt.use_zone((await self.get_state(UIState)).tz)
                thread.streaming_id = -1
                user_id = await self._final_user(user_id if grant is not None else None)
                if user_id is not None:
                    await self._show_final(
                        thread,
                        user_id,
                        message_id,
                        (handle.sent, handle.sent_reasoning) if grant is not None else None,
                        grant.lang if grant is not None else await self._lang(),
                    )
        await stream_push.push_script(token, _js("d", message_id))

    async def _final_user(self, granted_user: int | None) -> int | None:
        """Who the finished answer is shown to, checked under the state lock at the end.

        The answer this tab started here (`granted_user`, verified by the send handler): the
        tab's session token must still be that user's (signature and expiry, no query). 300
        answers ending within a second would each run the two session-table queries of `_user_id`
        on the event loop while holding the state lock, one of the long update gaps at
        the end of the concurrency benchmark (bench/README.md). The tab already holds the whole
        text; its next handler re-checks the sessions table as every handler does. Any other
        follower asks the sessions table.
        """
        if granted_user is None:
            return await self._user_id()
        claims = (await self.get_state(AuthState))._claims()
        return granted_user if claims is not None and claims.user_id == granted_user else None

    async def _push_answer(
        self, token: str, handle: stream_push.FollowerHandle, message_id: int, user_id: int
    ) -> bool:
        """Sends `user_id`'s answer in batches until it ends (True) or this follower is no longer
        wanted (False)."""
        last_db_check = 0.0
        remote_text, remote_done, remote_reasoning = "", False, ""
        idle = handle.wake  # what a remote follower sleeps on (a resync pokes it)
        while True:
            if stream_push.current(token) is not handle:
                return False  # a newer follower (reload, resync) took over
            handle.beat = time.monotonic()
            job = answers.get_job(message_id)
            if job is not None and job.user_id != user_id:
                return False  # not the checked user's answer (ids are unique: never expected)
            if job is not None:
                handle.wake = job.changed
                job.changed.clear()  # before reading: text arriving from here on wakes us
                text, finished = job.text, job.done.is_set()
                reasoning = job.reasoning
            else:
                handle.wake = idle
                idle.clear()
                now = time.monotonic()
                if now - last_db_check >= REMOTE_POLL_S:
                    last_db_check = now
                    remote_text, remote_done, remote_reasoning = await asyncio.to_thread(
                        screens.read_checkpoint, user_id=user_id, message_id=message_id
                    )
                text, finished, reasoning = remote_text, remote_done, remote_reasoning
            if handle.resync:
                handle.resync, handle.sent, handle.sent_reasoning = False, 0, 0
            calls = []
            # Offset 0 replaces what the tab holds (a resync, or a new follower after a reload).
            if len(reasoning) > handle.sent_reasoning:
                new = reasoning[handle.sent_reasoning :]
                calls.append(_js("t", message_id, handle.sent_reasoning, new))
            if len(text) > handle.sent:
                calls.append(_js("a", message_id, handle.sent, text[handle.sent :]))
            batch = bool(calls)
            if batch:
                # One socket message for both channels: the framing is most of a batch's cost.
                if not await stream_push.push_script(token, ";".join(calls)):
                    return False
                handle.sent, handle.sent_reasoning = len(text), len(reasoning)
            if finished:
                return True
            if batch:  # let the next batch gather (see chatapp/chat/pace.py)
                await asyncio.sleep(pace.batch_s())
            # Then wake as soon as text arrives: the first token, and the first after a pause, go
            # out at once instead of waiting for a polling tick (a tick would be most of the added
            # time to first token). Wake anyway every FOLLOW_BEAT_S to beat.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(FOLLOW_BEAT_S if job is not None else REMOTE_POLL_S / 2):
                    await handle.wake.wait()

    async def _show_final(
        self,
        thread: ThreadState,
        user_id: int,
        message_id: int,
        sent: tuple[int, int] | None,
        lang: str,
    ) -> None:
        """Puts the finished answer in place of its live bubble, and its preview in the list."""
        job = answers.get_job(message_id)
        if job is not None and job.user_id == user_id and job.saved is not None:
            # No need to read back what it just wrote.
            final = screens.final_view(*job.saved, lang=lang, image_ids=job.image_ids)
        else:
            final = await in_session(
                screens.final_answer, user_id=user_id, message_id=message_id, lang=lang
            )
        if final is None:
            return
        item, conversation_id, row = final
        # An answer with no text keeps its fields: its bubble hides by `content` (message_bubble).
        # A picture's caption (its prompt) is drawn from `content`, not from the stream store.
        if sent == (len(item.content), len(item.reasoning)) and item.content and not item.image_ids:
            # The tab holds exactly this text and reasoning already (cs.a / cs.t batches, in
            # order, on one socket): don't send them a second time (3 bytes per Chinese character).
            item.content, item.reasoning, item.streamed = "", "", True
        thread._replace(item)
        self._patch_row(conversation_id, row)
