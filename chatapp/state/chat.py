"""Chat state: conversation list, the open conversation, and the streaming answer (thin wiring).

Handlers validate, call a use case, assign vars. Every handler that touches a conversation re-checks
the logged-in user. Answers stream in a background task that sends only the *new* text to the
browser, batched (see chatapp/chat/pace.py), via `window.chatStream` in assets/chat_markdown.jsx; the
finished answer then replaces its live bubble, without its text for the tab that streamed it. This
keeps websocket traffic O(answer), not O(answer²).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import Any
from urllib.parse import urlsplit

import reflex as rx
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from chatapp import preferences
from chatapp.chat import answers, conversations, pace, send_gate, spend, store
from chatapp.chat.items import (
    PENDING_ANSWER_ID,
    ConversationItem,
    MessageItem,
    conversation_item,
    keep_keys,
    message_item,
    pending_items,
)
from chatapp.chat.providers import get_router
from chatapp.core import logs, parameters
from chatapp.core.config import get_settings
from chatapp.core.crypto import box_for
from chatapp.core.db import session_scope
from chatapp.errors import InvalidInput, NotFound, user_message
from chatapp.i18n import translate
from chatapp.models import Conversation, Message, utcnow
from chatapp.state import stream_push
from chatapp.state.auth import AuthState
from chatapp.state.ui import UIState

log = logging.getLogger(__name__)

# Following an answer streamed by another process (after a reconnect to another instance): poll
# the checkpoints, which are written every second.
REMOTE_POLL_S = 0.5
# Messages shown when a conversation opens (and per "load earlier"). Rendering costs ~7 ms per
# message on the 2-core bench machine (markdown + bubble): 50 took ~380 ms on top of the route
# change, over the 500 ms click-to-rendered budget; 20 fill a screen (bench/README.md, "big").
PAGE_SIZE = 20
# Conversations shown at first (and added by "load more"): 2,000 rows took ~2 s to render and
# every list change re-sends the whole list (bench/README.md, "big conversations").
LIST_PAGE = 100
# Messages added during a visit before they are folded into `messages`. Each send and each
# finished answer re-send `recent` whole (~150 B of fields per message, plus user texts); a fold
# re-sends the last PAGE_SIZE messages once (streamed answers in them carry no text). 20 put the
# "1k after 20 earlier messages" stream-cost case at 12.8 B/char, 6 at 8.9 (bench/README.md).
RECENT_MAX = 6
# A follower that has not beaten for this long is gone (its process died or the task ended).
FOLLOWER_DEAD_S = 2.0
# How often an idle follower (the model is silent) wakes up anyway; well below FOLLOWER_DEAD_S.
FOLLOW_BEAT_S = 0.5


def _put_back(text: str) -> Any:
    """Puts a message that was not sent back into the composer (the form clears on submit), unless
    the user has typed something new meanwhile."""
    value = json.dumps(text, ensure_ascii=False)
    return rx.call_script(
        "setTimeout(()=>{const a=document.getElementById('composer-input');"
        f"if(a&&!a.value){{a.value={value};a.dispatchEvent(new Event('input',{{bubbles:true}}));}}}},50)"
    )


def _js(name: str, *args: object) -> str:
    """A call of `window.cs.<name>(...)` (the stream store in chat_markdown.jsx). The names are
    short on purpose: this string is most of the framing cost of every streamed batch."""
    payload = ",".join(json.dumps(a, ensure_ascii=False, separators=(",", ":")) for a in args)
    return f"window.cs&&cs.{name}({payload})"


def _assign_changed(state: rx.State, values: dict[str, Any]) -> None:
    """Sets the vars whose value changed. Reflex re-sends every *assigned* var whole, equal or
    not: re-assigning an unchanged list of 100 conversations cost ~15 KB per navigation."""
    for name, value in values.items():
        if getattr(state, name) != value:
            setattr(state, name, value)


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
        _assign_changed(self, values)

    def _clear(self) -> None:
        self._assign(messages=[], recent=[], pending=[], has_earlier=False, streaming_id=-1)

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
            self._assign(messages=combined[-PAGE_SIZE:], recent=[])
            self.has_earlier = self.has_earlier or len(combined) > PAGE_SIZE
        else:
            self.recent = recent


class ChatState(rx.State):
    """The chat page."""

    conversations: list[ConversationItem] = []
    has_more_conversations: bool = False
    search_query: str = ""
    current_id: str = ""
    current_title: str = ""
    current_model: str = ""
    current_temperature: float = 0.7
    current_top_p: float = 1.0
    current_max_tokens: int = 0
    current_context_window: int = 20
    current_token_budget: int = 8000
    current_role_id: int = 0
    # List rows changed by a finished answer (id -> [preview, time]), shown over `conversations`
    # so the whole list is not re-sent for one row.
    row_patch: dict[str, list[str]] = {}
    not_found: bool = False
    models: list[str] = []
    demo: bool = False
    editing_id: int = -1
    renaming_id: str = ""
    confirm_delete_id: str = ""
    notice: str = ""

    _list_limit: int = LIST_PAGE

    # ---- helpers -------------------------------------------------------------------------------

    async def _user_id(self) -> int | None:
        auth = await self.get_state(AuthState)
        return await auth.current_user_id()

    async def _lang(self) -> str:
        return (await self.get_state(UIState)).lang

    async def _thread(self) -> ThreadState:
        return await self.get_state(ThreadState)

    def _assign(self, **values: Any) -> None:
        _assign_changed(self, values)

    async def _refresh_list(self, user_id: int) -> None:
        # Queries run in a thread: a handler that blocks the event loop stalls every stream of
        # the process (bench/README.md, "concurrency").
        items, more = await asyncio.to_thread(
            _read_list, user_id, self.search_query, self._list_limit, await self._lang()
        )
        self._assign(conversations=items, has_more_conversations=more, row_patch={})

    async def _load_conversation(self, user_id: int, conversation_id: str) -> None:
        values = await asyncio.to_thread(
            _read_conversation, user_id, conversation_id, await self._lang()
        )
        await self._show_conversation(user_id, conversation_id, values)

    async def _show_conversation(
        self, user_id: int, conversation_id: str, values: ConversationView | None
    ) -> None:
        if values is None:
            log.warning("user %s asked for conversation %s: not theirs", user_id, conversation_id)
            await self._clear_current()
            self.not_found = True
            return
        shown, thread = values
        self._assign(**shown)
        (await self._thread())._assign(**thread)

    async def _clear_current(self) -> None:
        self.current_id = ""
        self.current_title = ""
        self.current_role_id = 0
        self.editing_id = -1
        (await self._thread())._clear()

    # ---- page load -----------------------------------------------------------------------------

    @rx.event
    async def load_page(self):
        """on_load of `/` and `/chat/[cid]`: the list, and the conversation in the URL."""
        user_id = await self._user_id()
        if user_id is None:
            return AuthState.require_login  # to /login?next=<this page>
        router = get_router()
        await router.refresh_models()  # cached; asks the provider at most every 10 minutes
        # A user's own API key answers on a deployment without a provider (not the demo model).
        own_key = await asyncio.to_thread(_has_own_key, user_id)
        self._assign(
            models=router.model_ids(own_key=own_key),
            demo=router.is_demo(own_key=own_key),
            notice="",
            editing_id=-1,
            renaming_id="",
        )
        await self._refresh_list(user_id)
        path = urlsplit(str(self.router.url)).path.rstrip("/")
        cid = path.rsplit("/", 1)[-1] if path.startswith("/chat/") else ""
        if not cid:
            await self._clear_current()
            self.not_found = False
            return None
        await self._load_conversation(user_id, str(cid))
        streaming_id = (await self._thread()).streaming_id
        if streaming_id >= 0:
            # A reload or a new tab mid-stream: show what exists and keep following (a new
            # follower starts by sending the whole text so far).
            return ChatState.follow(streaming_id)
        return None

    # ---- conversations -------------------------------------------------------------------------

    @rx.event
    async def new_conversation(self):
        """Creates a conversation and opens it."""
        user_id = await self._user_id()
        if user_id is None:
            return rx.redirect("/login")
        with session_scope() as session:
            cid = _create_conversation(session, user_id)
        # Switch now, so a message typed before the navigation lands goes to the new chat.
        await self._load_conversation(user_id, cid)
        await self._refresh_list(user_id)
        return rx.redirect(f"/chat/{cid}")

    @rx.event
    async def search(self, query: str):
        """Filters the list by title and message content."""
        self.search_query = query[:200]
        self._list_limit = LIST_PAGE
        user_id = await self._user_id()
        if user_id is not None:
            await self._refresh_list(user_id)

    @rx.event
    async def load_more_conversations(self):
        """Shows the next LIST_PAGE conversations of the list."""
        user_id = await self._user_id()
        if user_id is not None:
            self._list_limit += LIST_PAGE
            await self._refresh_list(user_id)

    @rx.event
    def start_rename(self, conversation_id: str):
        """Shows the inline rename box for a conversation, focused with its text selected."""
        self.renaming_id = conversation_id
        # After the menu has closed and returned focus to its trigger.
        return rx.call_script(
            "setTimeout(()=>{const i=document.getElementById('rename-input');"
            "if(i){i.focus();i.select();}},120)"
        )

    @rx.event
    def cancel_rename(self):
        """Hides the rename box."""
        self.renaming_id = ""

    @rx.event
    async def rename(self, form: dict):
        """Renames a conversation (from the inline box)."""
        conversation_id = str(form.get("conversation_id", ""))
        title = " ".join(str(form.get("title", "")).split())[:100]
        self.renaming_id = ""
        user_id = await self._user_id()
        if user_id is None or not title:
            return
        with session_scope() as session:
            conv = store.update_conversation(
                session,
                user_id=user_id,
                conversation_id=conversation_id,
                title=title,
                title_is_auto=False,
            )
        if conv is None:
            log.warning("user %s tried to rename %s: not theirs", user_id, conversation_id)
            return
        if conversation_id == self.current_id:
            self.current_title = title
        await self._refresh_list(user_id)

    @rx.event
    async def toggle_pin(self, conversation_id: str):
        """Pins a conversation to the top of the list, or unpins it."""
        user_id = await self._user_id()
        if user_id is None:
            return
        with session_scope() as session:
            conv = store.get_conversation(session, user_id=user_id, conversation_id=conversation_id)
            if conv is None:
                log.warning("user %s tried to pin %s: not theirs", user_id, conversation_id)
                return
            conv.pinned = not conv.pinned
            session.add(conv)
        await self._refresh_list(user_id)

    @rx.event
    def ask_delete(self, conversation_id: str):
        """Opens the delete confirmation for a conversation."""
        self.confirm_delete_id = conversation_id

    @rx.event
    def cancel_delete(self):
        """Closes the delete confirmation."""
        self.confirm_delete_id = ""

    @rx.event
    async def confirm_delete(self):
        """Deletes the conversation the confirmation was opened for."""
        conversation_id, self.confirm_delete_id = self.confirm_delete_id, ""
        if conversation_id:
            return await self.delete_conversation(conversation_id)
        return None

    async def delete_conversation(self, conversation_id: str):
        """Deletes a conversation (the UI asks for confirmation first)."""
        user_id = await self._user_id()
        if user_id is None:
            return None
        streaming_id = (await self._thread()).streaming_id
        if streaming_id >= 0 and conversation_id == self.current_id:
            job = answers.get_job(streaming_id)
            if job is not None and job.user_id == user_id:
                job.cancel()
                await job.done.wait()
        with session_scope() as session:
            deleted = store.delete_conversation(
                session, user_id=user_id, conversation_id=conversation_id
            )
        if not deleted:
            log.warning("user %s tried to delete %s: not theirs", user_id, conversation_id)
            return None
        await self._refresh_list(user_id)
        if conversation_id == self.current_id:
            await self._clear_current()
            return rx.redirect("/")
        return None

    @rx.event
    async def update_settings(self, form: dict):
        """Saves the open conversation's model and parameters (apply to the next message).

        Only the fields the form sends change. A value outside its range (the operator's ceilings
        included, see chatapp.core.parameters) refuses the whole form and says which field and what
        is allowed.
        """
        user_id = await self._user_id()
        if user_id is None or not self.current_id or not isinstance(form, dict):
            return
        try:
            fields = parameters.parse_form(form, get_settings().ceilings)
        except parameters.ParameterError as exc:
            self.notice = parameters.describe(exc, await self._lang())
            return
        if "model" in form:
            own_key = await asyncio.to_thread(_has_own_key, user_id)
            fields["model"] = get_router().resolve(str(form["model"]), own_key=own_key)
        self.notice = ""
        with session_scope() as session:
            store.update_conversation(
                session, user_id=user_id, conversation_id=self.current_id, **fields
            )
        await self._load_conversation(user_id, self.current_id)

    @rx.event
    async def set_model(self, model: str):
        """Switches the open conversation's model."""
        await self.update_settings({"model": model})

    # ---- messages ------------------------------------------------------------------------------

    @rx.event
    async def load_earlier(self):
        """Prepends the previous page of messages."""
        user_id = await self._user_id()
        thread = await self._thread()
        if user_id is None or not self.current_id or not thread.messages:
            return
        lang = await self._lang()
        now = utcnow()
        with session_scope() as session:
            rows = store.list_messages(
                session,
                user_id=user_id,
                conversation_id=self.current_id,
                before_id=thread.messages[0].id,
                limit=PAGE_SIZE + 1,
            )
        thread.has_earlier = len(rows) > PAGE_SIZE
        rows = rows[-PAGE_SIZE:]
        thread.messages = [message_item(m, now=now, lang=lang) for m in rows] + thread.messages

    async def _begin(
        self, user_id: int, make_turn, *, appends: bool = False, new_conversation: bool = False
    ):
        """Runs a use case that opens an answer slot and shows it. Returns a function that calls
        the model and returns the follower's event, or None if no answer was opened.

        Callers `yield` between the two: the browser renders the new bubbles (the biggest update
        of a send) while the model works on its first token, instead of after it — with a model
        that answers at once the first token would wait ~20 ms behind that render
        (bench/README.md, "first token"). The user message is committed first either way.

        Everything the turn reads and writes happens in ONE trip to a worker thread (the turn,
        the conversation shown again when the turn does not just add bubbles, and the list for a
        `new_conversation`): with 300 users sending at once, each trip waited in the thread
        pool's queue, and a first message in four trips (create, turn, conversation, list) took
        3.2 s from send to first token instead of ~1 (bench/README.md, "concurrency").
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
            # In a thread: a handler that blocks the event loop stalls every stream of the process.
            started = await asyncio.to_thread(
                _start_turn,
                user_id,
                make_turn,
                lang,
                appending,
                (self.search_query, self._list_limit) if new_conversation else None,
            )
        except spend.SendLimited as exc:
            self.notice = spend.describe(exc, lang)
            return None
        except InvalidInput as exc:
            self.notice = user_message(exc.reason, lang)
            return None
        except NotFound:
            self.notice = user_message("not_found", lang)
            return None
        turn, request, (api_key, base_url), shown, view, listing = started
        self._assign(notice="", editing_id=-1)
        if shown is not None and turn.conversation_id == self.current_id:
            title, items = shown
            # The stored bubbles take over the pending ones' rows.
            pending, thread.pending = thread.pending, []
            thread._add_recent(keep_keys(pending, items))
            self._assign(current_title=title)
        elif shown is None:
            await self._show_conversation(user_id, turn.conversation_id, view)
        else:  # the bubbles were read for another conversation than the one shown: read it
            await self._load_conversation(user_id, turn.conversation_id)
        thread.streaming_id = turn.assistant_message_id
        top = self.conversations[0] if self.conversations else None
        if listing is not None:
            items, more = listing
            self._assign(conversations=items, has_more_conversations=more, row_patch={})
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
                request=request,
                client=router.client_for(request.model, api_key=api_key, base_url=base_url),
            )
            # This tab's follower may skip re-checking what was just checked (see `follow`).
            stream_push.grant(
                self.router.session.client_token,
                message_id=turn.assistant_message_id,
                user_id=user_id,
                lang=lang,
            )
            return ChatState.follow(turn.assistant_message_id)

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

    async def _send(self, form: dict) -> tuple[Any, list]:
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
                conversation_id=cid or _create_conversation(s, user_id),
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
    async def start_edit(self, message_id: int):
        """Opens the editor on a sent user message."""
        if (await self._thread()).streaming_id < 0:
            self.editing_id = int(message_id)

    @rx.event
    def cancel_edit(self):
        """Closes the message editor."""
        self.editing_id = -1

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

    @rx.event
    async def delete_message(self, message_id: int):
        """Deletes one message."""
        user_id = await self._user_id()
        thread = await self._thread()
        if user_id is None or int(message_id) == thread.streaming_id:
            return
        with session_scope() as session:
            n = store.delete_messages(session, user_id=user_id, message_ids=[int(message_id)])
        if n == 0:
            log.warning("user %s tried to delete message %s: not theirs", user_id, message_id)
            return
        thread._assign(
            messages=[m for m in thread.messages if m.id != int(message_id)],
            recent=[m for m in thread.recent if m.id != int(message_id)],
        )

    @rx.event
    async def clear_context(self):
        """Adds a 清除上下文 divider to the open conversation."""
        user_id = await self._user_id()
        if user_id is None or not self.current_id or (await self._thread()).streaming_id >= 0:
            return
        try:
            with session_scope() as session:
                conversations.clear_context(
                    session, user_id=user_id, conversation_id=self.current_id
                )
        except NotFound:
            return
        await self._load_conversation(user_id, self.current_id)

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
            return ChatState.follow(streaming_id)  # starts by sending the whole text
        if have < handle.sent:
            handle.resync = True
            handle.poke()
        return None

    # ---- streaming -----------------------------------------------------------------------------

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
                thread.streaming_id = -1
                user_id = await self._final_user(user_id if grant is not None else None)
                if user_id is not None:
                    await self._show_final(
                        thread,
                        user_id,
                        message_id,
                        handle.sent if grant is not None else -1,
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
        remote_text, remote_done = "", False
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
            else:
                handle.wake = idle
                idle.clear()
                now = time.monotonic()
                if now - last_db_check >= REMOTE_POLL_S:
                    last_db_check = now
                    remote_text, remote_done = await asyncio.to_thread(
                        _read_checkpoint, user_id, message_id
                    )
                text, finished = remote_text, remote_done
            if handle.resync:
                handle.resync, handle.sent = False, 0
            batch = len(text) > handle.sent
            if batch:
                # Offset 0 replaces what the tab holds (a resync, or a new follower after a reload).
                if not await stream_push.push_script(
                    token, _js("a", message_id, handle.sent, text[handle.sent :])
                ):
                    return False
                handle.sent = len(text)
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
        self, thread: ThreadState, user_id: int, message_id: int, sent: int, lang: str
    ) -> None:
        """Puts the finished answer in place of its live bubble, and its preview in the list."""
        job = answers.get_job(message_id)
        if job is not None and job.user_id == user_id and job.saved is not None:
            final = _final_view(*job.saved, lang=lang)  # no need to read back what it just wrote
        else:
            final = await asyncio.to_thread(_read_final, user_id, message_id, lang)
        if final is None:
            return
        item, conversation_id, row = final
        if sent == len(item.content) and item.content:
            # The tab holds exactly this text already (cs.a batches, in order, on one socket):
            # don't send it a second time (3 bytes per Chinese character).
            item.content, item.streamed = "", True
        thread._replace(item)
        if any(c.id == conversation_id for c in self.conversations):
            # The list row's preview and time, without re-sending the whole list.
            self.row_patch = {**self.row_patch, conversation_id: row}


# The ChatState and ThreadState vars that show a conversation.
ConversationView = tuple[dict[str, Any], dict[str, Any]]
ListView = tuple[list[ConversationItem], bool]


def _read_list(user_id: int, query: str, limit: int, lang: str) -> ListView:
    """The first `limit` rows of the conversation list, and whether there are more."""
    with session_scope() as session:
        return _list_view(session, user_id, query, limit, lang)


def _list_view(session: Session, user_id: int, query: str, limit: int, lang: str) -> ListView:
    untitled = translate("chat.untitled", lang)
    now = utcnow()
    rows = store.list_conversations(session, user_id=user_id, query=query, limit=limit + 1)
    items = [conversation_item(c, now=now, lang=lang, untitled=untitled) for c in rows[:limit]]
    return items, len(rows) > limit


def _read_conversation(user_id: int, conversation_id: str, lang: str) -> ConversationView | None:
    """The vars showing a conversation (its last PAGE_SIZE messages), or None if it is not the
    user's."""
    with session_scope() as session:
        return _conversation_view(session, user_id, conversation_id, lang)


