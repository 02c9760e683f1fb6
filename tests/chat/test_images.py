"""Image models over real HTTP against the fake OpenAI server: offered in the picker, the turn
drawn through the images endpoint (b64_json asked for), the picture stored in the database,
counted and charged per picture in the usage ledger, a URL result fetched once through the SSRF
guard (an internal address refused), a content-policy refusal named, and the picture deleted with
its conversation."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest
from sqlmodel import select

from chatapp.chat import answers, charging, conversations, store
from chatapp.chat.images import IMAGE_UNITS, sniff_mime
from chatapp.chat.providers import ModelRouter, get_router, load_providers
from chatapp.core.config import Settings, load_settings, set_settings
from chatapp.core.db import session_scope
from chatapp.errors import user_message
from chatapp.models import GeneratedImage, UsageEntry, User
from testkit.fakes.openai_server import CONTENT_POLICY_ERROR, FakeOpenAI, Reply

KEY = "sk-images-test"
PROMPT = "一只在月球上喝茶的猫 / a cat drinking tea on the moon"


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(api_key=KEY) as srv:
        yield srv


def _settings(tmp_path, fake: FakeOpenAI, **extra: str) -> Settings:
    path = tmp_path / "providers.json"
    entry = {
        "name": "fake",
        "base_url": fake.base_url,
        "api_key": KEY,
        "models": ["fake-gpt"],
        "image_models": ["fake-image"],
    }
    path.write_text(json.dumps({"providers": [entry]}), encoding="utf-8")
    return load_settings(
        {"CHATAPP_DATA_DIR": str(tmp_path), "CHATAPP_PROVIDERS_FILE": str(path), **extra}
    )


@pytest.fixture
def deployment(tmp_path, fake, engine) -> Iterator[Settings]:
    # 127.0.0.1 allowed: the fake's own URL results are fetched (the guard test refuses it).
    settings = _settings(tmp_path, fake, USER_BASE_URL_ALLOW="127.0.0.1")
    set_settings(settings)
    yield settings
    set_settings(None)


@pytest.fixture
def alice(deployment) -> int:
    with session_scope() as s:
        user = User(openid="alice-images")
        s.add(user)
        s.flush()
        assert user.id is not None
        return user.id


async def _draw(user_id: int, text: str = PROMPT, model: str = "fake-image"):
    """One turn to `model` as the app runs it: stored, admitted, answered, settled."""
    settings = get_router().settings
    with session_scope() as s:
        cid = store.create_conversation(s, user_id=user_id, model=model).id
        turn = conversations.send_message(s, user_id=user_id, conversation_id=cid, text=text)
        request = conversations.build_request(s, user_id=user_id, turn=turn)
        request, charge = charging.admit_turn(
            s,
            settings=settings,
            user_id=user_id,
            turn=turn,
            request=request,
            provider="fake",
            own_key=False,
        )
    job = answers.start_answer(
        user_id=user_id,
        message_id=turn.assistant_message_id,
        request=request,
        client=get_router().client_for(model),
        charge=charge,
    )
    await asyncio.wait_for(job.done.wait(), 10)
    with session_scope() as s:
        msg = store.get_message(s, user_id=user_id, message_id=turn.assistant_message_id)
        assert msg is not None
        s.expunge(msg)
        pictures = s.exec(select(GeneratedImage).where(GeneratedImage.message_id == msg.id)).all()
        for p in pictures:
            s.expunge(p)
        ledger = s.exec(select(UsageEntry).where(UsageEntry.user_id == user_id)).all()
        entry = ledger[-1]
        s.expunge(entry)
    return cid, msg, list(pictures), entry


def test_image_models_are_offered_after_the_chat_models(deployment) -> None:
    router = ModelRouter(deployment)
    assert router.model_ids() == ["fake-gpt", "fake-image"]
    assert router.image_model_ids() == ["fake-image"]
    assert router.default_model() == "fake-gpt"
    assert router.is_image_model("fake-image") and not router.is_image_model("fake-gpt")


def test_the_single_provider_setup_names_image_models_in_the_environment(tmp_path) -> None:
    settings = load_settings(
        {"CHATAPP_DATA_DIR": str(tmp_path), "OPENAI_API_KEY": "sk-x", "CHATAPP_MODELS": "gpt-4o"}
    )
    env = {"CHATAPP_IMAGE_MODELS": "dall-e-3, gpt-image-1"}
    (provider,) = load_providers(settings, env)
    assert provider.image_models == ("dall-e-3", "gpt-image-1")
    assert ModelRouter(settings, [provider]).model_ids() == ["gpt-4o", "dall-e-3", "gpt-image-1"]


async def test_a_picture_is_drawn_stored_and_charged_per_picture(fake, alice) -> None:
    _, msg, pictures, entry = await _draw(alice)
    sent = fake.requests[-1]
    assert sent.path == "/v1/images/generations"
    assert sent.json["response_format"] == "b64_json" and sent.json["model"] == "fake-image"
    assert sent.json["prompt"] == PROMPT
    # The prompt is kept as the answer's text; the picture is a checked PNG in the database.
    assert (msg.content, msg.status, msg.ending) == (PROMPT, "done", "complete")
    assert len(pictures) == 1 and pictures[0].mime == "image/png"
    assert sniff_mime(pictures[0].data) == "image/png" and pictures[0].user_id == alice
    assert (entry.status, entry.images, entry.model) == ("settled", 1, "fake-image")
    assert entry.charge == IMAGE_UNITS  # the default plan's multiplier is 1


async def test_a_url_result_is_fetched_once_through_the_guard(fake, alice) -> None:
    fake.queue(Reply(image_url=True))
    _, msg, pictures, _ = await _draw(alice)
    assert msg.status == "done" and len(pictures) == 1 and pictures[0].mime == "image/png"
    fetched = [r for r in fake.requests if r.path.startswith("/files/")]
    assert len(fetched) == 1


async def test_a_url_at_an_internal_address_is_refused(tmp_path, fake, engine) -> None:
    # No allow-list: the fake's URL (127.0.0.1) is an internal address.
    set_settings(_settings(tmp_path, fake))
    try:
        with session_scope() as s:
            user = User(openid="guarded")
            s.add(user)
            s.flush()
            user_id = user.id
        assert user_id is not None
        fake.queue(Reply(image_url=True))
        _, msg, pictures, entry = await _draw(user_id)
    finally:
        set_settings(None)
    assert (msg.status, msg.error_code) == ("error", "image_blocked")
    assert pictures == [] and not [r for r in fake.requests if r.path.startswith("/files/")]
    assert (entry.status, entry.charge) == ("refunded", 0)


async def test_a_content_policy_refusal_is_named_and_refunded(fake, alice) -> None:
    fake.queue(Reply(status=400, error=CONTENT_POLICY_ERROR))
    _, msg, pictures, entry = await _draw(alice)
    assert (msg.status, msg.error_code, pictures) == ("error", "content_policy", [])
    assert "内容政策" in user_message(msg.error_code, "zh")
    assert "content policy" in user_message(msg.error_code, "en")
    assert (entry.status, entry.charge) == ("refunded", 0)


async def test_a_chat_model_still_chats(fake, alice) -> None:
    fake.queue(Reply(text="你好"))
    _, msg, pictures, entry = await _draw(alice, "hi", model="fake-gpt")
    assert (msg.content, pictures, entry.images) == ("你好", [], 0)
    assert fake.requests[-1].path == "/v1/chat/completions"


async def test_pictures_go_with_their_conversation(alice) -> None:
    cid, _, pictures, _ = await _draw(alice)
    assert pictures
    with session_scope() as s:
        assert store.delete_conversation(s, user_id=alice, conversation_id=cid)
    with session_scope() as s:
        assert s.exec(select(GeneratedImage)).all() == []


@pytest.mark.parametrize(
    ("data", "mime"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 8, "image/png"),
        (b"\xff\xd8\xff\xe0" + b"\0" * 8, "image/jpeg"),
        (b"RIFF\0\0\0\0WEBPVP8 ", "image/webp"),
        (b"RIFF\0\0\0\0WAVEfmt ", None),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", None),
        (b"GIF89a", None),
        (b"", None),
    ],
)
def test_only_png_jpeg_and_webp_count_as_pictures(data: bytes, mime: str | None) -> None:
    assert sniff_mime(data) == mime
