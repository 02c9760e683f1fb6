"""Scan-to-login: a temporary QR code from WeChat; the server waits for the scan (no polling)."""

from __future__ import annotations

import reflex as rx

from chatapp.components.text import t
from chatapp.state.auth import LoginState


def login_scan() -> rx.Component:
    """The QR code and its states: loading, waiting, expired (refresh), unavailable."""
    return rx.vstack(
        rx.text(t("login.scan.title"), weight="bold"),
        rx.match(
            LoginState.scan_status,
            (
                "waiting",
                rx.image(
                    src=LoginState.qr_url,
                    alt=t("login.scan.title"),
                    width="180px",
                    height="180px",
                    id="login-scan-qr",
                ),
            ),
            (
                "expired",
                rx.vstack(
                    rx.text(t("login.scan.expired"), color_scheme="gray"),
                    rx.button(
                        t("login.scan.refresh"),
                        on_click=LoginState.start_scan,
                        variant="soft",
                        id="login-scan-refresh",
                    ),
                    align="center",
                ),
            ),
            ("error", rx.text(t("login.scan.error"), color_scheme="red", size="2")),
            rx.hstack(rx.spinner(), rx.text(t("login.scan.loading"), size="2"), align="center"),
        ),
        rx.text(t("login.scan.hint"), size="1", color_scheme="gray", text_align="center"),
        align="center",
        spacing="2",
        width="100%",
        id="login-scan",
    )