def _conversation_view(
    session: Session, user_id: int, conversation_id: str, lang: str
) -> ConversationView | None:
    now = utcnow()
    router = get_router()
    conv = store.get_conversation(session, user_id=user_id, conversation_id=conversation_id)
    if conv is None:
        return None
    rows = store.list_messages(
        session, user_id=user_id, conversation_id=conv.id, limit=PAGE_SIZE + 1
    )
    has_earlier = len(rows) > PAGE_SIZE
    rows = rows[-PAGE_SIZE:]
    live = [m for m in rows if m.status == "streaming" and m.id is not None]
    # As the next request will use them: a value stored above a ceiling lowered since shows (and
    # saves back) clamped.
    params = parameters.effective(conv, get_settings().ceilings)
    shown = {
        "not_found": False,
        "current_id": conv.id,
        "current_title": conv.title or translate("chat.untitled", lang),
        "current_model": router.resolve(
            conv.model, own_key=preferences.has_own_key(session, user_id=user_id)
        ),
        "current_temperature": params["temperature"],
        "current_top_p": params["top_p"] if params["top_p"] is not None else 1.0,
        # The stored value, not the operator's default reply length: 0 saves back as unset.
        "current_max_tokens": min(conv.max_tokens or 0, get_settings().max_reply_tokens),
        "current_context_window": params["context_window"],
        "current_token_budget": params["token_budget"],
        "current_role_id": conv.role_id or 0,
    }
    thread = {
        "has_earlier": has_earlier,
        "messages": [message_item(m, now=now, lang=lang) for m in rows],
        "recent": [],
        "pending": [],
        "streaming_id": live[-1].id if live and live[-1].id is not None else -1,
    }
    return shown, thread


