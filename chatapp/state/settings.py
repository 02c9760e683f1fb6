"""The settings page's state, and the user's preferences every signed-in page applies on load
(language into the `UIState.lang` cookie, theme, send key, font size).

"Settings" names three things in this app; this module is about the second:
- the operator's configuration, `core.config.Settings` (read here only for the secret box and
  the base-URL allow-list);
- the user's own preferences, `chatapp.preferences` — what this page shows and saves;
- a conversation's parameters (model, temperature, …), set in the chat's ⚙ form
  (`core.parameters`), not here.

Thin wiring: handlers validate, run a `preferences` use case in a worker thread (`in_session`),
and assign vars. The API key never enters a state var: the form field is write-only and only the
`…last4` hint comes back.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import reflex as rx

from chatapp import preferences
from chatapp.chat.providers import get_router
from chatapp.core.config import get_settings
from chatapp.core.crypto import box_for
from chatapp.errors import InvalidInput
from chatapp.i18n import translate
from chatapp.preferences import Preferences
from chatapp.roles.items import RoleChoice, role_choices
from chatapp.state.auth import AuthState
from chatapp.state.ui import UIState, zone_script
from chatapp.state.worker import in_session

log = logging.getLogger(__name__)


@dataclass
class ModelChoice:
    """One option of the default-model select: a model id ("auto": the app's default)."""

    value: str = ""
    label: str = ""


def theme_script(theme: str) -> rx.event.EventSpec:
    """Applies a theme in the browser by clicking the matching hidden button of `prefs_sync()`
    (Reflex's colour mode lives in React context, which a backend event cannot call directly)."""
    if theme not in preferences.THEMES:
        theme = "system"
    return rx.call_script(f"document.getElementById('theme-set-{theme}')?.click()")


class SettingsState(rx.State):
    """The settings page, and the user's preferences as every page applies them."""

    theme: str = "system"
    send_key: str = "enter"
    font_size: int = 15
    # Keep an answer's reasoning unfolded once the answer starts (components/reasoning_block.py).
    reasoning_open: bool = False
    default_model: str = ""
    default_role_id: str = "0"
    api_key_hint: str = ""
    api_base_url: str = ""
    model_choices: list[ModelChoice] = []
    role_choices: list[RoleChoice] = []
    notice: str = ""
    error: str = ""
    api_error: str = ""

    async def _user_id(self) -> int | None:
        return await (await self.get_state(AuthState)).current_user_id()

    @rx.var
    def font_px(self) -> str:
        """The font size as a CSS length (for `--chat-font-size`)."""
        return f"{self.font_size}px"

    async def _show_preferences(self, prefs: Preferences, *, set_language: bool) -> None:
        self.theme = prefs.theme
        self.send_key = prefs.send_key
        self.font_size = prefs.font_size
        self.reasoning_open = prefs.reasoning_open
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
        prefs = await in_session(preferences.get_preferences, user_id=user_id)
        stored = prefs.stored
        # A user who never saved settings keeps the language this browser chose.
        await self._show_preferences(prefs, set_language=stored)
        # Times show in the browser's zone: its cookie may not have reached this first event.
        zone = zone_script()
        return [theme_script(prefs.theme), zone] if stored else zone

    @rx.event
    async def load_page(self):
        """on_load of /settings: the options of the selects."""
        user_id = await self._user_id()
        if user_id is None:
            return AuthState.require_login  # to /login?next=/settings
        lang = (await self.get_state(UIState)).lang
        self.notice = self.error = self.api_error = ""
        prefs = await in_session(preferences.get_preferences, user_id=user_id)
        own_key = prefs.api_key_hint != ""
        self.model_choices = [
            ModelChoice("auto", translate("settings.default_model.auto", lang)),
            *(ModelChoice(m, m) for m in get_router().model_ids(own_key=own_key)),
        ]
        self.role_choices = await in_session(
            role_choices, user_id=user_id, lang=lang, chosen_id=prefs.default_role_id
        )
        await self._show_preferences(prefs, set_language=False)
        return None

    async def _save_preferences(self, **changes) -> bool:
        user_id = await self._user_id()
        if user_id is None:
            return False
        lang = (await self.get_state(UIState)).lang
        try:
            prefs = await in_session(
                preferences.update_preferences,
                user_id=user_id,
                models=get_router().model_ids(own_key=self.api_key_hint != ""),
                **changes,
            )
        except InvalidInput as exc:
            self.error = translate(f"settings.error.{exc.reason}", lang)
            return False
        await self._show_preferences(prefs, set_language="language" in changes)
        self.error = ""
        self.notice = translate("settings.saved", prefs.language)
        return True

    @rx.event
    async def set_language(self, lang: str | list[str]):
        """Switches and persists the UI language."""
        await self._save_preferences(language=lang if isinstance(lang, str) else "")
        # Option labels ("无角色", "系统默认") are in the language they were loaded in.
        return SettingsState.load_page

    @rx.event
    async def set_theme(self, theme: str | list[str]):
        """Switches and persists the theme."""
        if await self._save_preferences(theme=theme if isinstance(theme, str) else ""):
            return theme_script(self.theme)
        return None

    @rx.event
    async def set_send_key(self, key: str):
        """Enter or Ctrl+Enter sends."""
        await self._save_preferences(send_key=key)

    @rx.event
    async def set_reasoning_open(self, value: bool):
        """Keep the model's reasoning unfolded once its answer starts (or fold it away)."""
        await self._save_preferences(reasoning_open=value is True)

    @rx.event
    def preview_font_size(self, value: list[int | float]):
        """The slider moves (saved when it is released: `set_font_size`)."""
        size = value[0] if isinstance(value, list) and value else value
        if isinstance(size, int | float):
            self.font_size = min(
                max(int(size), preferences.FONT_SIZE_MIN), preferences.FONT_SIZE_MAX
            )

    @rx.event
    async def set_font_size(self, value: list[int | float]):
        """The chat text size (slider)."""
        size = value[0] if isinstance(value, list) and value else value
        await self._save_preferences(font_size=size)

    @rx.event
    async def set_default_model(self, model: str):
        """The model new conversations start with ("auto": the app default)."""
        await self._save_preferences(default_model="" if model == "auto" else model)

    @rx.event
    async def set_default_role(self, role_id: str):
        """The role new conversations start with ("0": none)."""
        try:
            value = int(role_id)
        except ValueError:
            return
        await self._save_preferences(default_role_id=value)

    @rx.event
    async def save_api(self, form: dict):
        """Saves the user's own API key (encrypted) and base URL."""
        user_id = await self._user_id()
        if user_id is None:
            return None
        lang = (await self.get_state(UIState)).lang
        config = get_settings()
        try:
            # The base URL's host is resolved (url_guard), which may wait on DNS.
            prefs = await in_session(
                preferences.set_api_credentials,
                user_id=user_id,
                box=box_for(config),
                api_key=str(form.get("api_key", "")),
                base_url=str(form.get("api_base_url", "")),
                allow=config.user_base_url_allow,
            )
        except InvalidInput as exc:
            # Which rule refused it; the form keeps what was typed (it is not reset on submit).
            self.api_error = translate(preferences.refusal_key(exc), lang)
            self.notice = ""
            return None
        self.api_error = ""
        self.api_key_hint = prefs.api_key_hint
        self.api_base_url = prefs.api_base_url
        self.notice = translate("settings.saved", lang)
        # Saved: the key field empties (the key is write-only; the hint shows its last 4).
        return rx.set_value("settings-api-key", "")

    @rx.event
    async def clear_api(self):
        """Forgets the user's own API key and base URL."""
        user_id = await self._user_id()
        if user_id is None:
            return
        prefs = await in_session(preferences.clear_api_credentials, user_id=user_id)
        self.api_key_hint = prefs.api_key_hint
        self.api_base_url = prefs.api_base_url
        self.api_error = ""
