"""`t(key)`: UI text in the browser's current language, switched client-side without a round trip."""

from __future__ import annotations

import reflex as rx

from chatapp.i18n import TRANSLATIONS
from chatapp.state.ui import UIState


def t(key: str) -> rx.Var:
    """The text for `key`, as a Var that follows `UIState.lang`.

    Raises:
        KeyError: the key is missing from the zh table (caught at compile time).
    """
    zh = TRANSLATIONS["zh"][key]
    en = TRANSLATIONS["en"].get(key, zh)
    return rx.cond(UIState.lang == "en", en, zh).to(str)
