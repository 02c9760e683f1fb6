"""What every part of the chat page's state uses: the logged-in user, the page's language,
and assigning only the vars that changed (use cases run in a worker thread through
`chatapp/state/worker.py`).

`ChatBase` is the Reflex state mixin under the parts ChatState (chatapp/state/chat.py) is assembled
from — sending.py, thread.py, conversation_list.py — so all of them are one Reflex state with one
name: one lock and one fetch per event, as the benchmarks measured.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from chatapp.state.auth import AuthState
from chatapp.state.ui import UIState


def assign_changed(state: rx.State, values: dict[str, Any]) -> None:
    """Sets the vars whose value changed. Reflex re-sends every *assigned* var whole, equal or
    not: re-assigning an unchanged list of 100 conversations cost ~15 KB per navigation."""
    for name, value in values.items():
        if getattr(state, name) != value:
            setattr(state, name, value)


class ChatBase(rx.State, mixin=True):
    """The helpers of the chat page's state."""

    async def _user_id(self) -> int | None:
        """The logged-in user, checked against the sessions table (see AuthState)."""
        auth = await self.get_state(AuthState)
        return await auth.current_user_id()

    async def _lang(self) -> str:
        return (await self.get_state(UIState)).lang

    def _assign(self, **values: Any) -> None:
        assign_changed(self, values)
