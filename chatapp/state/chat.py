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

import asyncio
import dataclasses
import logging
from typing import Any
from urllib.parse import urlsplit

import reflex as rx

from chatapp import preferences
from chatapp.chat import conversations, organize, screens, store
from chatapp.chat.providers import get_router
from chatapp.core import parameters
from chatapp.core.config import get_settings
from chatapp.errors import NotFound
from chatapp.roles.items import role_face
from chatapp.state.auth import AuthState
from chatapp.state.conversation_list import ConversationList
from chatapp.state.sending import Sending
from chatapp.state.thread import AnswerFollower
from chatapp.state.worker import in_session

__all__ = ["ChatState"]

log = logging.getLogger(__name__)

# How long 「已删除消息 · 撤销」 stays after a message is deleted.
UNDO_SECONDS = 8


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
    # Of `models`, those that draw pictures (marked 「画图」 in the picker).
    image_models: list[str] = []
    demo: bool = False
    editing_id: int = -1
    notice: str = ""
    # The ⚙ form's answer, field by field: why a value was refused, which were saved, and the
    # summary ("all_saved", "some_refused", "unchanged" or "").
    param_errors: dict[str, str] = {}
    param_saved: list[str] = []
    param_summary: str = ""
    # The undo bar of the last deleted message; what it restores is backend-only.
    undo_open: bool = False
    _undo: dict = {}
    _undo_serial: int = 0

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
        await self._show_role_face(user_id, view.role_id)

    async def _show_role_face(self, user_id: int, role_id: int) -> None:
        # Imported here: chat_role.py builds on ChatState.
        from chatapp.state.chat_role import ChatRoleState

        faces = await self.get_state(ChatRoleState)
        if faces.face_role_id != role_id:
            face = await in_session(role_face, user_id=user_id, role_id=role_id)
            faces._show_face(role_id, face)

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
            image_models=router.image_model_ids(),
            demo=router.is_demo(own_key=own_key),
            notice="",
            editing_id=-1,
            renaming_id="",
            undo_open=False,
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

    def _shown_parameters(self) -> dict[str, float | int | None]:
        return {
            "temperature": self.current_temperature,
            "top_p": self.current_top_p,
            "max_tokens": self.current_max_tokens or None,
            "context_window": self.current_context_window,
            "token_budget": self.current_token_budget,
        }

    @rx.event
    async def update_settings(self, form: dict):
        """Saves the open conversation's model and parameters (apply to the next message).

        Field by field: each value in its range (the operator's ceilings included, see
        chatapp.core.parameters) that differs from the one shown is saved and marked 「已保存」;
        one outside its range is not saved and says why beside its field; the others stay.
        """
        user_id = await self._user_id()
        if user_id is None or not self.current_id or not isinstance(form, dict):
            return
        lang = await self._lang()
        ceilings = get_settings().ceilings
        shown = self._shown_parameters()
        fields: dict[str, Any] = {}
        errors: dict[str, str] = {}
        for name in parameters.NAMES:
            if name not in form:
                continue
            try:
                value = parameters.parse(name, form[name], ceilings)
            except parameters.ParameterError as exc:
                errors[name] = parameters.describe(exc, lang)
                continue
            if value != shown[name]:
                fields[name] = value
        if "model" in form:
            own_key = await in_session(preferences.has_own_key, user_id=user_id)
            model = get_router().resolve(str(form["model"]), own_key=own_key)
            if model != self.current_model:
                fields["model"] = model
        self.notice = ""
        self.param_errors = errors
        self.param_saved = list(fields)
        self.param_summary = "some_refused" if errors else ("all_saved" if fields else "unchanged")
        if not fields:
            return
        await in_session(
            store.update_conversation, user_id=user_id, conversation_id=self.current_id, **fields
        )
        await self._load_conversation(user_id, self.current_id)

    @rx.event
    def clear_parameter_status(self, _open: bool = True):
        """Forgets the ⚙ form's last answers (it opened or closed)."""
        self._assign(param_errors={}, param_saved=[], param_summary="")

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
        """Deletes one message; the list row shows what is now the last message, and an undo bar
        offers to put it back for UNDO_SECONDS."""
        user_id = await self._user_id()
        thread = await self._thread()
        if user_id is None or int(message_id) == thread.streaming_id:
            return None
        deleted = await in_session(
            organize.delete_message, user_id=user_id, message_id=int(message_id)
        )
        if deleted is None:
            log.warning("user %s tried to delete message %s: not theirs", user_id, message_id)
            return None
        thread._drop(int(message_id))
        self._show_preview(deleted.conversation_id, deleted.preview)
        self._undo = dataclasses.asdict(deleted)
        self._undo_serial += 1
        self.undo_open = True
        return ChatState.close_undo_later(self._undo_serial)

    @rx.event(background=True)
    async def close_undo_later(self, serial: int):
        """Hides the undo bar after UNDO_SECONDS, unless a newer delete replaced it."""
        await asyncio.sleep(UNDO_SECONDS)
        async with self:
            if self._undo_serial == serial:
                self.undo_open = False
                self._undo = {}

    @rx.event
    async def undo_delete(self):
        """Puts the last deleted message back in its place."""
        saved, self._undo = self._undo, {}
        self.undo_open = False
        user_id = await self._user_id()
        if user_id is None or not saved:
            return
        deleted = organize.DeletedMessage(**saved)
        preview = await in_session(organize.restore_message, user_id=user_id, deleted=deleted)
        if preview is None:
            log.warning("user %s: undo of a message delete refused", user_id)
            return
        self._show_preview(deleted.conversation_id, preview)
        if deleted.conversation_id == self.current_id:
            await self._load_conversation(user_id, self.current_id)

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
