"""The login page (`/login`): a centred card with code login, scan login and the dev simulator.

Register it with `app.add_page(login_page, route="/login", on_load=LoginState.on_load)`. What the
page shows is decided by the running server's settings (LoginState.on_load), not the build's, so
one compiled frontend (the Docker image's) serves every configuration: the simulator panel only in
dev, the scan QR only when WECHAT_LOGIN is scan or both, the code form unless it is scan-only.
"""

from __future__ import annotations

import reflex as rx

from chatapp.components.login_code import login_code_form
from chatapp.components.login_scan import login_scan
from chatapp.components.login_simulator import login_simulator
from chatapp.components.text import lang_marker, t
from chatapp.state.auth import LoginState
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
    mode = LoginState.login_mode
    parts: list[rx.Component] = [
        _language_switch(),
        rx.heading(t("login.title"), as_="h1", size="6", text_align="center"),
        rx.text(t("login.subtitle"), size="2", color_scheme="gray", text_align="center"),
        rx.cond(
            LoginState.signed_out_elsewhere,
            rx.callout(
                t("login.signed_out_elsewhere"),
                icon="info",
                color_scheme="blue",
                size="1",
                width="100%",
                role="status",
                id="login-signed-out",
            ),
        ),
        rx.cond((mode == "scan") | (mode == "both"), login_scan()),
        rx.cond(
            mode == "both",
            rx.hstack(
                rx.separator(size="4"),
                rx.text(t("login.or"), size="1", color_scheme="gray"),
                rx.separator(size="4"),
                align="center",
                width="100%",
            ),
        ),
        rx.cond(mode != "scan", login_code_form(LoginState.account_qr)),
        rx.cond(LoginState.dev_mode, login_simulator()),
    ]
    return rx.center(
        rx.card(
            rx.vstack(*parts, spacing="4", align="center", width="100%"),
            size="4",
            width="min(420px, 94vw)",
            id="login-card",
        ),
        lang_marker(),
        min_height="100vh",
        padding="16px",
        background="var(--gray-2)",
        custom_attrs={"role": "main"},
    )
