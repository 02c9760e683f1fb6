"""The not-found page: any address without a page (`/nonexistent`, `/chat/a/b`), in the UI's
language, with a link home. Registered as Reflex's 404 route (`app.add_page(..., route="404")`)."""

from __future__ import annotations

import reflex as rx

from chatapp.components.text import lang_marker, t


def not_found_page() -> rx.Component:
    """The 404 page component."""
    return rx.center(
        rx.card(
            rx.vstack(
                rx.heading(t("not_found.title"), as_="h1", size="6", id="not-found-title"),
                rx.text(t("not_found.hint"), size="2"),
                rx.link(t("not_found.home"), href="/", id="not-found-home", size="3"),
                spacing="4",
                align="center",
            ),
            size="4",
            width="min(420px, 94vw)",
        ),
        lang_marker(),
        min_height="100vh",
        padding="16px",
        background="var(--gray-2)",
        custom_attrs={"role": "main"},
        id="not-found-page",
    )
