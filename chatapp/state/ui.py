"""UI preferences every page needs before login: language and theme, kept in cookies.

Logged-in users' preferences are also persisted server-side (settings state copies them here).
"""

from __future__ import annotations

import reflex as rx

from chatapp.i18n import normalise_language

ONE_YEAR = 365 * 24 * 3600


class UIState(rx.State):
    """Language ("zh" | "en") and theme ("light" | "dark" | "system")."""

    lang: str = rx.Cookie("zh", name="chatapp_lang", max_age=ONE_YEAR, same_site="lax")

    @rx.event
    def set_language(self, lang: str):
        """Switches the UI language."""
        self.lang = normalise_language(lang)
