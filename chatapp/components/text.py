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


# Radix's slider thumb (the element with role="slider") takes no label from its root: this copies
# the root's `data-thumb-label` onto it (run on mount; key the slider on the language to re-run).
LABEL_THUMBS = (
    "[0, 200, 800].forEach((ms) => setTimeout(() =>"
    " document.querySelectorAll('[data-thumb-label]').forEach((r) =>"
    " r.querySelectorAll('[role=slider]').forEach((th) =>"
    " th.setAttribute('aria-label', r.dataset.thumbLabel))), ms))"
)


def lang_marker() -> rx.Component:
    """An empty element carrying the UI language for assets/lang.js, which keeps `<html lang>` in
    step with it (zh-CN / en) on every page and on a language switch."""
    return rx.el.span(data_ui_lang=UIState.lang, id="ui-lang", style={"display": "none"})
