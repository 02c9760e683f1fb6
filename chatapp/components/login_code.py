"""The code-login form: the account's QR image, how-to, an 8-digit input (Enter submits), errors."""

from __future__ import annotations

import reflex as rx

from chatapp.components.text import t
from chatapp.state.auth import LoginState


def login_code_form(qr_image: str | rx.Var[str]) -> rx.Component:
    """The form; `qr_image` is the Official Account's QR code (WECHAT_QR_IMAGE)."""
    return rx.vstack(
        rx.image(
            src=qr_image,
            alt=t("login.qr.alt"),
            width="160px",
            height="160px",
            id="login-account-qr",
            style={"border_radius": "8px", "border": "1px solid var(--gray-5)"},
        ),
        rx.text(t("login.code.howto"), size="2", color_scheme="gray", text_align="center"),
        rx.form(
            rx.hstack(
                rx.input(
                    value=LoginState.code,
                    on_change=LoginState.set_code,
                    placeholder=t("login.code.placeholder"),
                    input_mode="numeric",
                    auto_complete="one-time-code",
                    max_length=16,
                    size="3",
                    id="login-code",
                    name="code",
                    aria_label=t("login.code"),
                    style={"letter_spacing": "0.2em", "flex": "1"},
                ),
                rx.button(
                    t("login.submit"),
                    type="submit",
                    size="3",
                    loading=LoginState.busy,
                    id="login-submit",
                ),
                width="100%",
            ),
            on_submit=LoginState.submit_code,
            reset_on_submit=False,
            width="100%",
        ),
        rx.cond(
            LoginState.error != "",
            rx.callout(
                LoginState.error,
                icon="triangle-alert",
                color_scheme="red",
                size="1",
                width="100%",
                id="login-error",
                role="alert",
            ),
        ),
        align="center",
        spacing="3",
        width="100%",
    )
