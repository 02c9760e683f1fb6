"""Which model answers: the configured OpenAI-compatible provider(s), or the offline demo model.

One `ModelRouter` per process holds one `ChatClient` per provider (connection pooling); the demo
model is offered only when no provider is configured, so a real deployment never shows it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Protocol

from chatapp.config import Settings, get_settings
from chatapp.demo_model import DEMO_MODEL_ID, DemoModel
from chatapp.llm.types import StreamDone, TextDelta

DEFAULT_REAL_MODELS = ("gpt-4o-mini",)


class ChatModel(Protocol):
    """What the chat use cases need from a model: a stream of text deltas then one StreamDone."""

    def stream_chat(
        self, messages: list[dict[str, str]], model: str, **params: Any
    ) -> AsyncIterator[TextDelta | StreamDone]: ...


class ModelRouter:
    """Maps a model id to the client that serves it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._demo = DemoModel()
        self._client: Any = None

    @property
    def demo(self) -> bool:
        """True when only the offline demo model is available."""
        return self.settings.demo_mode

    def model_ids(self) -> list[str]:
        """The models a user may pick, the default first."""
        if self.demo:
            return [DEMO_MODEL_ID]
        return list(self.settings.models or DEFAULT_REAL_MODELS)

    def default_model(self) -> str:
        """The model new conversations start with."""
        return self.model_ids()[0]

    def resolve(self, model: str | None) -> str:
        """`model` if it is offered, else the default (a stale or forged id never reaches a provider)."""
        return model if model in self.model_ids() else self.default_model()

    def client_for(self, model: str) -> ChatModel:
        """The client that serves `model`."""
        if self.demo or model == DEMO_MODEL_ID:
            return self._demo
        if self._client is None:
            from chatapp.llm import ChatClient

            wait = self.settings.llm_timeout_s
            self._client = ChatClient(
                self.settings.openai_base_url,
                self.settings.openai_api_key or None,
                timeout=wait,
                first_byte_timeout=wait,
                idle_timeout=wait,
            )
        return self._client


_router: ModelRouter | None = None


def get_router() -> ModelRouter:
    """The process-wide model router."""
    global _router
    if _router is None or _router.settings is not get_settings():
        _router = ModelRouter(get_settings())
    return _router