def _has_own_key(user_id: int) -> bool:
    with session_scope() as session:
        return preferences.has_own_key(session, user_id=user_id)


def _create_conversation(session: Session, user_id: int) -> str:
    """A new conversation with the user's default model and role (settings page); its id."""
    own_key = preferences.has_own_key(session, user_id=user_id)
    fields = preferences.new_conversation_fields(
        session,
        user_id=user_id,
        resolve_model=lambda model: get_router().resolve(model, own_key=own_key),
    )
    return store.create_conversation(session, user_id=user_id, **fields).id


def _start_turn(
    user_id: int, make_turn, lang: str, appending: bool, list_query: tuple[str, int] | None
):
    """Runs a use case that opens an answer slot (committed on return) and reads what the answer
    needs: (turn, model request, the user's own key and base URL, and — when `appending` — the
    conversation's title and the new bubbles, otherwise the whole conversation's view; the
    list's first rows when `list_query` (search, limit) is given)."""
    with session_scope() as session:
        turn = make_turn(session)
        request = conversations.build_request(
            session, user_id=user_id, turn=turn, ceilings=get_settings().ceilings
        )
        # The user's own API key, if they saved one (settings page); decrypted only here.
        credentials = preferences.user_credentials(
            session, user_id=user_id, box=box_for(get_settings())
        )
        shown = None
        if appending:
            now = utcnow()
            conv = store.get_conversation(
                session, user_id=user_id, conversation_id=turn.conversation_id
            )
            rows = [
                store.get_message(session, user_id=user_id, message_id=mid)
                for mid in (turn.user_message_id, turn.assistant_message_id)
            ]
            if conv is not None and all(rows):
                title = conv.title or translate("chat.untitled", lang)
                shown = (title, [message_item(m, now=now, lang=lang) for m in rows if m])
        view = (
            None
            if shown is not None
            else _conversation_view(session, user_id, turn.conversation_id, lang)
        )
        listing = _list_view(session, user_id, *list_query, lang) if list_query else None
    return turn, request, credentials, shown, view, listing


def _read_final(
    user_id: int, message_id: int, lang: str
) -> tuple[MessageItem, str, list[str]] | None:
    """A finished answer's bubble, its conversation id, and that conversation's list row
    [preview, time]."""
    with session_scope() as session:
        msg = store.get_message(session, user_id=user_id, message_id=message_id)
        if msg is None:
            return None
        conv = store.get_conversation(session, user_id=user_id, conversation_id=msg.conversation_id)
        if conv is None:
            return None
        return _final_view(msg, conv, lang=lang)


def _final_view(
    msg: Message, conv: Conversation, *, lang: str
) -> tuple[MessageItem, str, list[str]]:
    now = utcnow()
    row = conversation_item(conv, now=now, lang=lang, untitled="")
    return message_item(msg, now=now, lang=lang), conv.id, [row.preview, row.time]


def _read_checkpoint(user_id: int, message_id: int) -> tuple[str, bool]:
    """The last checkpoint of an answer streamed elsewhere, and whether it has ended."""
    answers.reap_stale_answers()
    with session_scope() as session:
        msg = store.get_message(session, user_id=user_id, message_id=message_id)
        if msg is None:
            return "", True
        return msg.content, msg.status != "streaming"
