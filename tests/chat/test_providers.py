"""Which model answers: demo without keys; env provider; a providers file with several providers."""

from __future__ import annotations

import json

import pytest

from chatapp.chat.demo_model import DEMO_MODEL_ID, DemoModel
from chatapp.chat.providers import ModelRouter, load_providers
from chatapp.core.config import load_settings
from chatapp.errors import ConfigError
from chatapp.llm import ChatClient


def test_no_key_means_demo_model_only(tmp_path):
    router = ModelRouter(load_settings({"CHATAPP_DATA_DIR": str(tmp_path)}))
    assert router.demo
    assert router.model_ids() == [DEMO_MODEL_ID]
    assert isinstance(router.client_for("anything"), DemoModel)
    assert router.resolve("gpt-4o") == DEMO_MODEL_ID


def test_env_provider_offers_its_models_and_refuses_forged_ones(tmp_path):
    s = load_settings(
        {"CHATAPP_DATA_DIR": str(tmp_path), "OPENAI_API_KEY": "sk-x", "CHATAPP_MODELS": "m1,m2"}
    )
    router = ModelRouter(s)
    assert not router.demo
    assert router.model_ids() == ["m1", "m2"]
    assert router.resolve("evil-model") == "m1"
    client = router.client_for("m2")
    assert isinstance(client, ChatClient) and client is router.client_for("m1")


def test_providers_file_several_providers_keys_from_env(tmp_path):
    path = tmp_path / "providers.json"
    path.write_text(
        json.dumps(
            {
                "providers": [
                    {
                        "name": "deepseek",
                        "base_url": "http://127.0.0.1:9/v1/",
                        "api_key_env": "DS_KEY",
                        "models": ["deepseek-chat"],
                    },
                    {
                        "name": "ollama",
                        "base_url": "http://127.0.0.1:11434/v1",
                        "models": ["qwen2.5", "deepseek-chat"],
                    },
                ]
            }
        )
    )
    s = load_settings({"CHATAPP_DATA_DIR": str(tmp_path), "CHATAPP_PROVIDERS_FILE": str(path)})
    providers = load_providers(s, {"DS_KEY": "sk-ds"})
    assert [(p.name, p.base_url, p.api_key) for p in providers] == [
        ("deepseek", "http://127.0.0.1:9/v1", "sk-ds"),
        ("ollama", "http://127.0.0.1:11434/v1", None),
    ]
    router = ModelRouter(s, providers)
    assert router.model_ids() == ["deepseek-chat", "qwen2.5"]  # first provider listing a model wins
    assert router.client_for("deepseek-chat") is not router.client_for("qwen2.5")


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        "[]",
        '{"providers": []}',
        '{"providers": [{"base_url": "ftp://x", "models": ["a"]}]}',
        '{"providers": [{"base_url": "http://x", "models": []}]}',
        '{"providers": ["x"]}',
    ],
)
def test_bad_providers_file_fails_clearly(tmp_path, content):
    path = tmp_path / "p.json"
    path.write_text(content)
    s = load_settings({"CHATAPP_DATA_DIR": str(tmp_path), "CHATAPP_PROVIDERS_FILE": str(path)})
    with pytest.raises(ConfigError):
        load_providers(s)


def test_missing_providers_file_fails_clearly(tmp_path):
    s = load_settings(
        {"CHATAPP_DATA_DIR": str(tmp_path), "CHATAPP_PROVIDERS_FILE": str(tmp_path / "nope.json")}
    )
    with pytest.raises(ConfigError, match="CHATAPP_PROVIDERS_FILE"):
        load_providers(s)


async def test_models_are_discovered_live_cached_and_filtered(tmp_path):
    from testkit.fakes.openai_server import FakeOpenAI

    with FakeOpenAI(
        api_key="sk-live", models=["chat-a", "text-embedding-3-small", "chat-b"]
    ) as fake:
        s = load_settings(
            {
                "CHATAPP_DATA_DIR": str(tmp_path),
                "OPENAI_API_KEY": "sk-live",
                "OPENAI_BASE_URL": fake.base_url,
            }
        )
        router = ModelRouter(s)
        assert router.model_ids() == ["gpt-4o-mini"]  # the fallback until asked
        await router.refresh_models(now=1000.0)
        assert router.model_ids() == ["chat-a", "chat-b"]  # embeddings are not chat models
        assert isinstance(router.client_for("chat-b"), ChatClient)
        fake.models = ["chat-c"]
        await router.refresh_models(now=1000.0 + 60)  # cached for 10 minutes
        assert router.model_ids() == ["chat-a", "chat-b"]
        await router.refresh_models(now=1000.0 + 601)
        assert router.model_ids() == ["chat-c"]
        assert sum(1 for r in fake.requests if r.path.endswith("/models")) == 2


async def test_configured_models_are_not_replaced_and_failures_fall_back(tmp_path):
    configured = load_settings(
        {
            "CHATAPP_DATA_DIR": str(tmp_path),
            "OPENAI_API_KEY": "k",
            "OPENAI_BASE_URL": "http://127.0.0.1:9/v1",
            "CHATAPP_MODELS": "mine",
        }
    )
    router = ModelRouter(configured)
    await router.refresh_models(now=0.0)
    assert router.model_ids() == ["mine"]
    unreachable = load_settings(
        {
            "CHATAPP_DATA_DIR": str(tmp_path),
            "OPENAI_API_KEY": "k",
            "OPENAI_BASE_URL": "http://127.0.0.1:9/v1",
        }
    )
    router = ModelRouter(unreachable)
    await router.refresh_models(now=0.0)
    assert router.model_ids() == ["gpt-4o-mini"]
