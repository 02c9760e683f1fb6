"""Composition root: the Reflex app, its pages, theme, stylesheets, and the HTTP API."""

from __future__ import annotations

import reflex as rx

from chatapp.api import build_api
from chatapp.config import get_settings
from chatapp.pages.chat import chat_page
from chatapp.pages.login import login_page
from chatapp.startup import startup
from chatapp.state.auth import LoginState
from chatapp.state.chat import ChatState

startup()

app = rx.App(
    stylesheets=["/chat.css"],
    head_components=[rx.el.meta(name="viewport", content="width=device-width, initial-scale=1")],
    api_transformer=build_api(get_settings()),
)
app.add_page(chat_page, route="/", title="chatapp", on_load=ChatState.load_page)
app.add_page(chat_page, route="/chat/[cid]", title="chatapp", on_load=ChatState.load_page)
app.add_page(login_page, route="/login", title="登录 · chatapp", on_load=LoginState.on_load)
