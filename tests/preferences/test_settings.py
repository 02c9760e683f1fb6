"""Settings use cases and the secret box, on a real database."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from chatapp import preferences
from chatapp.core.config import Settings
from chatapp.core.crypto import SecretBox, box_for
from chatapp.errors import ConfigError, InvalidInput
from chatapp.models import UserSettings
from chatapp.roles import store as role_store
from chatapp.roles.schema import RoleInput

KEY = "sk-test-PLAINTEXT-9f3a"
BOX = SecretBox("x" * 40)


def _resolve(model: str | None) -> str:
    return model if model in {"m-1", "m-2"} else "m-1"


def test_secretbox_round_trip_and_wrong_key():
    token = BOX.encrypt("密钥 key")
    assert token != BOX.encrypt("密钥 key")  # random IV
    assert BOX.decrypt(token) == "密钥 key"
    assert SecretBox("y" * 40).decrypt(token) is None
    assert BOX.decrypt("garbage") is None
    fernet_key = Fernet.generate_key().decode()
    assert Fernet(fernet_key.encode()).decrypt(SecretBox(fernet_key).encrypt("a").encode()) == b"a"
    with pytest.raises(ConfigError):
        SecretBox("short")


def test_box_from_settings_prefers_the_secret_key():
    jwt_only = box_for(Settings(jwt_secret="j" * 48))
    explicit = box_for(Settings(jwt_secret="j" * 48, secret_key="k" * 48))
    token = jwt_only.encrypt("v")
    assert box_for(Settings(jwt_secret="j" * 48)).decrypt(token) == "v"
    assert explicit.decrypt(token) is None


def test_api_key_is_encrypted_at_rest_and_only_a_hint_is_shown(session, users):
    alice, bob = users
    prefs = preferences.set_api_credentials(
        session, user_id=alice, box=BOX, api_key=f"  {KEY} ", base_url="https://8.8.8.8/v1/"
    )
    session.commit()
    assert prefs.api_key_hint == "…9f3a"
    assert KEY not in repr(prefs)
    raw = session.exec(text("SELECT * FROM usersettings")).all()  # type: ignore[call-overload]
    assert raw and all(KEY not in str(tuple(r)) for r in raw)
    assert preferences.user_credentials(session, user_id=alice, box=BOX) == (
        KEY,
        "https://8.8.8.8/v1",
    )
    assert preferences.user_credentials(session, user_id=bob, box=BOX) == (None, None)
    # An empty key field keeps the stored key; clearing forgets both.
    preferences.set_api_credentials(session, user_id=alice, box=BOX, api_key="", base_url="")
    assert preferences.user_credentials(session, user_id=alice, box=BOX) == (KEY, None)
    preferences.clear_api_credentials(session, user_id=alice)
    assert preferences.user_credentials(session, user_id=alice, box=BOX) == (None, None)


@pytest.mark.parametrize(
    ("api_key", "base_url", "reason"),
    [
        ("short", "", "bad_api_key"),
        ("sk-has space-123", "", "bad_api_key"),
        ("", "ftp://x", "bad_base_url"),
        ("", "https://user:pw@host/v1", "bad_base_url"),
        ("", "not a url", "bad_base_url"),
    ],
)
def test_bad_credentials(session, users, api_key, base_url, reason):
    with pytest.raises(InvalidInput) as err:
        preferences.set_api_credentials(
            session, user_id=users[0], box=BOX, api_key=api_key, base_url=base_url
        )
    assert err.value.reason == reason


def test_preferences_validate_and_persist(session, users):
    alice, bob = users
    assert preferences.get_preferences(session, user_id=alice).language == "zh"
    prefs = preferences.update_preferences(
        session,
        user_id=alice,
        models=["m-1", "m-2"],
        language="en",
        theme="dark",
        send_key="ctrl",
        font_size=99,
        default_model="m-2",
    )
    session.commit()
    assert (prefs.language, prefs.theme, prefs.send_key, prefs.font_size) == (
        "en",
        "dark",
        "ctrl",
        22,
    )
    assert preferences.get_preferences(session, user_id=alice).default_model == "m-2"
    assert preferences.get_preferences(session, user_id=bob).theme == "system"
    bads: list[dict[str, Any]] = [{"theme": "purple"}, {"language": "fr"}, {"nope": 1}]
    for bad in bads:
        with pytest.raises(InvalidInput):
            preferences.update_preferences(session, user_id=alice, **bad)
    with pytest.raises(InvalidInput) as err:
        preferences.update_preferences(session, user_id=alice, models=["m-1"], default_model="x")
    assert err.value.reason == "model_not_offered"


def test_default_role_must_be_visible_and_shapes_new_conversations(session, users):
    alice, bob = users
    role = role_store.create_role(
        session,
        user_id=alice,
        data=RoleInput(name="R", system_prompt="p", temperature=0.1, context_window=4),
    )
    assert role.id is not None
    with pytest.raises(InvalidInput) as err:
        preferences.update_preferences(session, user_id=bob, default_role_id=role.id)
    assert err.value.reason == "role_not_found"
    assert preferences.new_conversation_fields(session, user_id=bob, resolve_model=_resolve) == {
        "model": "m-1"
    }
    preferences.update_preferences(
        session, user_id=alice, models=["m-1", "m-2"], default_model="m-2", default_role_id=role.id
    )
    fields = preferences.new_conversation_fields(session, user_id=alice, resolve_model=_resolve)
    assert fields == {"model": "m-2", "role_id": role.id, "temperature": 0.1, "context_window": 4}
    # A default role deleted later is simply dropped.
    role_store.delete_role(session, user_id=alice, role_id=role.id)
    session.commit()
    assert session.get(UserSettings, alice).default_role_id is None  # type: ignore[union-attr]
