"""Which model answers: the configured OpenAI-compatible provider(s), or the offline demo model.

One `ModelRouter` per process holds one `ChatClient` per provider (connection pooling), and one
more for users' own base URLs, whose connections go only to addresses `url_guard` checked
(`pinned_http.PinnedTransport`); the demo model is offered only when no provider is configured, so
a real deployment never shows it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, cast

import httpx

from chatapp.chat import pace
from chatapp.chat.demo_model import DEMO_MODEL_ID, DemoModel
from chatapp.core import url_guard
from chatapp.core.config import Settings, get_settings
from chatapp.core.pinned_http import PinnedTransport
from chatapp.errors import BlockedURL, ConfigError
from chatapp.llm.types import StreamEvent

DEFAULT_REAL_MODELS = ("gpt-4o-mini",)
# Discovered model lists are cached this long (providers add models rarely).
MODEL_CACHE_S = 600.0
MODEL_LIST_TIMEOUT_S = 5.0
# What a provider lists besides chat models: embeddings, images, audio, moderation.
_NOT_CHAT = re.compile(r"embed|whisper|tts|dall-e|image|moderation|audio|rerank", re.I)
log = logging.getLogger(__name__)


class ChatModel(Protocol):
    """What the chat use cases need from a model: a stream of deltas (reasoning, refusal, text)
    then one StreamDone."""

    def stream_chat(
        self, messages: list[dict[str, str]], model: str, **params: Any
    ) -> AsyncIterator[StreamEvent]: ...


@dataclass(frozen=True)
class Provider:
    """One OpenAI-compatible endpoint and the models it serves."""

    name: str
    base_url: str
    api_key: str | None
    models: tuple[str, ...]
    # Ask the provider (`GET /models`) which models it serves; `models` is the fallback.
    discover: bool = False
    # Models that draw pictures (`/images/generations`) instead of chatting (chat/images.py).
    image_models: tuple[str, ...] = ()


def load_providers(settings: Settings, environ: Mapping[str, str] | None = None) -> list[Provider]:
    """The configured providers: the providers file's (if any), then the OPENAI_* one (if a key).

    The providers file is JSON: `{"providers": [{"name": "deepseek", "base_url": "...",
    "api_key_env": "DEEPSEEK_API_KEY", "models": ["deepseek-chat"]}, ...]}` (`api_key` inline is
    accepted but keeping keys in the environment is better; local servers like Ollama need none).
    A provider's `"image_models": ["dall-e-3"]` draw pictures instead of chatting; for the OPENAI_*
    provider they come from CHATAPP_IMAGE_MODELS (comma-separated).

    Raises:
        ConfigError: the file is missing, not JSON, or a provider lacks a base_url or models.
    """
    env = os.environ if environ is None else environ
    providers: list[Provider] = []
    if settings.providers_file is not None:
        try:
            data = json.loads(Path(settings.providers_file).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(
                f"cannot read CHATAPP_PROVIDERS_FILE: {exc.__class__.__name__}"
            ) from exc
        entries = data.get("providers") if isinstance(data, dict) else None
        if not isinstance(entries, list) or not entries:
            raise ConfigError('CHATAPP_PROVIDERS_FILE needs {"providers": [...]}')
        for index, entry in enumerate(entries):
            if not isinstance(entry, dict):
                raise ConfigError(f"provider #{index + 1} must be an object")
            name = str(entry.get("name") or f"provider{index + 1}")
            base_url = entry.get("base_url")
            models = entry.get("models")
            if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
                raise ConfigError(f"provider {name}: base_url must be an http(s) URL")
            discover = models == "auto"
            if discover:
                models = list(entry.get("fallback_models") or [])
            if not isinstance(models, list) or not all(isinstance(m, str) and m for m in models):
                raise ConfigError(f'provider {name}: models must be a list of names or "auto"')
            if not models and not discover:
                raise ConfigError(f"provider {name}: models must be a non-empty list of names")
            image_models = entry.get("image_models") or []
            if not isinstance(image_models, list) or not all(
                isinstance(m, str) and m for m in image_models
            ):
                raise ConfigError(f"provider {name}: image_models must be a list of names")
            key_env = entry.get("api_key_env")
            key = env.get(key_env) if isinstance(key_env, str) else entry.get("api_key")
            providers.append(
                Provider(
                    name,
                    base_url.rstrip("/"),
                    key or None,
                    tuple(models),
                    discover,
                    tuple(image_models),
                )
            )
    if settings.openai_api_key:
        providers.append(
            Provider(
                "openai",
                settings.openai_base_url,
                settings.openai_api_key,
                tuple(settings.models or DEFAULT_REAL_MODELS),
                # Without CHATAPP_MODELS, offer what the provider lists.
                discover=not settings.models,
                image_models=tuple(
                    m.strip() for m in env.get("CHATAPP_IMAGE_MODELS", "").split(",") if m.strip()
                ),
            )
        )
    return providers


class ModelRouter:
    """Maps a model id to the client that serves it (the first provider listing it wins)."""

    def __init__(
        self,
        settings: Settings,
        providers: list[Provider] | None = None,
        *,
        resolver: url_guard.Resolver = url_guard.resolve,
    ) -> None:
        """Args:
        settings: the validated settings.
        providers: the providers; read from the settings when omitted.
        resolver: resolves the hosts of users' base URLs (tests pass their own DNS).
        """
        self.settings = settings
        self.providers = load_providers(settings) if providers is None else providers
        self._demo = DemoModel()
        self._clients: dict[str, Any] = {}
        self._resolver = resolver
        self._user_url_client: ChatModel | None = None
        self._by_model: dict[str, Provider] = {}
        self._image_models: set[str] = set()
        self._discovered: dict[str, tuple[str, ...]] = {}
        self._discovered_at = float("-inf")
        self._index()

    def _index(self) -> None:
        by_model: dict[str, Provider] = {}
        image_models: set[str] = set()
        for provider in self.providers:
            for model in self._discovered.get(provider.name) or provider.models:
                by_model.setdefault(model, provider)
        # After every chat model: the default model of a new conversation is one that chats.
        for provider in self.providers:
            for model in provider.image_models:
                if by_model.setdefault(model, provider) is provider:
                    image_models.add(model)
        self._by_model = by_model
        self._image_models = image_models

    async def refresh_models(self, *, now: float | None = None) -> None:
        """Asks providers that allow it which models they serve (`GET /models`), at most every
        MODEL_CACHE_S; a provider that fails or lists nothing keeps its configured models."""
        now = time.monotonic() if now is None else now
        if now - self._discovered_at < MODEL_CACHE_S:
            return
        self._discovered_at = now
        for provider in self.providers:
            if not provider.discover:
                continue
            client = self._provider_client(next(iter(provider.models), ""), provider)
            try:
                listed = await asyncio.wait_for(client.list_models(), MODEL_LIST_TIMEOUT_S)  # type: ignore[attr-defined]
            except Exception as exc:  # the configured list is the fallback for any failure
                log.warning("listing models of %s failed: %s", provider.name, type(exc).__name__)
                continue
            chat_models = tuple(m for m in listed if not _NOT_CHAT.search(m))
            if chat_models:
                self._discovered[provider.name] = chat_models
        self._index()

    @property
    def demo(self) -> bool:
        """True when only the offline demo model is available (to a user without their own key)."""
        return not self.providers

    def is_demo(self, *, own_key: bool = False) -> bool:
        """True when the demo model answers this user: no provider, and no key of their own."""
        return self.demo and not own_key

    def own_key_models(self) -> list[str]:
        """The models offered to a user whose own key answers on a deployment without a provider
        (CHATAPP_MODELS, else the OpenAI default)."""
        return list(self.settings.models or DEFAULT_REAL_MODELS)

    def model_ids(self, *, own_key: bool = False) -> list[str]:
        """The models a user may pick, the default first (`own_key`: the user saved a key)."""
        if self.demo:
            return self.own_key_models() if own_key else [DEMO_MODEL_ID]
        return list(self._by_model)

    def image_model_ids(self) -> list[str]:
        """The offered models that draw pictures (marked 「画图」 in the model picker)."""
        return [m for m in self._by_model if m in self._image_models]

    def is_image_model(self, model: str) -> bool:
        """True when `model` draws pictures instead of chatting (chat/images.py)."""
        return model in self._image_models

    def default_model(self, *, own_key: bool = False) -> str:
        """The model new conversations start with."""
        return self.model_ids(own_key=own_key)[0]

    def resolve(self, model: str | None, *, own_key: bool = False) -> str:
        """`model` if it is offered, else the default (a stale or forged id never reaches a provider)."""
        offered = self.model_ids(own_key=own_key)
        return model if model in offered else offered[0]

    def provider_name(self, model: str, *, own_key: bool = False) -> str:
        """Who serves `model`, for the usage ledger: a provider's name, "own_key" for a user's
        own key, "demo" for the offline demo model."""
        if own_key:
            return "own_key"
        provider = self._by_model.get(model)
        if provider is not None:
            return provider.name
        return "demo" if self.demo else ""

    def client_for(
        self, model: str, *, api_key: str | None = None, base_url: str | None = None
    ) -> ChatModel:
        """The client that serves `model`. With a user's own `api_key` (settings page,
        `preferences.user_credentials`), a wrapper that sends each request with that key, to
        the user's `base_url` if they gave one (checked by `url_guard` before each request), else
        to the provider that serves `model`. On a deployment without a provider, the user's key
        answers (at their base URL, else the OPENAI_BASE_URL default) instead of the demo model,
        with `model` if it is one of `own_key_models()`, else the first of them."""
        if api_key and self.demo:
            offered = self.own_key_models()
            return UserKeyedModel(
                self._user_url_model(),
                api_key=api_key,
                base_url=base_url or self.settings.openai_base_url,
                allow=self.settings.user_base_url_allow,
                resolver=self._resolver,
                model=model if model in offered else offered[0],
            )
        client = self._provider_client(model)
        if model in self._image_models and client is not self._demo:
            from chatapp.chat.images import ImageModel

            # A user's own key is sent to the provider; their own base URL serves chat only.
            return ImageModel(
                client,
                allow=self.settings.user_base_url_allow,
                resolver=self._resolver,
                api_key=api_key,
            )
        if api_key and client is not self._demo:
            return UserKeyedModel(
                client,
                api_key=api_key,
                base_url=base_url,
                allow=self.settings.user_base_url_allow,
                resolver=self._resolver,
                via=self._user_url_model() if base_url else None,
            )
        return client

    def _user_url_model(self) -> ChatModel:
        """The client for users' own base URLs: its own pool, pinned to checked addresses."""
        if self._user_url_client is None:
            from chatapp.llm import ChatClient
            from chatapp.llm.client import MAX_CONNECTIONS

            wait = self.settings.llm_timeout_s
            transport = PinnedTransport(
                allow=self.settings.user_base_url_allow,
                resolver=self._resolver,
                limits=httpx.Limits(max_connections=MAX_CONNECTIONS, max_keepalive_connections=100),
            )
            client = ChatClient(
                # Never used: every request through it names the user's base URL.
                "http://users-base-url.invalid",
                None,
                http=httpx.AsyncClient(transport=transport),
                timeout=wait,
                first_byte_timeout=wait,
                idle_timeout=wait,
                read_pace=pace.batch_s,
            )
            self._user_url_client = cast(ChatModel, client)
        return self._user_url_client

    def _provider_client(self, model: str, provider: Provider | None = None) -> ChatModel:
        provider = provider or self._by_model.get(model)
        if self.demo or provider is None:
            return self._demo
        client = self._clients.get(provider.name)
        if client is None:
            from chatapp.llm import ChatClient

            wait = self.settings.llm_timeout_s
            client = ChatClient(
                provider.base_url,
                provider.api_key,
                timeout=wait,
                first_byte_timeout=wait,
                idle_timeout=wait,
                # Answers reach the browser in batches (chatapp/chat/pace.py): reading the model's
                # stream at that pace costs one read per batch instead of one per chunk.
                read_pace=pace.batch_s,
            )
            self._clients[provider.name] = client
        # ChatClient's stream_chat takes typed keyword parameters; it satisfies the protocol.
        return cast(ChatModel, client)


