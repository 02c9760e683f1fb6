"""The three-pane shell every signed-in page uses: toolbar | list | main pane."""

from __future__ import annotations

import reflex as rx

from chatapp.components.phone_nav import phone_nav
from chatapp.components.prefs_sync import prefs_sync
from chatapp.components.toolbar import toolbar
from chatapp.state.settings import SettingsState


def shell(
    active: str,
    middle: rx.Component | None,
    main: rx.Component,
    *,
    has_detail: bool | rx.Var[bool] = False,
) -> rx.Component:
    """Lays out the panes; on phones only the list or the detail shows (`has_detail`), and the
    tab bar (phone_nav) shows under the list and on pages without one (settings)."""
    if middle is None:
        classes: rx.Var[str] | str = "app-shell has-conv tabs"
    else:
        classes = rx.cond(has_detail, "app-shell has-conv", "app-shell no-conv tabs")
    return rx.box(
        toolbar(active),
        *([middle] if middle is not None else []),
        main,
        phone_nav(active),
        prefs_sync(),
        class_name=classes,
        # The user's font size (settings page) for bubbles and the composer.
        style={"--chat-font-size": SettingsState.font_px},
    )
