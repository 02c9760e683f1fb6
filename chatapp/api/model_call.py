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
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from chatapp import preferences
from chatapp.auth import api_keys, sessions
from chatapp.chat.providers import ChatModel, get_router
from chatapp.core.config import Settings
from chatapp.core.crypto import box_for
from chatapp.core.db import session_scope
from chatapp.llm.types import RefusalDelta, StreamDone, TextDelta, Usage


@dataclass(frozen=True)
class Piece:
    """A piece of the answer: its text, and whether it is reasoning rather than the answer."""

    text: str
    reasoning: bool = False


@dataclass(frozen=True)
class Caller:
    """Who calls, read in one trip to the database: the user, the API key they called with (None
    for a session), and their own provider key and base URL from the settings page, if saved."""

    user_id: int
    key_id: int | None = None
    own_api_key: str | None = field(default=None, repr=False)
    own_base_url: str | None = None


def _with_credentials(
    settings: Settings, session: Session, user_id: int, key_id: int | None
) -> Caller:
    api_key, base_url = preferences.user_credentials(
        session, user_id=user_id, box=box_for(settings)
    )
    return Caller(user_id, key_id, api_key, base_url)


def _key_caller(settings: Settings, secret: str) -> Caller | None:
    with session_scope() as session:
        owner = api_keys.authenticate(session, secret=secret)
        if owner is None:
            return None
        return _with_credentials(settings, session, owner.user_id, owner.key_id)


def _session_caller(settings: Settings, token: str) -> Caller:
    with session_scope() as session:
        user_id = sessions.verify_session(session, settings=settings, token=token).user_id
        return _with_credentials(settings, session, user_id, None)


async def caller_by_key(settings: Settings, secret: str) -> Caller | None:
    """The owner of a live `ck-…` key, or None (one trip to a worker thread: each one waits in
    the pool's queue when the process is busy)."""
    return await asyncio.to_thread(_key_caller, settings, secret)


async def caller_by_session(settings: Settings, token: str) -> Caller:
    """The user of a session token.

    Raises:
        AuthError: the token or its session is not valid.
    """
    return await asyncio.to_thread(_session_caller, settings, token)


async def offered_models(caller: Caller) -> list[str]:
    """The models this user may call, the default first (the chat page's list)."""
    router = get_router()
    await router.refresh_models()
    return router.model_ids(own_key=bool(caller.own_api_key))


async def client_for(caller: Caller, model: str) -> ChatModel | None:
    """The client that answers `model` for this user; None when the model is not theirs."""
    if model not in await offered_models(caller):
        return None
    return get_router().client_for(model, api_key=caller.own_api_key, base_url=caller.own_base_url)


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
            if isinstance(event, TextDelta | RefusalDelta):  # a refusal reads as the answer
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
