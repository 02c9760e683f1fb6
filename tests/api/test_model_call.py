"""`model_call.Answer` over a hand-written model: text and reasoning pieces in order, the finish
reason and usage kept for the reply's last chunk, and closing stops the model's stream."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from chatapp.api.model_call import Answer, Piece
from chatapp.llm.types import StreamDone, TextDelta, Usage


@dataclass(frozen=True)
class ReasoningDelta:
    """The shape of the client's reasoning events: any event with text that is not the answer."""

    text: str


class RecordingModel:
    """Streams the given events and records what it was asked and whether it was closed."""

    def __init__(self, events: list[Any]) -> None:
        self.events = events
        self.asked: list[tuple[list[dict[str, str]], str, dict[str, Any]]] = []
        self.closed = False

    async def stream_chat(
        self, messages: list[dict[str, str]], model: str, **params: Any
    ) -> AsyncIterator[Any]:
        self.asked.append((messages, model, params))
        try:
            for event in self.events:
                yield event
                await asyncio.sleep(0)
        finally:
            self.closed = True


def test_pieces_finish_and_usage():
    model = RecordingModel(
        [
            ReasoningDelta("think"),
            TextDelta("Hel"),
            TextDelta("lo"),
            StreamDone("length", Usage(3, 2, 5)),
        ]
    )
    answer = Answer(model, [{"role": "user", "content": "hi"}], "m", {"temperature": 0.5})

    async def collect() -> list[Piece]:
        return [p async for p in answer.pieces()]

    assert asyncio.run(collect()) == [
        Piece("think", reasoning=True),
        Piece("Hel"),
        Piece("lo"),
    ]
    assert answer.finish_reason == "length" and answer.usage == Usage(3, 2, 5)
    assert answer.completion_chars == 5 and answer.prompt_chars == 2
    assert model.asked == [([{"role": "user", "content": "hi"}], "m", {"temperature": 0.5})]


def test_closing_mid_answer_stops_the_model():
    model = RecordingModel([TextDelta(str(i)) for i in range(100)])
    answer = Answer(model, [{"role": "user", "content": "hi"}], "m", {})

    async def first_then_close() -> Piece:
        pieces = answer.pieces()
        first = await anext(pieces)
        await pieces.aclose()
        await answer.aclose()
        return first

    assert asyncio.run(first_then_close()) == Piece("0")
    assert model.closed
