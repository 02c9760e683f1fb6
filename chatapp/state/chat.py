"""The chat page's state (ChatState): the open conversation — opening it, its header (title,
model, parameters, role), "load earlier", and the message actions (edit, delete, clear context).

ChatState is one Reflex state assembled from mixins, one job per module: sending.py (send,
regenerate, save an edit), thread.py (the follower that streams an answer, resync, stop) and
conversation_list.py (the list, search, rename, pin, delete). The open conversation's messages are
ThreadState's (thread.py), a state of its own so that a send re-renders only the messages.

Thin wiring: a handler validates, calls a use case (chatapp/chat/), assigns vars; every query runs
in a worker thread. Every handler that touches a conversation re-checks the logged-in user.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

import reflex as rx

from chatapp import preferences
from chatapp.chat import conversations, organize, screens, store
from chatapp.chat.providers import get_router
from chatapp.core import parameters
from chatapp.core.config import get_settings
from chatapp.errors import NotFound
from chatapp.state.auth import AuthState
from chatapp.state.conversation_list import ConversationList
from chatapp.state.sending import Sending
from chatapp.state.thread import AnswerFollower
from chatapp.state.worker import in_session

__all__ = ["ChatState"]

log = logging.getLogger(__name__)


class ChatState(Sending, AnswerFollower, ConversationList, rx.State):
    """The chat page."""

    current_id: str = ""
    current_title: str = ""
    current_model: str = ""
    current_temperature: float = 0.7
    current_top_p: float = 1.0
    current_max_tokens: int = 0
    current_context_window: int = 20
    current_token_budget: int = 8000
    current_role_id: int = 0
    not_found: bool = False
    models: list[str] = []
    demo: bool = False
    editing_id: int = -1
    notice: str = ""

    async def _load_conversation(self, user_id: int, conversation_id: str) -> None:
        view = await in_session(
            screens.conversation_view,
            user_id=user_id,
            conversation_id=conversation_id,
            lang=await self._lang(),
        )
        await self._show_conversation(user_id, conversation_id, view)

    async def _show_conversation(
        self, user_id: int, conversation_id: str, view: screens.ConversationView | None
    ) -> None:
        if view is None:
            log.warning("user %s asked for conversation %s: not theirs", user_id, conversation_id)
            await self._clear_current()
            self.not_found = True
            return
        self._assign(
            not_found=False,
            current_id=view.id,
            current_title=view.title,
            current_model=view.model,
            current_temperature=view.temperature,
            current_top_p=view.top_p,
            current_max_tokens=view.max_tokens,
            current_context_window=view.context_window,
            current_token_budget=view.token_budget,
            current_role_id=view.role_id,
        )
        (await self._thread())._show(view)

    async def _clear_current(self) -> None:
        self.current_id = ""
        self.current_title = ""
        self.current_role_id = 0
        self.editing_id = -1
        (await self._thread())._clear()

    @rx.event
    async def load_page(self):
        """on_load of `/` and `/chat/[cid]`: the list, and the conversation in the URL."""
        user_id = await self._user_id()
        if user_id is None:
            return AuthState.require_login  # to /login?next=<this page>
        router = get_router()
        await router.refresh_models()  # cached; asks the provider at most every 10 minutes
        # A user's own API key answers on a deployment without a provider (not the demo model).
        own_key = await in_session(preferences.has_own_key, user_id=user_id)
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

    @rx.event
    async def new_conversation(self):
        """Creates a conversation and opens it."""
        user_id = await self._user_id()
        if user_id is None:
            return rx.redirect("/login")
        cid = await in_session(organize.create_conversation, user_id=user_id)
        # Switch now, so a message typed before the navigation lands goes to the new chat.
        await self._load_conversation(user_id, cid)
        await self._refresh_list(user_id)
        return rx.redirect(f"/chat/{cid}")

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
            own_key = await in_session(preferences.has_own_key, user_id=user_id)
            fields["model"] = get_router().resolve(str(form["model"]), own_key=own_key)
        self.notice = ""
        await in_session(
            store.update_conversation, user_id=user_id, conversation_id=self.current_id, **fields
        )
        await self._load_conversation(user_id, self.current_id)

    @rx.event
    async def set_model(self, model: str):
        """Switches the open conversation's model."""
        await self.update_settings({"model": model})

    @rx.event
    async def load_earlier(self):
        """Prepends the previous page of messages."""
        user_id = await self._user_id()
        thread = await self._thread()
        if user_id is None or not self.current_id or not thread.messages:
            return
        page = await in_session(
            screens.earlier_page,
            user_id=user_id,
            conversation_id=self.current_id,
            before_id=thread.messages[0].id,
            lang=await self._lang(),
        )
        thread.has_earlier = page.has_earlier
        thread.messages = page.messages + thread.messages

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
    async def delete_message(self, message_id: int):
        """Deletes one message."""
        user_id = await self._user_id()
        thread = await self._thread()
        if user_id is None or int(message_id) == thread.streaming_id:
            return
        n = await in_session(store.delete_messages, user_id=user_id, message_ids=[int(message_id)])
        if n == 0:
            log.warning("user %s tried to delete message %s: not theirs", user_id, message_id)
            return
        thread._drop(int(message_id))

    @rx.event
    async def clear_context(self):
        """Adds a 清除上下文 divider to the open conversation."""
        user_id = await self._user_id()
        if user_id is None or not self.current_id or (await self._thread()).streaming_id >= 0:
            return
        try:
            await in_session(
                conversations.clear_context, user_id=user_id, conversation_id=self.current_id
            )
        except NotFound:
            return
        await self._load_conversation(user_id, self.current_id)
