"""敏感词: the operator's word list, matched in one pass with Aho-Corasick (pyahocorasick).

Text and words are compared after normalising width and case (NFKC, then casefold), so ＡＢＣ,
abc and ABC are one word. Two uses:

- a user's message that holds a word is refused (`find`), before any model call;
- the model's output is masked (`mask`; `StreamMasker` for streamed text, which holds back the
  last `longest word − 1` characters of each batch, so a word split across two batches is still
  caught before any of it reaches the browser).

Each worker keeps the compiled list and looks at the stored `version` at most every
`RELOAD_CHECK_S`, so a save in the admin page reaches every worker within that time.
"""

from __future__ import annotations

import threading
import time
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import ahocorasick
from sqlmodel import Session, select

from chatapp.errors import InvalidInput
from chatapp.models import SensitiveWords, utcnow

RELOAD_CHECK_S = 5.0
MAX_WORDS = 100_000
MAX_WORD_CHARS = 64
# Full width: a plain "*" would turn two masked words into Markdown emphasis.
MASK = "＊"


def _fold(char: str) -> str:
    return unicodedata.normalize("NFKC", char).casefold()


def _normalised(text: str) -> tuple[str, list[int]]:
    """`text` folded character by character, and for each folded character the index of the
    character of `text` it came from (so a hit maps back to what to mask)."""
    if unicodedata.is_normalized("NFKC", text) and text.casefold() == text:
        # Most messages fold to themselves (Chinese text, lower case): checked in C, since the
        # loop below costs about a microsecond per character and a send matches every message.
        # Exact: NFKC-stable text is NFKC-stable per character, and casefold is per character.
        return text, list(range(len(text)))
    out: list[str] = []
    origin: list[int] = []
    for i, char in enumerate(text):
        folded = char if char.isascii() and not char.isupper() else _fold(char)
        out.append(folded)
        origin.extend([i] * len(folded))
    return "".join(out), origin


class WordList:
    """A compiled list of words."""

    def __init__(self, words: Iterable[str]) -> None:
        folded = {_normalised(w.strip())[0] for w in words if w.strip()}
        self.size = len(folded)
        self.longest = max((len(w) for w in folded), default=0)
        self._automaton: ahocorasick.Automaton | None = None
        if folded:
            automaton = ahocorasick.Automaton()
            for word in folded:
                automaton.add_word(word, len(word))
            automaton.make_automaton()
            self._automaton = automaton

    def _hits(self, text: str) -> tuple[list[tuple[int, int]], str]:
        """(start, end) spans in folded text, and the folded text."""
        if self._automaton is None or not text:
            return [], text
        folded, _ = _normalised(text)
        return [(end - length + 1, end + 1) for end, length in self._automaton.iter(folded)], folded

    def find(self, text: str) -> list[str]:
        """The distinct words of the list in `text` (folded), in order of first appearance."""
        spans, folded = self._hits(text)
        return list(dict.fromkeys(folded[a:b] for a, b in spans))

    def mask(self, text: str) -> str:
        """`text` with every character of every hit replaced by `MASK`."""
        if self._automaton is None or not text:
            return text
        folded, origin = _normalised(text)
        masked = bytearray(len(text))
        for end, length in self._automaton.iter(folded):
            for i in range(origin[end - length + 1], origin[end] + 1):
                masked[i] = 1
        if not any(masked):
            return text
        return "".join(MASK if flag else c for c, flag in zip(text, masked, strict=True))


EMPTY = WordList(())


class StreamMasker:
    """Masks a stream of text deltas; what `feed` returns is safe to show."""

    def __init__(self, words: WordList) -> None:
        self._words = words
        self._hold = max(0, words.longest - 1)
        self._pending = ""

    def feed(self, delta: str) -> str:
        """The part of the text so far that can be shown now (masked)."""
        if self._words.size == 0:
            return delta
        # The held tail is kept masked: a hit that began in text already shown stays masked.
        text = self._words.mask(self._pending + delta)
        if self._hold == 0:
            self._pending = ""
            return text
        cut = max(0, len(text) - self._hold)
        self._pending = text[cut:]
        return text[:cut]

    def flush(self) -> str:
        """What is still held, at the end of the stream."""
        rest, self._pending = self._pending, ""
        return self._words.mask(rest)


@dataclass(frozen=True)
class Policy:
    """The list in force and what it does."""

    words: WordList
    refuse_input: bool
    mask_output: bool
    version: int


_lock = threading.Lock()
_policy = Policy(EMPTY, refuse_input=False, mask_output=False, version=-1)
_checked_at = -1e9


def policy(session: Session) -> Policy:
    """The current policy, recompiled when the stored version changed."""
    global _policy, _checked_at
    now = time.monotonic()
    if now - _checked_at < RELOAD_CHECK_S:
        return _policy
    version = session.exec(select(SensitiveWords.version).where(SensitiveWords.id == 1)).first()
    with _lock:
        _checked_at = now
        if version is None:
            _policy = Policy(EMPTY, refuse_input=False, mask_output=False, version=0)
        elif version != _policy.version:
            row = session.get(SensitiveWords, 1)
            assert row is not None
            _policy = Policy(
                WordList(row.words.splitlines()),
                refuse_input=row.refuse_input,
                mask_output=row.mask_output,
                version=row.version,
            )
        return _policy


def forget_cached_policy() -> None:
    """Makes the next `policy` call read the database (after a save in this process)."""
    global _checked_at
    _checked_at = -1e9


def parse_words(text: str) -> list[str]:
    """One word per line (a .txt upload or the admin's text box); blanks and duplicates dropped.

    Raises:
        InvalidInput: "words_too_many" (with the limit), "word_too_long" (with the line number).
    """
    words: list[str] = []
    seen: set[str] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        word = line.strip()
        if not word:
            continue
        if len(word) > MAX_WORD_CHARS:
            raise InvalidInput("word_too_long", str(number))
        key = _normalised(word)[0]
        if key not in seen:
            seen.add(key)
            words.append(word)
    if len(words) > MAX_WORDS:
        raise InvalidInput("words_too_many", str(MAX_WORDS))
    return words


def save_words(
    session: Session,
    *,
    words: list[str],
    refuse_input: bool,
    mask_output: bool,
    actor_id: int | None,
) -> int:
    """Stores the list and its modes; returns the new version (every worker reloads it)."""
    row = session.get(SensitiveWords, 1, with_for_update=True) or SensitiveWords(id=1)
    row.words = "\n".join(words)
    row.refuse_input = refuse_input
    row.mask_output = mask_output
    row.version += 1
    row.updated_at = utcnow()
    row.updated_by = actor_id
    session.add(row)
    session.flush()
    forget_cached_policy()
    return row.version
