"""The SSE decoder against the spec: every split point, every line ending, odd fields."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chatapp.llm.sse import ServerSentEvent, SSEDecoder


def decode(*chunks: bytes) -> list[ServerSentEvent]:
    decoder = SSEDecoder()
    events: list[ServerSentEvent] = []
    for chunk in chunks:
        events.extend(decoder.feed(chunk))
    return events


def realistic_body(eol: str) -> bytes:
    chunks = [
        {"choices": [{"index": 0, "delta": {"role": "assistant"}}]},
        {"choices": [{"index": 0, "delta": {"content": "你好, 世界 😀"}}]},
        {"choices": [{"index": 0, "delta": {"content": "a\u2028b\u2029c\x85d"}}]},
        {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
    ]
    lines = [": keep-alive", ""]
    for c in chunks:
        lines += [f"data: {json.dumps(c, ensure_ascii=False)}", ""]
    lines += ["data: [DONE]", ""]
    return eol.join(lines).encode() + eol.encode()


EXPECTED = [json.loads(e.data) for e in decode(realistic_body("\n")) if e.data != "[DONE]"]


@pytest.mark.parametrize("eol", ["\n", "\r", "\r\n"])
def test_every_split_point_and_line_ending(eol: str) -> None:
    body = realistic_body(eol)
    whole = decode(body)
    assert [e.data for e in whole][-1] == "[DONE]"
    assert [json.loads(e.data) for e in whole[:-1]] == EXPECTED
    for i in range(len(body) + 1):
        assert decode(body[:i], body[i:]) == whole, f"split at {i}"


@pytest.mark.parametrize("eol", ["\n", "\r", "\r\n"])
def test_byte_by_byte(eol: str) -> None:
    body = realistic_body(eol)
    assert decode(*(body[i : i + 1] for i in range(len(body)))) == decode(body)


def test_unicode_line_separators_are_data() -> None:
    (event,) = decode('data: {"t": "x\u2028y\u2029z\x85w"}\n\n'.encode())
    assert json.loads(event.data)["t"] == "x\u2028y\u2029z\x85w"


def test_cr_at_chunk_end_then_lf_is_one_line_end() -> None:
    # "data: a\r" + "\n\n": the CR and LF are one line end, then a blank line dispatches once.
    assert decode(b"data: a\r", b"\n\r\n") == [ServerSentEvent(data="a")]
    # A lone CR at the end of a chunk followed by a CR is two line ends (dispatch).
    assert decode(b"data: a\r", b"\r") == [ServerSentEvent(data="a")]


def test_multibyte_character_split_across_chunks() -> None:
    body = "data: 😀中\n\n".encode()
    for i in range(len(body)):
        assert decode(body[:i], body[i:]) == [ServerSentEvent(data="😀中")]


def test_multiline_data_joined_and_one_space_stripped() -> None:
    events = decode(b"data:first\ndata:  second\ndata\ndata: \n\n")
    assert events == [ServerSentEvent(data="first\n second\n\n")]


def test_event_id_retry_and_unknown_fields() -> None:
    body = (
        b"event: error\nid: 7\nretry: 1500\nfoo: bar\ndata: x\n\n"
        b"data: y\n\n"
        b"id: bad\0id\nretry: 12a\ndata: z\n\n"
    )
    assert decode(body) == [
        ServerSentEvent(event="error", data="x", id="7", retry=1500),
        ServerSentEvent(event="message", data="y", id="7", retry=1500),
        ServerSentEvent(event="message", data="z", id="7", retry=1500),
    ]


def test_comments_and_empty_events_dispatch_nothing() -> None:
    assert decode(b": ping\n\n\n\nevent: x\n\n") == []
    # The event type does not leak into the next event.
    assert decode(b"event: x\n\ndata: a\n\n") == [ServerSentEvent(data="a")]


def test_bom_stripped_once_and_incomplete_event_is_pending() -> None:
    decoder = SSEDecoder()
    assert decoder.feed("\ufeffdata: a\n\n".encode()) == [ServerSentEvent(data="a")]
    assert not decoder.has_pending
    assert decoder.feed(b"data: partial") == []
    assert decoder.has_pending
    assert decoder.feed(b"") == []


_DATA = st.text(st.characters(blacklist_characters="\r\n\0", blacklist_categories=("Cs",)))


@settings(max_examples=200, deadline=None)
@given(
    events=st.lists(st.lists(_DATA, min_size=1, max_size=3), min_size=1, max_size=5),
    eol=st.sampled_from(["\n", "\r", "\r\n"]),
    cuts=st.lists(st.integers(min_value=0), max_size=8),
)
def test_any_events_any_chunking(events: list[list[str]], eol: str, cuts: list[int]) -> None:
    body = "".join(
        "".join(f"data: {line}{eol}" for line in lines) + eol for lines in events
    ).encode()
    points = sorted({c % (len(body) + 1) for c in cuts})
    pieces = [body[a:b] for a, b in zip([0, *points], [*points, len(body)], strict=True)]
    assert [e.data for e in decode(*pieces)] == ["\n".join(lines) for lines in events]
