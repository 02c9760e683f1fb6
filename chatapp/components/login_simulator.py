"""The dev-only WeChat simulator panel ("模拟微信登录"); the page adds it only when CHATAPP_ENV=dev."""

from __future__ import annotations

import reflex as rx

from chatapp.auth.simulator import DEV_OPENIDS
from chatapp.components.text import t
from chatapp.state.auth import LoginState


def login_simulator() -> rx.Component:
    """Pick or type a test openid, send "登录" to our callback, see the reply, fill the code."""
    return rx.box(
        rx.vstack(
            rx.hstack(
                rx.icon("flask-conical", size=16),
                rx.text(t("login.simulator"), weight="bold", size="2"),
                align="center",
                spacing="2",
            ),
            rx.text(t("login.simulator.hint"), size="1", color_scheme="gray"),
            rx.hstack(
                rx.input(
                    value=LoginState.sim_openid,
                    on_change=LoginState.set_sim_openid,
                    placeholder=t("login.simulator.openid"),
                    list="dev-openids",
                    size="2",
                    id="sim-openid",
                    style={"flex": "1"},
                ),
                rx.el.datalist(
                    *[rx.el.option(value=openid) for openid in DEV_OPENIDS], id="dev-openids"
                ),
                rx.button(
                    t("login.simulator.send"),
                    on_click=LoginState.simulate,
                    variant="soft",
                    size="2",
                    id="sim-send",
                ),
                width="100%",
            ),
            rx.cond(
                LoginState.sim_reply != "",
                rx.vstack(
                    rx.text(t("login.simulator.reply"), size="1", color_scheme="gray"),
                    rx.box(
                        rx.text(LoginState.sim_reply, size="2", white_space="pre-wrap"),
                        id="sim-reply",
                        style={
                            "background": "var(--green-3)",
                            "border_radius": "8px",
                            "padding": "8px 10px",
                            "width": "100%",
                        },
                    ),
                    rx.cond(
                        LoginState.sim_code != "",
                        rx.button(
                            t("login.simulator.fill"),
                            on_click=LoginState.fill_code,
                            variant="outline",
                            size="1",
                            id="sim-fill",
                        ),
                    ),
                    width="100%",
                    spacing="1",
                ),
            ),
            spacing="2",
            width="100%",
        ),
        id="login-simulator",
        style={
            "border": "1px dashed var(--gray-7)",
            "border_radius": "10px",
            "padding": "12px",
            "width": "100%",
        },
    )
