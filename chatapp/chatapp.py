"""Composition root: the Reflex app, its pages, theme, stylesheets, and the HTTP API."""

from __future__ import annotations

import reflex as rx

from chatapp.api.routes import build_api
from chatapp.components.text import t
from chatapp.core.config import get_settings
from chatapp.core.origins import origin_checker
from chatapp.pages.admin import admin_page
from chatapp.pages.chat import chat_page
from chatapp.pages.login import login_page
from chatapp.pages.not_found import not_found_page
from chatapp.pages.roles import roles_page
from chatapp.pages.settings import settings_page
from chatapp.server.boot import startup
from chatapp.server.tuning import tune_process
from chatapp.state.admin import AdminState
from chatapp.state.auth import LoginState
from chatapp.state.chat import ChatState
from chatapp.state.chat_role import ChatRoleState
from chatapp.state.errors import on_backend_error
from chatapp.state.roles import RolesState
from chatapp.state.settings import SettingsState
from chatapp.state.usage import UsageState

startup()

settings = get_settings()
app = rx.App(
    stylesheets=["/chat.css", "/pages.css", "/admin.css", "/answer_image.css"],
    head_components=[
        rx.el.meta(name="viewport", content="width=device-width, initial-scale=1"),
        # Installable: a web app manifest with icons (also on a phone's home screen).
        rx.el.link(rel="manifest", href="/manifest.webmanifest"),
        rx.el.link(rel="icon", href="/favicon.ico", sizes="any"),
        rx.el.link(rel="icon", href="/icon.svg", type="image/svg+xml"),
        rx.el.link(rel="apple-touch-icon", href="/apple-touch-icon.png"),
        rx.el.meta(name="theme-color", content="#07c160"),
        # Refuses a text too big to send before it is sent, and keeps it (see the file).
        rx.script(src="/send_guard.js"),
        # <html lang> follows the UI language (zh-CN / en).
        rx.script(src="/lang.js"),
        # The browser's time zone into a cookie: times show in local time (chatapp/core/timefmt).
        rx.script(src="/time_zone.js"),
    ],
    # Reflex's toast region is labelled "Notifications alt+T" unless told: in the UI's language.
    toaster=rx.toast.provider(custom_attrs={"containerAriaLabel": t("a11y.notifications")}),
    api_transformer=build_api(settings),
    backend_exception_handler=on_backend_error,
)
# The websocket accepts the page's own origin, whatever address it was opened at (see
# chatapp/core/origins.py), plus CORS_ORIGINS; Reflex alone would take only a fixed list.
if app.sio is not None:
    app.sio.eio.cors_allowed_origins = origin_checker(
        settings.cors_origins, settings.trusted_proxy_hops
    )
# Every signed-in page also applies the user's saved preferences (language, theme, font, send key).
_chat_load = [SettingsState.apply_preferences, ChatState.load_page, ChatRoleState.load_options]
app.add_page(chat_page, route="/", title="chatapp", on_load=_chat_load)
app.add_page(chat_page, route="/chat/[cid]", title="chatapp", on_load=_chat_load)
# The original project's chat page lived at /chat.
app.add_page(chat_page, route="/chat", title="chatapp", on_load=_chat_load)
app.add_page(
    roles_page,
    route="/roles",
    title="chatapp",
    on_load=[SettingsState.apply_preferences, RolesState.load_page],
)
app.add_page(
    settings_page,
    route="/settings",
    title="chatapp",
    on_load=[SettingsState.apply_preferences, SettingsState.load_page, UsageState.load],
)
# The operator console: the page refuses non-admins itself, and every handler re-checks.
app.add_page(
    admin_page,
    route="/admin",
    title="chatapp",
    on_load=[SettingsState.apply_preferences, AdminState.load_page],
)
# In each worker, once it serves (see chatapp/server/tuning.py).
app.register_lifespan_task(tune_process)
app.add_page(login_page, route="/login", title="登录 · chatapp", on_load=LoginState.on_load)
# Any address without a page: localised, with a link home (Reflex's 404 route).
app.add_page(not_found_page, route="404", title="404 · chatapp")
