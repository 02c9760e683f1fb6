"""Applies the user's theme in the browser: hidden buttons the settings state clicks by id.

Reflex keeps the colour mode in React context; a backend handler cannot call it, but it can run a
script that clicks one of these (see `state.settings.theme_script`).
"""

from __future__ import annotations

import reflex as rx
from reflex.style import set_color_mode


def prefs_sync() -> rx.Component:
    """Three invisible buttons: theme-set-light / -dark / -system."""
    return rx.box(
        *(
            rx.el.button(
                id=f"theme-set-{mode}",
                on_click=set_color_mode(mode),
                type="button",
                tab_index=-1,
                aria_hidden="true",
            )
            for mode in ("light", "dark", "system")
        ),
        style={"display": "none"},
    )
