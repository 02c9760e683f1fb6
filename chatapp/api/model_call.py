"""One model call for the open API and the original project's endpoint: which models a user may
call, the client that answers one, the answer's events, and the usage ledger.

A user's models and client are the chat page's (`chatapp.chat.providers`): the deployment's
providers, or the user's own key from the settings page when they saved one. Nothing is stored
as a conversation; what a call used is added to its key's counters (`auth.api_keys.record_use`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from chatapp import preferences
from chatapp.auth import api_keys
from chatapp.chat.providers import ChatModel, get_router
from chatapp.core.config import Settings
from chatapp.core.crypto import box_for
from chatapp.core.db import session_scope
from chatapp.llm.types import StreamDone, TextDelta, Usage


@dataclass(frozen=True)
class Piece:
    """A piece of the answer: its text, and whether it is reasoning rather than the answer."""

    text: str
    reasoning: bool = False


def _credentials(settings: Settings, user_id: int) -> tuple[str | None, str | None]:
    with session_scope() as session:
        return preferences.user_credentials(session, user_id=user_id, box=box_for(settings))


async def offered_models(settings: Settings, *, user_id: int) -> list[str]:
    """The models this user may call, the default first (the chat page's list)."""
    api_key, _ = await asyncio.to_thread(_credentials, settings, user_id)
    router = get_router()
    await router.refresh_models()
    return router.model_ids(own_key=bool(api_key))


async def client_for(settings: Settings, *, user_id: int, model: str) -> ChatModel | None:
    """The client that answers `model` for this user; None when the model is not theirs."""
    api_key, base_url = await asyncio.to_thread(_credentials, settings, user_id)
    router = get_router()
    await router.refresh_models()
    if model not in router.model_ids(own_key=bool(api_key)):
        return None
    return router.client_for(model, api_key=api_key, base_url=base_url)


class Answer:
    """Streams one answer and remembers what it needs for the reply's last chunk and the ledger."""

    def __init__(
        self, client: ChatModel, messages: list[dict[str, str]], model: str, params: dict[str, Any]
    ) -> None:
        self._events = client.stream_chat(messages, model, **params)
        self.prompt_chars = sum(len(m["content"]) for m in messages)
        self.completion_chars = 0
        self.finish_reason: str | None = None
        self.usage: Usage | None = None

    async def pieces(self) -> AsyncIterator[Piece]:
        """The answer's pieces in order; `finish_reason` and `usage` are set once it ends.

        Raises:
            LLMError, BlockedURL: the upstream call failed (see `openai_frames.upstream_error`).
        """
        async for event in self._events:
            if isinstance(event, TextDelta):
                if event.text:
                    self.completion_chars += len(event.text)
                    yield Piece(event.text)
            elif isinstance(event, StreamDone):
                self.finish_reason = event.finish_reason
                self.usage = event.usage
            else:
                # The client's reasoning events (models that think aloud): any other event with
                # text is reasoning, passed on as `reasoning_content`.
                text = getattr(event, "text", None)
                if isinstance(text, str) and text:
                    yield Piece(text, reasoning=True)

    async def aclose(self) -> None:
        """Stops the upstream request now (the caller went away), not when collected."""
        aclose = getattr(self._events, "aclose", None)
        if aclose is not None:
            with contextlib.suppress(Exception):
                await aclose()


def _record(key_id: int, prompt_tokens: int, completion_tokens: int, answered: bool) -> None:
    with session_scope() as session:
        api_keys.record_use(
            session,
            key_id=key_id,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            answered=answered,
        )


async def record_usage(
    key_id: int | None, usage: dict[str, int] | None, *, answered: bool = True
) -> None:
    """Notes the key's use and, for a model call (`answered`), adds it and its tokens to the
    key's counters; survives the caller going away."""
    if key_id is None:
        return
    usage = usage or {}
    work = asyncio.to_thread(
        _record,
        key_id,
        usage.get("prompt_tokens", 0),
        usage.get("completion_tokens", 0),
        answered,
    )
    await asyncio.shield(asyncio.ensure_future(work))
