"""The three-pane shell every signed-in page uses: toolbar | list | main pane."""

from __future__ import annotations

import reflex as rx

from chatapp.components.phone_nav import phone_nav
from chatapp.components.prefs_sync import prefs_sync
from chatapp.components.text import lang_marker, t
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
    tab bar (phone_nav) shows under the list and on pages without one (settings).

    The main pane is the page's `main` landmark (`#main-content`), reached by a skip link that shows
    on keyboard focus; each page has a visually hidden `h1` naming it.
    """
    main.custom_attrs.setdefault("role", "main")
    main.id = main.id or "main-content"
    skip_key = "a11y.skip_to_chat" if active == "chat" else "a11y.skip_to_main"
    # On the chat page the open conversation (its header first) comes before the list in the
    # Tab order, so its controls are not behind up to a hundred rows; CSS `order` (chat.css,
    # `.main-first`) keeps the list on the left.
    main_first = active == "chat" and middle is not None
    base = "app-shell main-first" if main_first else "app-shell"
    if middle is None:
        classes: rx.Var[str] | str = f"{base} has-conv tabs"
    else:
        classes = rx.cond(has_detail, f"{base} has-conv", f"{base} no-conv tabs")
    panes = [main, middle] if main_first else [middle, main] if middle is not None else [main]
    return rx.box(
        rx.el.a(t(skip_key), href=f"#{main.id}", class_name="skip-link", id="skip-link"),
        rx.el.h1(t(f"a11y.{active}_heading"), class_name="visually-hidden", id="page-heading"),
        toolbar(active),
        *panes,
        phone_nav(active),
        prefs_sync(),
        lang_marker(),
        # Esc returns the focus to a menu's opener; a row's link opens its menu (see the file).
        rx.script(src="/menu_keys.js"),
        class_name=classes,
        # The user's font size (settings page) for bubbles and the composer.
        style={"--chat-font-size": SettingsState.font_px},
    )
