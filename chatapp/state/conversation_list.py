"""The chat page's conversation list (ConversationList): its rows, search, "load more", and the
row menu's rename, pin and delete. The rules are in chatapp/chat/organize.py.

A mixin of ChatState, not a state of its own: a send refreshes the list in the same event that
shows the new message, and renaming or deleting the open conversation changes the header — one
state means one lock and one fetch per event (bench/README.md, "concurrency").
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import reflex as rx

from chatapp.chat import answers, organize, screens
from chatapp.chat.items import ConversationItem
from chatapp.state.chat_base import ChatBase
from chatapp.state.thread import ThreadState
from chatapp.state.worker import in_session

log = logging.getLogger(__name__)

# Conversations shown at first (and added by "load more"): 2,000 rows took ~2 s to render and
# every list change re-sends the whole list (bench/README.md, "big conversations").
LIST_PAGE = 100


class ConversationList(ChatBase, mixin=True):
    """ChatState's conversation list and its events."""

    conversations: list[ConversationItem] = []
    has_more_conversations: bool = False
    search_query: str = ""
    # List rows changed by a finished answer (id -> [preview, time]), shown over `conversations`
    # so the whole list is not re-sent for one row.
    row_patch: dict[str, list[str]] = {}
    renaming_id: str = ""
    confirm_delete_id: str = ""
    # A row's role avatar (id -> [avatar, "1" if an image]); rows without a role are absent.
    row_faces: dict[str, list[str]] = {}
    # While searching: what matched, as [before, match, after], in a row's title and messages.
    title_hits: dict[str, list[str]] = {}
    message_hits: dict[str, list[str]] = {}

    _list_limit: int = LIST_PAGE

    if TYPE_CHECKING:  # provided by ChatState, the state this is mixed into
        current_id: str
        current_title: str

        async def _clear_current(self) -> None: ...

    async def _refresh_list(self, user_id: int) -> None:
        view = await in_session(
            organize.list_view,
            user_id=user_id,
            query=self.search_query,
            limit=self._list_limit,
            lang=await self._lang(),
        )
        self._assign(
            row_faces=view.faces, title_hits=view.title_hits, message_hits=view.message_hits
        )
        self._show_list(view.page)

    def _show_list(self, page: screens.ListPage) -> None:
        self._assign(conversations=page.items, has_more_conversations=page.has_more, row_patch={})

    def _patch_row(self, conversation_id: str, row: list[str]) -> None:
        """Shows a row's new preview and time (an answer ended), without re-sending the list."""
        if any(c.id == conversation_id for c in self.conversations):
            self.row_patch = {**self.row_patch, conversation_id: row}

    def _show_preview(self, conversation_id: str, preview: str) -> None:
        """A row's preview after one of its messages was deleted or put back (its time stays)."""
        times = [c.time for c in self.conversations if c.id == conversation_id]
        time = self.row_patch.get(conversation_id, ["", ""])[1] or (times[0] if times else "")
        self._patch_row(conversation_id, [preview, time])

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
        title = organize.clean_title(str(form.get("title", "")))
        self.renaming_id = ""
        user_id = await self._user_id()
        if user_id is None or not title:
            return
        stored = await in_session(
            organize.rename, user_id=user_id, conversation_id=conversation_id, title=title
        )
        if stored is None:
            log.warning("user %s tried to rename %s: not theirs", user_id, conversation_id)
            return
        if conversation_id == self.current_id:
            self.current_title = stored
        await self._refresh_list(user_id)

    @rx.event
    async def toggle_pin(self, conversation_id: str):
        """Pins a conversation to the top of the list, or unpins it."""
        user_id = await self._user_id()
        if user_id is None:
            return
        pinned = await in_session(
            organize.toggle_pin, user_id=user_id, conversation_id=conversation_id
        )
        if pinned is None:
            log.warning("user %s tried to pin %s: not theirs", user_id, conversation_id)
            return
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
        """Deletes a conversation (the UI asks for confirmation first); an answer streaming into
        it is stopped first."""
        user_id = await self._user_id()
        if user_id is None:
            return None
        is_open = conversation_id == self.current_id
        streaming_id = (await self.get_state(ThreadState)).streaming_id
        if streaming_id >= 0 and is_open:
            job = answers.get_job(streaming_id)
            if job is not None and job.user_id == user_id:
                job.cancel()
                await job.done.wait()
        deleted = await in_session(
            organize.delete_conversation, user_id=user_id, conversation_id=conversation_id
        )
        if not deleted:
            log.warning("user %s tried to delete %s: not theirs", user_id, conversation_id)
            return None
        await self._refresh_list(user_id)
        if is_open:
            await self._clear_current()
            return rx.redirect("/")
        return None
