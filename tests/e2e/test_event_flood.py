"""A flood of bad events from a socket with no session: events naming unknown handlers, events
with arguments no handler takes, frames that are not events — each carrying a session token and
a payload. The app log must hold none of them and grow by a bounded amount; the socket keeps
working (or is refused cleanly, and a new one works).
"""

from __future__ import annotations

import pytest

from testkit.fakes.reflex_socket import Protocol, ReflexSocket, capture_protocol, run_async
from testkit.fakes.wechat import dev_login

# A JWT-shaped token (header {"alg":"HS256"}): what a hostile client would put in a payload.
FAKE_JWT = (
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI0MiIsImp0aSI6ImZsb29kIn0."
    "ZmxvZWRmbG9lZGZsb2VkZmxvZWRmbG9lZGZsb2Vk"
)
MARKER = "flood-payload-marker"
EVENTS = 2000
# What 2,000 bad events may add to the log. Each one used to write its whole event (payload,
# headers) at ERROR: ~2 KB apiece here, 4 MB in all.
MAX_LOG_GROWTH = 64_000


@pytest.fixture(scope="module")
def protocol(browser, app) -> Protocol:
    return capture_protocol(browser, app.url, dev_login(app.url, "o_flood_capture"))


def test_a_flood_of_bad_events_logs_no_token_no_payload_and_little(app, protocol):
    since = app.log_offset()
    payload = {"token": FAKE_JWT, "text": f"{MARKER} " * 40}

    async def scenario() -> bool:
        async with ReflexSocket(app.url, protocol, session_token=None) as tab:
            for i in range(EVENTS):
                kind = i % 10
                if kind < 7:  # an unknown handler
                    await tab.emit(f"nope_{i}", payload)
                elif kind < 9:  # a real handler, arguments it does not take
                    await tab.emit("toggle_pin", {"conversation_id": "x", **payload})
                else:  # not an event at all
                    await tab.emit_raw(f"not an event {FAKE_JWT} {MARKER}")
            # Every event above has been handled once a later one comes back (in order).
            if tab.disconnected.is_set():
                return False
            await tab.barrier(timeout=120)
            return True

    still_working = run_async(scenario())
    if not still_working:  # refused cleanly: a new socket works
        run_async(_fresh_socket_works(app, protocol))
    grown = app.log_since(since)
    assert FAKE_JWT not in grown
    assert MARKER not in grown
    assert len(grown.encode()) < MAX_LOG_GROWTH, grown[-3000:]


async def _fresh_socket_works(app, protocol: Protocol) -> None:
    async with ReflexSocket(app.url, protocol, session_token=None) as tab:
        await tab.barrier()
