"""The settings page's 「开放 API」 section: the user's open API keys (create, revoke), and the key
just created, shown once.

Thin wiring over `chatapp.auth.api_keys` (in a worker thread: `in_session`). Only the key just
created ever reaches the browser, in `created_key`, until the user closes it; the list shows each
key's first characters.
"""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from chatapp.auth import api_keys
from chatapp.core.config import get_settings
from chatapp.core.timefmt import bubble_label
from chatapp.errors import InvalidInput
from chatapp.i18n import translate
from chatapp.models import ApiKey, utcnow
from chatapp.state.auth import AuthState
from chatapp.state.ui import UIState
from chatapp.state.worker import in_session


@dataclass
class KeyRow:
    """One key as the list shows it."""

    id: int = 0
    name: str = ""
    prefix: str = ""
    # "创建于 18:44 · 上次使用 18:45 · 3 次调用 · 1,204 tokens"
    details: str = ""


def key_row(row: ApiKey, lang: str) -> KeyRow:
    """A key's line: name, first characters, when created, when last used, what it used."""
    now = utcnow()
    created = translate("settings.open_api.created_at", lang).replace(
        "{t}", bubble_label(row.created_at, now, lang)
    )
    if row.last_used_at is None:
        used = translate("settings.open_api.never_used", lang)
    else:
        used = translate("settings.open_api.last_used", lang).replace(
            "{t}", bubble_label(row.last_used_at, now, lang)
        )
    tokens = row.prompt_tokens + row.completion_tokens
    usage = (
        translate("settings.open_api.usage", lang)
        .replace("{n}", str(row.requests))
        .replace("{k}", f"{tokens:,}")
    )
    return KeyRow(row.id or 0, row.name, row.prefix + "…", " · ".join((created, used, usage)))


class ApiKeysState(rx.State):
    """The user's open API keys on the settings page."""

    keys: list[KeyRow] = []
    created_key: str = ""
    created_name: str = ""
    error: str = ""
    base_url: str = ""

    async def _who(self) -> tuple[int | None, str]:
        user_id = await (await self.get_state(AuthState)).current_user_id()
        return user_id, (await self.get_state(UIState)).lang

    async def _reload(self, user_id: int, lang: str) -> None:
        rows = await in_session(api_keys.list_keys, user_id=user_id)
        self.keys = [key_row(r, lang) for r in rows]

    @rx.event
    async def load(self):
        """When the section shows: the list and the base URL to give tools."""
        user_id, lang = await self._who()
        if user_id is None:
            return
        self.base_url = get_settings().public_url + "/v1"
        self.error = ""
        await self._reload(user_id, lang)

    @rx.event
    async def create(self, form: dict):
        """Creates a key named in the form and shows it once."""
        user_id, lang = await self._who()
        if user_id is None:
            return None
        try:
            _row, secret = await in_session(
                api_keys.create_key, user_id=user_id, name=str(form.get("name", ""))
            )
        except InvalidInput as exc:
            # The name stays in the field (the form is not reset on submit).
            self.error = translate(f"api.error.{exc.reason}", lang).replace("{n}", exc.detail)
            return None
        self.error = ""
        self.created_key = secret
        self.created_name = _row.name
        await self._reload(user_id, lang)
        return rx.set_value("open-api-name", "")

    @rx.event
    def dismiss(self):
        """The user saved the new key: it is never shown again."""
        self.created_key = ""
        self.created_name = ""

    @rx.event
    async def revoke(self, key_id: int):
        """Revokes one of the user's keys (another user's id changes nothing)."""
        user_id, lang = await self._who()
        if user_id is None:
            return
        await in_session(api_keys.revoke_key, user_id=user_id, key_id=int(key_id))
        await self._reload(user_id, lang)
