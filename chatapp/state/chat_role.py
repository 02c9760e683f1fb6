"""The chat header's role picker: the roles the user may pick, and switching the open
conversation's role.

Thin wiring over `chatapp.roles.items.role_choices` and `chatapp.roles.binding`, run in a worker
thread. A switch re-checks the user and the conversation's owner in the use case; a refused one
is logged and changes nothing.
"""

from __future__ import annotations

import logging

import reflex as rx

from chatapp.chat.providers import get_router
from chatapp.errors import NotFound
from chatapp.roles import binding
from chatapp.roles.items import RoleChoice, RoleItem, role_choices
from chatapp.state.auth import AuthState
from chatapp.state.chat import ChatState
from chatapp.state.thread import ThreadState
from chatapp.state.ui import UIState
from chatapp.state.worker import in_session

log = logging.getLogger(__name__)


class ChatRoleState(rx.State):
    """The role picker in the chat header, and the open conversation's role as the chat shows it:
    its avatar on the answers and its opening messages above the first message. A state of its
    own (set by ChatState when a conversation opens): it changes only when the role does, so the
    message rows that read it are not re-rendered by a send."""

    options: list[RoleChoice] = []
    face_role_id: int = 0
    name: str = ""
    avatar: str = "🤖"
    avatar_is_image: bool = False
    opening: list[dict[str, str]] = []

    def _show_face(self, role_id: int, face: RoleItem | None) -> None:
        self.face_role_id = role_id
        self.name = face.name if face else ""
        self.avatar = face.avatar if face else "🤖"
        self.avatar_is_image = face.avatar_is_image if face else False
        self.opening = [o for o in face.opening if o["content"].strip()] if face else []

    @rx.event
    async def load_options(self):
        """Loads the roles the user may pick (on page load of the chat pages)."""
        user_id = await (await self.get_state(AuthState)).current_user_id()
        if user_id is None:
            return
        lang = (await self.get_state(UIState)).lang
        chat = await self.get_state(ChatState)
        self.options = await in_session(
            role_choices, user_id=user_id, lang=lang, chosen_id=chat.current_role_id
        )

    @rx.event
    async def switch(self, role_id: str):
        """Binds the open conversation to another role ("0": none); applies to the next answer."""
        user_id = await (await self.get_state(AuthState)).current_user_id()
        chat = await self.get_state(ChatState)
        thread = await self.get_state(ThreadState)
        if user_id is None or not chat.current_id or thread.streaming_id >= 0:
            return
        try:
            new_id = int(role_id) or None
            await in_session(
                binding.set_conversation_role,
                user_id=user_id,
                conversation_id=chat.current_id,
                role_id=new_id,
                resolve_model=get_router().resolve,
            )
        except (ValueError, NotFound):
            log.warning("user %s: role switch to %s refused", user_id, role_id)
            return
        await chat._load_conversation(user_id, chat.current_id)
