"""Sends a streamed answer's batches to one browser tab over Reflex's websocket, keeps the per-tab
follower handles that the `resync` event talks to, and the grants that let a tab's own follower
start without a second look at its state.

Why not `yield rx.call_script(...)` from the background task, as Reflex suggests: every yield
goes through Reflex's event processor (an update object, delta resolution, the state's
serializer), and a follower would have to take the state lock every half second to learn about
stop and resync. With a few hundred answers streaming that is most of the app's CPU per stream
(bench/README.md, "concurrency"). Here a batch is one `event` message with one `_call_script`
event — the same message Reflex itself sends, minus the empty fields — emitted straight to the
tab's socket; a resync reaches the follower through a handle in this process (a tab's events
arrive on the socket of the process that runs its follower).

Grants: the handler that starts an answer job for a verified user records (tab, message, user)
here, in this process's memory. The follower of that tab and message takes the grant and skips
the state lock (bench/README.md, "concurrency"); any other follower — a reload, a resync, or an
event a client made up — has no grant and is checked under the lock (see ChatState.follow, in
chatapp/state/thread.py). A grant is never derived from what the client sends.
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
    sent_reasoning: int = 0  # code points of the reasoning the tab has been sent
    resync: bool = False
    beat: float = field(default_factory=time.monotonic)
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    def poke(self) -> None:
        """Wakes the follower now (instead of at its next beat)."""
        self.wake.set()


# One follower per tab (client token) in this process; a newer follower replaces an older one.
_followers: dict[str, FollowerHandle] = {}

# A grant not taken within this long is void (its follow event never came: the tab left).
GRANT_TTL_S = 30.0
# Sweep void grants once this many are held (one per tab at most).
_GRANT_SWEEP_AT = 1000


@dataclass(frozen=True)
class Grant:
    """A job this process started for `user_id`, whose answer the tab that asked for it may
    follow without another check."""

    message_id: int
    user_id: int
    lang: str
    at: float


_grants: dict[str, Grant] = {}


def grant(
    token: str, *, message_id: int, user_id: int, lang: str, now: float | None = None
) -> None:
    """Records that the tab `token` started the answer `message_id` for `user_id` (called by the
    handler that verified the user and started the job, never from client input)."""
    at = time.monotonic() if now is None else now
    if len(_grants) >= _GRANT_SWEEP_AT:
        for key in [k for k, g in _grants.items() if at - g.at > GRANT_TTL_S]:
            del _grants[key]
    _grants[token] = Grant(message_id, user_id, lang, at)


def take_grant(token: str, message_id: int, now: float | None = None) -> Grant | None:
    """The tab's grant for `message_id`, used up; None when there is none (or it is void)."""
    found = _grants.get(token)
    if found is None or found.message_id != message_id:
        return None
    del _grants[token]
    at = time.monotonic() if now is None else now
    return found if at - found.at <= GRANT_TTL_S else None


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
