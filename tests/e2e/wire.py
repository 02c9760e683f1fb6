"""A man in the middle of a page's websocket: the events the page sends are rewritten on the wire
before the server reads them, so that a user's own ids become another user's (the attack a
hand-edited client makes, driven by the real UI)."""

from __future__ import annotations

import json
import re
from typing import Any

from playwright.sync_api import Page, WebSocketRoute

EVENTS_SOCKET = re.compile(r".*/_event.*")


def swap_ids(value: Any, table: dict[Any, Any]) -> Any:
    """`value` with every id found in `table` replaced, at any depth (ids sent as digit strings
    included)."""
    if isinstance(value, dict):
        return {k: swap_ids(v, table) for k, v in value.items()}
    if isinstance(value, list):
        return [swap_ids(v, table) for v in value]
    if isinstance(value, (str, int)) and not isinstance(value, bool) and value in table:
        return table[value]
    if isinstance(value, str) and value.isdigit() and int(value) in table:
        return str(table[int(value)])
    return value


def rewrite_events(
    page: Page, table: dict[Any, Any], *, keep: tuple[str, ...] = (), log: list[str]
) -> None:
    """Rewrites, from now on, every event `page` sends on its websocket with `swap_ids`.

    Args:
        page: The attacker's page (every socket it opens, reloads included).
        table: Own id -> the victim's id.
        keep: Events whose text holds one of these names pass untouched (steps that only change
            the attacker's own screen, so the UI can go on to the data-changing event).
        log: Receives each rewritten event (shortened), to prove the attack took place.
    """

    def route(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()

        def to_server(message: str | bytes) -> None:
            if isinstance(message, str) and message.startswith("42/_event,"):
                prefix, body = message.split(",", 1)
                data = json.loads(body)
                text = json.dumps(data)
                if not any(name in text for name in keep):
                    swapped = swap_ids(data, table)
                    if swapped != data:
                        log.append(json.dumps(swapped)[:200])
                    message = prefix + "," + json.dumps(swapped)
            server.send(message)

        ws.on_message(to_server)

    page.route_web_socket(EVENTS_SOCKET, route)