class UserKeyedModel:
    """The shared client, but every request carries one user's own API key and base URL.

    The pool stays shared; the LLM client takes `api_key=` / `base_url=` per request. The user's
    base URL is checked again before each request (`url_guard`: what its host resolves to may
    have changed since it was saved); a blocked one fails the answer with `BlockedURL`
    (kind "blocked_base_url") and nothing is sent. Requests to the user's base URL go through
    `via` (the router's pinned client, which checks the address it connects to as well: DNS may
    change between this check and the connection); without it, through `inner`. `model`, when
    given, replaces the model each request names (the demo id on a deployment without a provider).
    """

    def __init__(
        self,
        inner: ChatModel,
        *,
        api_key: str,
        base_url: str | None,
        allow: Sequence[str] = (),
        resolver: url_guard.Resolver = url_guard.resolve,
        via: ChatModel | None = None,
        model: str | None = None,
    ) -> None:
        self._inner = inner
        self._model = model
        self._via = via or inner
        self._api_key = api_key
        self._base_url = base_url
        self._allow = tuple(allow)
        self._resolver = resolver

    def __repr__(self) -> str:  # never show the key in logs or tracebacks
        return f"UserKeyedModel(base_url={self._base_url!r})"

    def stream_chat(
        self, messages: list[dict[str, str]], model: str, **params: Any
    ) -> AsyncIterator[StreamEvent]:
        """Streams through the shared client with the user's credentials."""
        model = self._model or model
        extra: dict[str, Any] = {"api_key": self._api_key}
        if not self._base_url:
            return self._inner.stream_chat(messages, model, **params, **extra)
        extra["base_url"] = self._base_url
        return self._checked_stream(self._base_url, messages, model, {**params, **extra})

    async def _checked_stream(
        self, base_url: str, messages: list[dict[str, str]], model: str, params: dict[str, Any]
    ) -> AsyncIterator[StreamEvent]:
        # In a thread: resolving the host may wait on DNS, and this runs on the event loop.
        try:
            await asyncio.to_thread(
                url_guard.check_base_url, base_url, allow=self._allow, resolver=self._resolver
            )
        except BlockedURL as exc:
            log.warning("refused a user's base URL %r: %s", base_url, exc.detail)
            raise
        stream = self._via.stream_chat(messages, model, **params)
        try:
            async for event in stream:
                yield event
        finally:
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:  # stop the upstream request now, not when collected
                await aclose()


_router: ModelRouter | None = None


def get_router() -> ModelRouter:
    """The process-wide model router."""
    global _router
    if _router is None or _router.settings is not get_settings():
        _router = ModelRouter(get_settings())
    return _router
