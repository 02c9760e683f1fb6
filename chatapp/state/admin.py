"""The `/admin` page's state: is this user an admin, which tab shows, and the 概览 (dashboard) tab.

Thin wiring over `chatapp.admin.console` / `offers`: every handler of every admin tab goes through
`admin_call`, which runs the use case in a worker thread with the logged-in user as the actor; the
use case re-checks that the user is an admin (`access.require_admin`) before it reads anything.
So a socket without a session, or of a user who is not an admin, gets no figure of any tab — the
page then shows its refusal (`denied`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import reflex as rx

from chatapp.admin import console
from chatapp.billing import plans
from chatapp.core import timefmt
from chatapp.core.config import get_settings
from chatapp.errors import AuthError, Forbidden, InvalidInput, NotFound
from chatapp.i18n import translate
from chatapp.state.auth import AuthState
from chatapp.state.ui import UIState
from chatapp.state.worker import in_session

# Series colours that read on white and on the dark theme alike (Radix 9 steps).
PALETTE = ("#30a46c", "#0090ff", "#f76b15", "#8e4ec6", "#e54666", "#12a594", "#ffc53d", "#8d8d8d")
TABS = ("dashboard", "users", "plans", "words", "codes", "audit")


async def admin_call(state: rx.State, work: Callable[..., Any], /, **kwargs: Any) -> Any:
    """Runs the admin use case `work(session, settings=…, actor_id=<this user>, **kwargs)`.

    Raises:
        Forbidden: no session, or the user is not an admin (nothing was read).
        Whatever `work` raises (InvalidInput, NotFound).
    """
    user_id = await (await state.get_state(AuthState)).current_user_id()
    if user_id is None:
        raise Forbidden("no session")
    return await in_session(work, settings=get_settings(), actor_id=user_id, **kwargs)


async def lang_of(state: rx.State) -> str:
    """The UI language of this tab."""
    return (await state.get_state(UIState)).lang


def when(ts: datetime | None) -> str:
    """A stored time as the admin reads it: local, to the minute ("" for none)."""
    utc = plans.as_utc(ts)
    return "" if utc is None else timefmt.to_local(utc).strftime("%Y-%m-%d %H:%M")


def error_text(exc: Exception, lang: str) -> str:
    """What went wrong, in the admin's language (the field, line or limit filled in)."""
    if isinstance(exc, InvalidInput):
        key = f"admin.error.{exc.reason}"
        detail = exc.detail
    elif isinstance(exc, NotFound):
        key, detail = "admin.error.not_found", ""
    else:
        key, detail = "admin.error.forbidden", ""
    text = translate(key, lang)
    if text == key:  # a reason without its own sentence
        text = translate("admin.error.invalid", lang)
    if detail and key == "admin.error.plan_bad_number":
        detail = translate(f"admin.plans.{detail}", lang)
    return text.format(detail=detail)


class AdminState(rx.State):
    """Whether the page may show, the tab, and the dashboard's figures and series."""

    allowed: bool = False
    denied: bool = False
    tab: str = "dashboard"
    active_today: int = 0
    active_7d: int = 0
    calls_today: int = 0
    tokens_today: int = 0
    errors_today: int = 0
    ttft_p50: str = "—"
    ttft_p95: str = "—"
    tokens_by_day: list[dict[str, Any]] = []
    series: list[dict[str, str]] = []  # {"model", "color"} per stacked bar
    calls_by_hour: list[dict[str, Any]] = []
    top_users: list[dict[str, Any]] = []
    refusals: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []

    @rx.var
    def has_usage(self) -> bool:
        """Any model call in the last 30 days."""
        return bool(self.series)

    def _refuse(self) -> None:
        self.allowed, self.denied = False, True
        self.tokens_by_day = self.series = self.calls_by_hour = []
        self.top_users = self.refusals = self.errors = []

    @rx.event
    async def load_page(self):
        """on_load of /admin: the dashboard, or the refusal for anyone who is not an admin."""
        if await (await self.get_state(AuthState)).current_user_id() is None:
            return AuthState.require_login
        try:
            board: console.Dashboard = await admin_call(self, console.load_dashboard)
        except (Forbidden, AuthError):
            self._refuse()
            return None
        self.allowed, self.denied = True, False
        self._show(board)
        return None

    def _show(self, board: console.Dashboard) -> None:
        s = board.summary
        self.active_today, self.active_7d = s.active_today, s.active_7d
        self.calls_today, self.tokens_today, self.errors_today = (
            s.calls_today,
            s.tokens_today,
            s.errors_today,
        )
        self.ttft_p50 = "—" if s.first_token_p50_ms is None else f"{s.first_token_p50_ms} ms"
        self.ttft_p95 = "—" if s.first_token_p95_ms is None else f"{s.first_token_p95_ms} ms"
        self.tokens_by_day = board.tokens_by_day
        self.series = [
            {"model": m, "color": PALETTE[i % len(PALETTE)]} for i, m in enumerate(board.models)
        ]
        self.calls_by_hour = board.calls_by_hour
        self.top_users = [{**u, "name": u["name"] or f"#{u['user_id']}"} for u in board.top_users]
        self.refusals = board.refusals
        self.errors = board.errors

    @rx.event
    async def refresh(self):
        """Reloads the dashboard's figures."""
        try:
            self._show(await admin_call(self, console.load_dashboard))
        except (Forbidden, AuthError):
            self._refuse()

    @rx.event
    def select_tab(self, tab: str):
        """Shows a tab (its trigger also runs the tab's own `load`, which checks the admin)."""
        if tab in TABS and self.allowed:
            self.tab = tab
