"""A socket client speaking Reflex's event protocol, for tests that play a scripted or hostile tab.

The protocol is the browser's own, captured first (as bench/load.py does): `capture_protocol`
opens the chat in Chromium, sends one message and keeps the frames the page sent — the socket.io
CONNECT packet of namespace `/_event`, whose hydrate event runs the page's on_load, and the
`ChatState.send` event, whose name gives the state names. A `ReflexSocket` then connects with a
client token of its own and any session cookie (or none at all), emits any handler by name with
any payload, and records every frame it receives:

    proto = capture_protocol(browser, app.url, session_token)
    async with ReflexSocket(app.url, proto, session_token=None) as tab:   # no cookie at all
        await tab.emit("follow", {"message_id": 7})
        await tab.barrier()            # every event sent before it has been handled
        assert "cs.a(" not in tab.received()

`run_async(coro)` runs a scenario on an event loop of its own thread, so it also works while a
sync Playwright (which keeps a loop running in the main thread) is live.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import copy
import itertools
import json
import time
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

import socketio
from playwright.sync_api import Browser, expect

from testkit.browser import SESSION_COOKIE, log_in

NS = "/_event"
_barriers = itertools.count(1)
T = TypeVar("T")


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    """Runs `coro` to completion on a new event loop in a thread of its own."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


@dataclass
class Protocol:
    """The frames a tab needs, as the browser sent them."""

    connect_auth: dict[str, Any]
    send_event: dict[str, Any]

    @property
    def root_state(self) -> str:
        """The full name of Reflex's root state (`reflex___state____state`)."""
        return self.send_event["name"].split(".", 1)[0]

    def state(self, module: str, class_snake: str) -> str:
        """The full name of a state of `chatapp.state.<module>`, e.g. ("chat", "chat_state")."""
        return f"{self.root_state}.chatapp___state___{module}____{class_snake}"

    def event_name(self, handler: str, state: str | None = None) -> str:
        """The name of an event: `handler` of ChatState unless another full state name is given."""
        return f"{state or self.send_event['name'].rsplit('.', 1)[0]}.{handler}"

    def connect_as(self, session_token: str | None, path: str = "/") -> dict[str, Any]:
        """The CONNECT payload of a tab on `path` with `session_token` as its session cookie, or
        with no cookie at all (None)."""
        auth = copy.deepcopy(self.connect_auth)
        event = auth["event"]
        values = event["payload"].get("vars") or {}
        for name in list(values):
            if name.endswith("session_token_rx_state_"):
                if session_token is None:
                    del values[name]
                else:
                    values[name] = session_token
        event["router_data"] = {"pathname": path, "asPath": path}
        return auth

    def send_with(self, text: str, conversation_id: str = "") -> dict[str, Any]:
        """The browser's send event with another text (a new conversation when no id is given)."""
        event = copy.deepcopy(self.send_event)
        event["payload"]["form"]["__reflex_form_data__"] = [
            ["conversation_id", conversation_id],
            ["text", text],
            ["composer_input", text],
        ]
        path = f"/chat/{conversation_id}" if conversation_id else "/"
        event["router_data"] = {"pathname": path, "asPath": path}
        return event


def capture_protocol(browser: Browser, base_url: str, session_token: str) -> Protocol:
    """Opens the chat in a real browser, sends one message, and keeps the frames it sent."""
    context = browser.new_context()
    log_in(context, base_url, session_token)
    page = context.new_page()
    sent: list[str] = []
    page.on(
        "websocket",
        lambda ws: ws.on(
            "framesent", lambda p: sent.append(p if isinstance(p, str) else p.decode())
        ),
    )
    try:
        page.goto(base_url + "/")
        page.locator("#composer-input").fill("capture the protocol")
        page.locator("#composer-input").press("Enter")
        expect(page.locator('[data-testid="assistant-bubble"]').last).to_have_attribute(
            "data-status", "done", timeout=30_000
        )
    finally:
        context.close()
    connect = next(f for f in sent if f.startswith("40" + NS + ","))
    event = next(f for f in sent if f.startswith("42" + NS + ",") and ".send" in f)
    return Protocol(
        connect_auth=json.loads(connect.split(",", 1)[1]),
        send_event=json.loads(event.split(",", 1)[1])[1],
    )


