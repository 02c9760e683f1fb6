"""A user's own API key reaches the model request; nobody else's request carries it."""

from __future__ import annotations

from chatapp.chat.demo_model import DemoModel
from chatapp.chat.providers import ModelRouter, Provider, UserKeyedModel
from chatapp.core.config import Settings
from chatapp.llm.types import StreamDone, TextDelta


class RecordingModel:
    """Records the arguments of every request."""

    def __init__(self) -> None:
        self.calls: list[dict] = []

    async def stream_chat(self, messages, model, **params):
        self.calls.append({"model": model, **params})
        yield TextDelta("ok")
        yield StreamDone("stop", None)


async def _drain(client, **params) -> None:
    async for _ in client.stream_chat([{"role": "user", "content": "hi"}], "m", **params):
        pass


async def test_user_key_and_base_url_are_sent_per_request():
    inner = RecordingModel()
    keyed = UserKeyedModel(
        inner,
        api_key="sk-user-1234",
        base_url="https://u.example/v1",
        resolver=lambda host, port: ["93.184.215.14"],  # no DNS in tests
    )
    await _drain(keyed, temperature=0.5)
    await _drain(inner)
    assert inner.calls[0] == {
        "model": "m",
        "temperature": 0.5,
        "api_key": "sk-user-1234",
        "base_url": "https://u.example/v1",
    }
    assert "api_key" not in inner.calls[1]
    assert "sk-user" not in repr(keyed)


def test_router_wraps_only_when_the_user_has_a_key():
    router = ModelRouter(Settings(), providers=[Provider("p", "http://x", "server", ("m",))])
    shared = RecordingModel()
    router._clients["p"] = shared  # the pooled client the router would build
    assert router.client_for("m") is shared
    keyed = router.client_for("m", api_key="sk-user-1234")
    assert isinstance(keyed, UserKeyedModel)
    demo = ModelRouter(Settings(), providers=[])
    assert isinstance(demo.client_for("demo"), DemoModel)


async def test_on_a_deployment_without_a_provider_the_users_own_key_answers():
    """Issue 21 item 3: a saved key is not ignored when the server has none."""
    router = ModelRouter(Settings(), providers=[], resolver=lambda host, port: ["93.184.215.14"])
    pinned = RecordingModel()
    router._user_url_client = pinned  # the pinned client for users' base URLs
    assert router.is_demo() and not router.is_demo(own_key=True)
    assert router.model_ids(own_key=True) == ["gpt-4o-mini"]
    assert router.resolve("demo", own_key=True) == "gpt-4o-mini"
    keyed = router.client_for("demo", api_key="sk-user-1234")
    assert isinstance(keyed, UserKeyedModel)
    await _drain(keyed)  # the user saved no base URL: the OpenAI-compatible default
    assert pinned.calls[-1] == {
        "model": "gpt-4o-mini",
        "api_key": "sk-user-1234",
        "base_url": Settings().openai_base_url,
    }
    typed = router.client_for("demo", api_key="sk-user-1234", base_url="https://u.example/v1")
    await _drain(typed)
    assert pinned.calls[-1]["base_url"] == "https://u.example/v1"
