"""Splits `<think>…</think>` reasoning out of answer text, incrementally; pure (no I/O).

Local R1-style models (DeepSeek-R1 distills on llama.cpp, Ollama, QwQ) put their reasoning inside
`content`, wrapped in `<think>` tags, instead of sending `reasoning_content`. Feed the content as
it streams, get back reasoning and answer pieces:

    splitter = ThinkSplitter()
    for piece in chunks:
        reasoning, text = splitter.feed(piece)
    reasoning, text = splitter.finish()

Why it is written this way:
- Only a `<think>` that opens the content (after whitespace) starts reasoning: an answer that
  talks *about* the tag later must stay as it is.
- A tag may be split across chunks ("<thi" + "nk>"): the few characters that could still become
  a tag are held back until the next chunk says which they are, never more than a tag's length.
- Reasoning that is never closed (a reply cut by the length limit while thinking) is reasoning,
  handed out by `finish()`.
- The blank lines models put after `</think>` are not part of the answer.
"""

from __future__ import annotations

OPEN = "<think>"
CLOSE = "</think>"

_START, _THINK, _AFTER, _ANSWER = range(4)


def _held_back(text: str, tag: str) -> int:
    """How many characters at the end of `text` could be the start of `tag`."""
    for size in range(min(len(tag) - 1, len(text)), 0, -1):
        if text.endswith(tag[:size]):
            return size
    return 0


class ThinkSplitter:
    """Separates a leading `<think>` block from the answer, chunk by chunk."""

    __slots__ = ("_buffer", "_state")

    def __init__(self) -> None:
        self._state = _START
        self._buffer = ""

    @property
    def thinking(self) -> bool:
        """True while inside an open `<think>` block."""
        return self._state == _THINK

    def feed(self, piece: str) -> tuple[str, str]:
        """Reads the next piece of content; returns (reasoning, answer text) it completes."""
        if self._state == _ANSWER:
            return "", piece  # the common case once the answer flows: no copying
        buffer = self._buffer + piece
        self._buffer = ""
        reasoning = ""
        if self._state == _START:
            stripped = buffer.lstrip()
            if stripped.startswith(OPEN):
                self._state = _THINK
                buffer = stripped[len(OPEN) :]
            elif OPEN.startswith(stripped):
                self._buffer = buffer  # "", " ", "<th": not yet known
                return "", ""
            else:
                self._state = _ANSWER
                return "", buffer
        if self._state == _THINK:
            end = buffer.find(CLOSE)
            if end < 0:
                keep = _held_back(buffer, CLOSE)
                self._buffer = buffer[len(buffer) - keep :] if keep else ""
                return buffer[: len(buffer) - keep], ""
            reasoning = buffer[:end]
            buffer = buffer[end + len(CLOSE) :]
            self._state = _AFTER
        # _AFTER: drop the whitespace between `</think>` and the answer.
        text = buffer.lstrip()
        if text:
            self._state = _ANSWER
        return reasoning, text

    def finish(self) -> tuple[str, str]:
        """The end of the content: whatever was held back, as (reasoning, answer text)."""
        buffer, self._buffer = self._buffer, ""
        if self._state == _THINK:
            return buffer, ""
        if self._state == _START:
            return "", buffer.strip() and buffer
        return "", ""


def split_think(content: str) -> tuple[str, str]:
    """A whole content split into (reasoning, answer text)."""
    splitter = ThinkSplitter()
    reasoning, text = splitter.feed(content)
    more_reasoning, more_text = splitter.finish()
    return reasoning + more_reasoning, text + more_text
