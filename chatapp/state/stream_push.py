"""Sends a streamed answer's batches to one browser tab over Reflex's websocket, and keeps the
per-tab follower handles that the `resync` event talks to.

Why not `yield rx.call_script(...)` from the background task, as Reflex suggests: every yield
goes through Reflex's event processor (an update object, delta resolution, the state's
serializer), and a follower would have to take the state lock every half second to learn about
stop and resync. With a few hundred answers streaming that is most of the app's CPU per stream
(bench/README.md, "concurrency"). Here a batch is one `event` message with one `_call_script`
event — the same message Reflex itself sends, minus the empty fields — emitted straight to the
tab's socket; a resync reaches the follower through a handle in this process (a tab's events
arrive on the socket of the process that runs its follower).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from reflex.state import StateUpdate
from reflex_base.event import Event
from reflex_base.registry import RegistrationContext


@dataclass
class FollowerHandle:
    """What the events of one tab tell the follower pushing an answer to it."""

    message_id: int
    sent: int = 0  # code points of the answer the tab has been sent
    resync: bool = False
    beat: float = field(default_factory=time.monotonic)
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    def poke(self) -> None:
        """Wakes the follower now (instead of at its next beat)."""
        self.wake.set()


# One follower per tab (client token) in this process; a newer follower replaces an older one.
_followers: dict[str, FollowerHandle] = {}


def register(token: str, message_id: int) -> FollowerHandle:
    """Starts a follower for a tab; the previous one of the tab (if any) sees it was replaced."""
    handle = FollowerHandle(message_id)
    _followers[token] = handle
    return handle


def current(token: str) -> FollowerHandle | None:
    """The tab's live follower handle, if any."""
    return _followers.get(token)


def unregister(token: str, handle: FollowerHandle) -> None:
    """Forgets a follower that ended (unless a newer one replaced it already)."""
    if _followers.get(token) is handle:
        del _followers[token]


async def push_script(token: str, code: str) -> bool:
    """Runs `code` in the tab; False (nothing sent) when its socket is not on this process."""
    ns = RegistrationContext.get().app.event_namespace
    if ns is None:
        return False
    # Reflex's own shared-state code reads the token manager the same way.
    manager = ns._token_manager
    record = manager.token_to_socket.get(token)
    if record is not None and record.instance_id == manager.instance_id:
        event = {"name": "_call_script", "payload": {"javascript_code": code}}
        await ns.emit("event", {"events": [event]}, to=record.sid)
        return True
    if hasattr(manager, "emit_lost_and_found"):
        # Several workers share Redis: the tab's socket may be on another worker, and Reflex
        # relays the update there (the way a yielded update would travel).
        script = Event(name="_call_script", payload={"javascript_code": code})
        await ns.emit_update(StateUpdate(events=[script]), token)
        return True
    return False