class ReflexSocket:
    """One tab on the websocket: its own client token, the given session cookie (or none)."""

    def __init__(self, base_url: str, protocol: Protocol, session_token: str | None) -> None:
        self.base_url = base_url
        self.protocol = protocol
        self.session_token = session_token
        self.token = str(uuid.uuid4())
        self.frames: list[str] = []  # every `event` message received, as JSON text
        self.disconnected = asyncio.Event()
        self._changed = asyncio.Event()
        self._sio = socketio.AsyncClient(reconnection=False)

    async def __aenter__(self) -> ReflexSocket:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def connect(self, path: str = "/", timeout: float = 30) -> None:
        """Connects and hydrates on `path` (its on_load runs), like a page load."""

        async def on_event(data: Any) -> None:
            self.frames.append(json.dumps(data, ensure_ascii=False))
            self._changed.set()

        async def on_disconnect(*_: Any) -> None:
            self.disconnected.set()
            self._changed.set()

        self._sio.on("event", on_event, namespace=NS)
        self._sio.on("disconnect", on_disconnect, namespace=NS)
        headers = {"Origin": self.base_url}
        if self.session_token is not None:
            # What the browser's handshake carries; the session itself comes with the hydrate.
            headers["Cookie"] = f"{SESSION_COOKIE}={self.session_token}"
        await self._sio.connect(
            f"{self.base_url}?token={self.token}",
            socketio_path="/_event",
            transports=["websocket"],
            namespaces=[NS],
            headers=headers,
            auth=self.protocol.connect_as(self.session_token, path),
            wait_timeout=int(timeout),
        )
        await self.wait_for(lambda: '"is_hydrated_rx_state_": true' in self.received(), timeout)

    async def emit(
        self,
        handler: str,
        payload: dict[str, Any] | None = None,
        *,
        state: str | None = None,
        path: str = "/",
    ) -> None:
        """Sends the event `handler` (of ChatState unless `state` names another) from `path`."""
        await self.emit_raw(
            {
                "name": self.protocol.event_name(handler, state),
                "payload": payload or {},
                "router_data": {"pathname": path, "asPath": path},
            }
        )

    async def emit_raw(self, event: Any) -> None:
        """Sends any `event` message, well-formed or not."""
        await self._sio.emit("event", event, namespace=NS)

    async def barrier(self, timeout: float = 30) -> None:
        """Returns once the server has handled every (non-background) event sent before it: a
        search for a unique text comes back in a delta, after the events queued ahead of it."""
        marker = f"barrier-{next(_barriers)}-{self.token[:8]}"
        await self.emit("search", {"query": marker})
        await self.wait_for(lambda: marker in self.received(), timeout)

    def received(self) -> str:
        """Everything received so far, one JSON text per frame."""
        return "\n".join(self.frames)

    def scripts(self) -> list[str]:
        """The scripts the server ran in this tab (`_call_script` events)."""
        out = []
        for frame in self.frames:
            for event in json.loads(frame).get("events") or []:
                code = (event.get("payload") or {}).get("javascript_code")
                if isinstance(code, str):
                    out.append(code)
        return out

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 30) -> None:
        """Waits until `predicate()` holds, re-checking whenever a frame arrives.

        Raises:
            TimeoutError: it did not hold within `timeout` seconds.
        """
        deadline = time.monotonic() + timeout
        while not predicate():
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"waited {timeout} s; last frames: {self.frames[-3:]}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(left, 1.0))

    async def close(self) -> None:
        """Disconnects (quietly if already gone)."""
        with contextlib.suppress(Exception):
            await self._sio.disconnect()
