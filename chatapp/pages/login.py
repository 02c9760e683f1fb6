"""The login page (`/login`): a centred card with code login, scan login and the dev simulator.

Register it with `app.add_page(login_page, route="/login", on_load=LoginState.on_load)`. What the
page contains is decided when it is compiled, from the settings: the simulator panel exists only in
dev, the scan QR only when WECHAT_LOGIN is scan or both, the code form unless it is scan-only.
"""

from __future__ import annotations

import reflex as rx

from chatapp.components.login_code import login_code_form
from chatapp.components.login_scan import login_scan
from chatapp.components.login_simulator import login_simulator
from chatapp.components.text import t
from chatapp.core.config import get_settings
from chatapp.state.ui import UIState


def _language_switch() -> rx.Component:
    return rx.hstack(
        rx.link("中文", on_click=UIState.set_language("zh"), size="1", href="#", id="lang-zh"),
        rx.text("/", size="1", color_scheme="gray"),
        rx.link("English", on_click=UIState.set_language("en"), size="1", href="#", id="lang-en"),
        spacing="1",
        justify="end",
        width="100%",
    )


def login_page() -> rx.Component:
    """The `/login` page component."""
    settings = get_settings()
    parts: list[rx.Component] = [
        _language_switch(),
        rx.heading(t("login.title"), size="6", text_align="center"),
        rx.text(t("login.subtitle"), size="2", color_scheme="gray", text_align="center"),
    ]
    if settings.wechat_login in {"scan", "both"}:
        parts.append(login_scan())
    if settings.wechat_login == "both":
        parts.append(
            rx.hstack(
                rx.separator(size="4"),
                rx.text(t("login.or"), size="1", color_scheme="gray"),
                rx.separator(size="4"),
                align="center",
                width="100%",
            )
        )
    if settings.wechat_login in {"code", "both"}:
        parts.append(login_code_form(settings.wechat_qr_image))
    if settings.is_dev:
        parts.append(login_simulator())
    return rx.center(
        rx.card(
            rx.vstack(*parts, spacing="4", align="center", width="100%"),
            size="4",
            width="min(420px, 94vw)",
            id="login-card",
        ),
        min_height="100vh",
        padding="16px",
        background="var(--gray-2)",
    )
