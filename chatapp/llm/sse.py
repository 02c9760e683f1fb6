"""Incremental Server-Sent Events decoder, written from the WHATWG spec; pure (no I/O).

Feed it bytes as they arrive, get complete events back:

    decoder = SSEDecoder()
    for chunk in chunks:
        for event in decoder.feed(chunk):
            ...

Why it is written this way:
- Lines end on CR, LF or CRLF only. A CR that ends one chunk and an LF that starts the next are
  one line end, so the decoder remembers a trailing CR instead of looking ahead.
- Bytes are decoded as UTF-8 only once a line is complete, so a multi-byte character split
  across chunks survives.
- `str.splitlines()` is never used: it also splits on U+2028, U+2029, U+0085, \\v and \\f, which
  are legal inside JSON strings and must stay data.
- An event is dispatched on a blank line; an unfinished event at the end of the stream is
  discarded (spec), which is how a truncated stream is recognised upstream.

`[DONE]` is not special here: it is an OpenAI convention, handled by the client.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# The regex alternation prefers CRLF, so a complete CRLF is one line end.
_LINE_END = re.compile(rb"\r\n|\r|\n")
_BOM = "\ufeff"


@dataclass(frozen=True)
class ServerSentEvent:
    """One dispatched event.

    Attributes:
        event: The event type ("message" unless an `event:` field said otherwise).
        data: The `data:` lines joined with "\\n".
        id: The last event id seen so far on this stream ("" when none).
        retry: The reconnection time in ms from the last valid `retry:` field, if any.
    """

    event: str = "message"
    data: str = ""
    id: str = ""
    retry: int | None = None


class SSEDecoder:
    """Turns a byte stream into `ServerSentEvent`s, one `feed()` call at a time."""

    def __init__(self) -> None:
        self._buffer = b""  # the start of a line whose end has not arrived
        self._skip_lf = False  # the previous chunk ended with CR: an LF next is part of it
        self._first_line = True
        self._data: list[str] = []
        self._event = ""
        self._last_id = ""
        self._retry: int | None = None

    @property
    def has_pending(self) -> bool:
        """Whether bytes or fields of an unfinished event are waiting (for truncation checks)."""
        return bool(self._buffer or self._data)

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Consume a chunk of bytes.

        Args:
            chunk: The next bytes of the stream, split anywhere.

        Returns:
            The events completed by this chunk, in order (often none).
        """
        if not chunk:
            return []
        if self._skip_lf:
            self._skip_lf = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
        data = self._buffer + chunk if self._buffer else bytes(chunk)
        # Split in C: `bytes.split` when there is no CR (what providers send), the regex
        # otherwise. The last piece is the unfinished line (empty when the data ends a line).
        lines = _LINE_END.split(data) if b"\r" in data else data.split(b"\n")
        self._buffer = lines.pop()
        if not self._buffer and data.endswith(b"\r"):
            self._skip_lf = True
        events: list[ServerSentEvent] = []
        for raw in lines:
            event = self._line(raw)
            if event is not None:
                events.append(event)
        return events

    def _line(self, raw: bytes) -> ServerSentEvent | None:
        line = raw.decode("utf-8", errors="replace")
        if self._first_line:
            self._first_line = False
            if line.startswith(_BOM):
                line = line[1:]
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None  # a comment, e.g. a keep-alive
        field, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if field == "data":
            self._data.append(value)
        elif field == "event":
            self._event = value
        elif field == "id":
            if "\0" not in value:
                self._last_id = value
        elif field == "retry" and value.isascii() and value.isdigit():
            self._retry = int(value)
        # Any other field name is ignored, as the spec says.
        return None

    def _dispatch(self) -> ServerSentEvent | None:
        data, event = self._data, self._event
        self._data, self._event = [], ""
        if not data:
            return None
        return ServerSentEvent(
            event=event or "message", data="\n".join(data), id=self._last_id, retry=self._retry
        )
