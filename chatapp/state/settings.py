"""Settings state: the settings page, and the per-user preferences every page applies on load
(language into the `UIState.lang` cookie, theme, send key, font size).

Thin wiring over `chatapp.preferences`. The API key never enters a state var: the form field
is write-only and only the `…last4` hint comes back.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import reflex as rx

from chatapp import preferences
from chatapp.chat.providers import get_router
from chatapp.core.config import get_settings
from chatapp.core.crypto import box_for
from chatapp.core.db import session_scope
from chatapp.errors import InvalidInput
from chatapp.i18n import translate
from chatapp.preferences import Preferences
from chatapp.roles import store as role_store
from chatapp.state.auth import AuthState
from chatapp.state.ui import UIState

log = logging.getLogger(__name__)


@dataclass
class Choice:
    """One option of a select."""

    value: str = ""
    label: str = ""


def theme_script(theme: str) -> rx.event.EventSpec:
    """Applies a theme in the browser by clicking the matching hidden button of `prefs_sync()`
    (Reflex's colour mode lives in React context, which a backend event cannot call directly)."""
    if theme not in preferences.THEMES:
        theme = "system"
    return rx.call_script(f"document.getElementById('theme-set-{theme}')?.click()")


def _save_api_credentials(user_id: int, api_key: str, base_url: str) -> Preferences:
    settings = get_settings()
    with session_scope() as session:
        return preferences.set_api_credentials(
            session,
            user_id=user_id,
            box=box_for(settings),
            api_key=api_key,
            base_url=base_url,
            allow=settings.user_base_url_allow,
        )


class SettingsState(rx.State):
    """The user's preferences, and the settings page."""

    theme: str = "system"
    send_key: str = "enter"
    font_size: int = 15
    default_model: str = ""
    default_role_id: str = "0"
    api_key_hint: str = ""
    api_base_url: str = ""
    models: list[Choice] = []
    role_choices: list[Choice] = []
    notice: str = ""
    error: str = ""
    api_error: str = ""

    async def _user_id(self) -> int | None:
        return await (await self.get_state(AuthState)).current_user_id()

    @rx.var
    def font_px(self) -> str:
        """The font size as a CSS length (for `--chat-font-size`)."""
        return f"{self.font_size}px"

    async def _assign(self, prefs: Preferences, *, set_language: bool) -> None:
        self.theme = prefs.theme
        self.send_key = prefs.send_key
        self.font_size = prefs.font_size
        self.default_model = prefs.default_model or "auto"
        self.default_role_id = str(prefs.default_role_id)
        self.api_key_hint = prefs.api_key_hint
        self.api_base_url = prefs.api_base_url
        if set_language:
            ui = await self.get_state(UIState)
            ui.lang = prefs.language

    @rx.event
    async def apply_preferences(self):
        """on_load of every signed-in page: copies the persisted language into the cookie and
        applies theme, send key and font size."""
        user_id = await self._user_id()
        if user_id is None:
            return None
        with session_scope() as session:
            prefs = preferences.get_preferences(session, user_id=user_id)
        stored = prefs.stored
        # A user who never saved settings keeps the language this browser chose.
        await self._assign(prefs, set_language=stored)
        return theme_script(prefs.theme) if stored else None

    @rx.event
    async def load_page(self):
        """on_load of /settings: the options of the selects."""
        user_id = await self._user_id()
        if user_id is None:
            return rx.redirect("/login")
        lang = (await self.get_state(UIState)).lang
        self.notice = self.error = self.api_error = ""
        self.models = [
            Choice("auto", translate("settings.default_model.auto", lang)),
            *(Choice(m, m) for m in get_router().model_ids()),
        ]
        with session_scope() as session:
            rows = role_store.list_roles(session, user_id=user_id, language=lang)
            prefs = preferences.get_preferences(session, user_id=user_id)
            if prefs.default_role_id and all(r.id != prefs.default_role_id for r in rows):
                row = role_store.get_role(session, user_id=user_id, role_id=prefs.default_role_id)
                rows += [row] if row is not None else []
        self.role_choices = [
            Choice("0", translate("role_store.none", lang)),
            *(Choice(str(r.id), f"{r.avatar} {r.name}") for r in rows),
        ]
        await self._assign(prefs, set_language=False)
        return None

    async def _update(self, **changes) -> bool:
        user_id = await self._user_id()
        if user_id is None:
            return False
        lang = (await self.get_state(UIState)).lang
        try:
            with session_scope() as session:
                prefs = preferences.update_preferences(
                    session, user_id=user_id, models=get_router().model_ids(), **changes
                )
        except InvalidInput as exc:
            self.error = translate(f"settings.error.{exc.reason}", lang)
            return False
        await self._assign(prefs, set_language="language" in changes)
        self.error = ""
        self.notice = translate("settings.saved", prefs.language)
        return True

    @rx.event
    async def set_language(self, lang: str | list[str]):
        """Switches and persists the UI language."""
        await self._update(language=lang if isinstance(lang, str) else "")
        # Option labels ("无角色", "系统默认") are in the language they were loaded in.
        return SettingsState.load_page

    @rx.event
    async def set_theme(self, theme: str | list[str]):
        """Switches and persists the theme."""
        if await self._update(theme=theme if isinstance(theme, str) else ""):
            return theme_script(self.theme)
        return None

    @rx.event
    async def set_send_key(self, key: str):
        """Enter or Ctrl+Enter sends."""
        await self._update(send_key=key)

    @rx.event
    async def set_font_size(self, value: list[int | float]):
        """The chat text size (slider)."""
        size = value[0] if isinstance(value, list) and value else value
        await self._update(font_size=size)

    @rx.event
    async def set_default_model(self, model: str):
        """The model new conversations start with ("auto": the app default)."""
        await self._update(default_model="" if model == "auto" else model)

    @rx.event
    async def set_default_role(self, role_id: str):
        """The role new conversations start with ("0": none)."""
        try:
            value = int(role_id)
        except ValueError:
            return
        await self._update(default_role_id=value)

    @rx.event
    async def save_api(self, form: dict):
        """Saves the user's own API key (encrypted) and base URL."""
        user_id = await self._user_id()
        if user_id is None:
            return
        lang = (await self.get_state(UIState)).lang
        try:
            # In a thread: the base URL's host is resolved (url_guard), which may wait on DNS.
            prefs = await asyncio.to_thread(
                _save_api_credentials,
                user_id,
                str(form.get("api_key", "")),
                str(form.get("api_base_url", "")),
            )
        except InvalidInput as exc:
            self.api_error = translate(f"settings.error.{exc.reason}", lang)
            return
        self.api_error = ""
        self.api_key_hint = prefs.api_key_hint
        self.api_base_url = prefs.api_base_url
        self.notice = translate("settings.saved", lang)

    @rx.event
    async def clear_api(self):
        """Forgets the user's own API key and base URL."""
        user_id = await self._user_id()
        if user_id is None:
            return
        with session_scope() as session:
            prefs = preferences.clear_api_credentials(session, user_id=user_id)
        self.api_key_hint = prefs.api_key_hint
        self.api_base_url = prefs.api_base_url
        self.api_error = ""
