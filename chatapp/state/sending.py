"""Sending (Sending, a mixin of ChatState): a message from the composer, a regenerate, an edited
message, an answer continued after the length limit — shown at once, stored in one trip to a worker thread, and answered by a job this process
starts and the tab's follower streams (chatapp/state/thread.py).

The order is what the first-token benchmark measured (bench/README.md, "first token"): the pending
bubbles render while the message is stored, the stored bubbles render while the model works on its
first token, and many users sending at once wait their turn at the send gate
(chatapp/chat/send_gate.py), not in the database.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import reflex as rx
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from chatapp.billing import rules
from chatapp.chat import answers, conversations, organize, screens, send_gate, spend
from chatapp.chat.conversations import Turn
from chatapp.chat.items import PENDING_ANSWER_ID, keep_keys, pending_items
from chatapp.chat.providers import get_router
from chatapp.core import logs
from chatapp.core.config import get_settings
from chatapp.errors import InvalidInput, NotFound, user_message
from chatapp.models import utcnow
from chatapp.state import stream_push
from chatapp.state.conversation_list import ConversationList
from chatapp.state.thread import AnswerFollower

log = logging.getLogger(__name__)


def _put_back(text: str) -> Any:
    """Puts a message that was not sent back into the composer (the form clears on submit), unless
    the user has typed something new meanwhile."""
    value = json.dumps(text, ensure_ascii=False)
    return rx.call_script(
        "setTimeout(()=>{const a=document.getElementById('composer-input');"
        f"if(a&&!a.value){{a.value={value};a.dispatchEvent(new Event('input',{{bubbles:true}}));}}}},50)"
    )


class Sending(AnswerFollower, ConversationList, mixin=True):
    """ChatState's events that send: send, regenerate and save_edit. A send shows the new message
    in the list and starts following its answer, hence the two bases."""

    if TYPE_CHECKING:  # ChatState's, the state this is mixed into
        current_id: str
        current_title: str
        current_model: str
        not_found: bool
        notice: str
        editing_id: int

        async def _load_conversation(self, user_id: int, conversation_id: str) -> None: ...
        async def _show_conversation(
            self, user_id: int, conversation_id: str, view: screens.ConversationView | None
        ) -> None: ...

    async def _begin(
        self,
        user_id: int,
        make_turn: Callable[[Session], Turn],
        *,
        appends: bool = False,
        new_conversation: bool = False,
    ) -> Callable[[], Any] | None:
        """Runs a use case that opens an answer slot and shows it. Returns a function that calls
        the model and returns the follower's event, or None if no answer was opened.

        Callers `yield` between the two: the browser renders the new bubbles (the biggest update
        of a send) while the model works on its first token, instead of after it — with a model
        that answers at once the first token would wait ~20 ms behind that render
        (bench/README.md, "first token"). The user message is committed first either way.

        Everything the turn reads and writes happens in ONE trip to a worker thread
        (`screens.start_turn`: the turn, the conversation shown again when the turn does not just
        add bubbles, and the list for a `new_conversation`): with 300 users sending at once, each
        trip waited in the thread pool's queue, and a first message in four trips (create, turn,
        conversation, list) took 3.2 s from send to first token instead of ~1 (bench/README.md,
        "concurrency").
        """
        thread = await self._thread()
        if thread.streaming_id >= 0:
            return None
        lang = await self._lang()
        # Shown as new bubbles (only `recent` is re-sent) when the turn adds to the open
        # conversation; regenerate and edit drop messages, so those reload it.
        appending = appends and self.current_id != "" and not self.not_found
        try:
            # Every send, regenerate and edit counts (chatapp.chat.spend); answers at once are
            # counted in the turn's transaction.
            await spend.get_send_guard(get_settings()).hit(user_id)
            started = await asyncio.to_thread(
                screens.start_turn,
                make_turn,
                user_id=user_id,
                lang=lang,
                appending=appending,
                list_query=(self.search_query, self._list_limit) if new_conversation else None,
            )
        except spend.SendLimited as exc:
            self.notice = spend.describe(exc, lang)
            return None
        except rules.Refused as exc:  # the rule chain (plan, 敏感词, quota…): says what to do
            self.notice = rules.describe(exc.refusal, lang)
            return None
        except InvalidInput as exc:
            self.notice = user_message(exc.reason, lang)
            return None
        except NotFound:
            self.notice = user_message("not_found", lang)
            return None
        turn = started.turn
        self._assign(notice="", editing_id=-1)
        appended = started.appended
        if appended is not None and turn.conversation_id == self.current_id:
            # The stored bubbles take over the pending ones' rows.
            pending, thread.pending = thread.pending, []
            thread._add_recent(keep_keys(pending, appended.items))
            self._assign(current_title=appended.title)
        elif appended is None:
            await self._show_conversation(user_id, turn.conversation_id, started.view)
        else:  # the bubbles were read for another conversation than the one shown: read it
            await self._load_conversation(user_id, turn.conversation_id)
        thread.streaming_id = turn.assistant_message_id
        top = self.conversations[0] if self.conversations else None
        if started.listing is not None:
            self._show_list(started.listing)
        elif top is None or top.id != self.current_id or top.title != self.current_title:
            # A new or re-titled conversation shows at once; otherwise the list row (preview,
            # time) is patched when the answer ends: every refresh re-sends the whole list.
            await self._refresh_list(user_id)

        def start() -> Any:
            router = get_router()
            # The answer task inherits this: its log lines carry the conversation id.
            logs.conversation_id.set(turn.conversation_id)
            answers.start_answer(
                user_id=user_id,
                message_id=turn.assistant_message_id,
                request=started.request,
                client=router.client_for(
                    started.request.model, api_key=started.api_key, base_url=started.base_url
                ),
                charge=started.charge,
            )
            # This tab's follower may skip re-checking what was just checked (see `follow`).
            stream_push.grant(
                self.router.session.client_token,
                message_id=turn.assistant_message_id,
                user_id=user_id,
                lang=lang,
            )
            return type(self).follow(turn.assistant_message_id)

        return start

    @rx.event
    async def send(self, form: dict):
        """Sends the composer's text (creating a conversation first on the home page).

        The message shows at once, before it is stored: that update (new rows, the composer)
        renders in the browser while the server stores the message and calls the model, so the
        first token does not wait behind it (bench/README.md, "first token").

        If the message is not stored — refused (a per-user limit, see chatapp.chat.spend) or the
        database is unreachable — says why and puts the text back in the composer: nothing a user
        typed is lost.
        """
        if await self._show_pending(form):
            yield
        start = None
        try:
            # Storing the message waits its turn when many users send at once (the pending
            # bubbles above are already on screen): see chatapp.chat.send_gate.
            async with send_gate.gate():
                start, events = await self._send(form)
        except SQLAlchemyError:
            log.exception("send failed: database unavailable")
            self.notice = user_message("database", await self._lang())
            events = []
        finally:
            thread = await self._thread()
            if thread.pending:  # not replaced: the send failed
                thread.pending = []
            if thread.streaming_id == PENDING_ANSWER_ID:
                thread.streaming_id = -1
        if start is not None:
            yield  # the stored bubbles, before the model is called (see `_begin`)
            events.append(start())
        elif str(form.get("text", "")).strip():  # not stored: refused, or the database failed
            events.append(_put_back(str(form.get("text", ""))))
        yield events

    async def _show_pending(self, form: dict) -> bool:
        """Shows the message being sent and a typing placeholder (see `send`); False when this
        send will not add to the conversation on screen."""
        text = str(form.get("text", ""))
        shown = str(form.get("conversation_id", "") or "")
        thread = await self._thread()
        if (
            not text.strip()
            or thread.streaming_id >= 0
            or self.not_found
            or shown != self.current_id
        ):
            return False
        lang = await self._lang()
        thread.pending = pending_items(text, self.current_model, now=utcnow(), lang=lang)
        # The page switches to "answering" now (stop button, hidden edit buttons), so the update
        # with the stored bubbles, which the first token may wait behind, changes only the rows.
        thread.streaming_id = PENDING_ANSWER_ID
        return True

    async def _send(self, form: dict) -> tuple[Callable[[], Any] | None, list]:
        """Stores the message and shows it: (the `_begin` starter or None, events to send)."""
        user_id = await self._user_id()
        if user_id is None:
            return None, [rx.redirect("/login")]
        text = str(form.get("text", ""))
        created = False
        # The conversation the user was looking at when they pressed send.
        shown = str(form.get("conversation_id", "") or "")
        if shown and shown != self.current_id:
            await self._load_conversation(user_id, shown)
            if self.not_found:
                return None, []
        if not self.current_id:
            if not text.strip():
                return None, []
            created = True
        cid = self.current_id
        start = await self._begin(
            user_id,
            lambda s: conversations.send_message(
                s,
                user_id=user_id,
                # The home page: the conversation is created with the message, in one go.
                conversation_id=cid or organize.create_conversation(s, user_id=user_id),
                text=text,
                max_answers=get_settings().max_concurrent_answers,
            ),
            # A conversation created just now has no settings shown yet: load it whole.
            appends=not created,
            new_conversation=created,
        )
        events: list = (
            [rx.call_script(f"window.history.replaceState(null,'','/chat/{self.current_id}')")]
            if created and self.current_id
            else []
        )
        return start, events

    @rx.event
    async def regenerate(self, message_id: int):
        """Answers the same question again, replacing the answer (and anything after it)."""
        user_id = await self._user_id()
        if user_id is None:
            return
        async with send_gate.gate():
            start = await self._begin(
                user_id,
                lambda s: conversations.regenerate(
                    s,
                    user_id=user_id,
                    message_id=int(message_id),
                    max_answers=get_settings().max_concurrent_answers,
                ),
            )
        if start is not None:
            yield  # the new bubbles, before the model is called (see `_begin`)
            yield start()

    @rx.event
    async def continue_answer(self, message_id: int):
        """Asks the model to go on with an answer cut at the length limit, in the same bubble."""
        user_id = await self._user_id()
        if user_id is None:
            return
        async with send_gate.gate():
            start = await self._begin(
                user_id,
                lambda s: conversations.continue_answer(
                    s,
                    user_id=user_id,
                    message_id=int(message_id),
                    max_answers=get_settings().max_concurrent_answers,
                ),
            )
        if start is not None:
            yield  # the bubble streaming again, before the model is called (see `_begin`)
            yield start()

    @rx.event
    async def save_edit(self, form: dict):
        """Saves an edited user message and resends it (what followed it is dropped)."""
        user_id = await self._user_id()
        if user_id is None:
            return
        message_id = int(form.get("message_id", -1))
        text = str(form.get("text", ""))
        async with send_gate.gate():
            start = await self._begin(
                user_id,
                lambda s: conversations.edit_and_resend(
                    s,
                    user_id=user_id,
                    message_id=message_id,
                    text=text,
                    max_answers=get_settings().max_concurrent_answers,
                ),
            )
        if start is not None:
            yield  # the new bubbles, before the model is called (see `_begin`)
            yield start()
