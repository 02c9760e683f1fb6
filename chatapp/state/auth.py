"""Authentication state (STUB until the WeChat login lands: everyone is one local dev user).

Contract other states rely on:
- `await (await self.get_state(AuthState)).current_user_id()` → the logged-in user's id or None,
  re-checked against the sessions table on every call (a page guard alone protects nothing);
- `AuthState.require_login` as a page `on_load` guard (redirects to /login);
- `AuthState.logout`.
"""

from __future__ import annotations

import reflex as rx

from chatapp import accounts
from chatapp.db import session_scope

SESSION_COOKIE = "chatapp_session"


class AuthState(rx.State):
    """Who is logged in in this browser."""

    session_token: str = rx.Cookie("", name=SESSION_COOKIE, same_site="lax", max_age=7 * 24 * 3600)
    nickname: str = ""
    avatar: str = ""

    async def current_user_id(self) -> int | None:
        """The logged-in user's id, re-verified on every call."""
        with session_scope() as session:
            user = accounts.local_dev_user(session)
            if self.nickname != user.nickname:  # assigning marks it dirty: one frame per event
                self.nickname = user.nickname
            return user.id

    @rx.event
    async def require_login(self):
        """Page guard: redirects to the login page when nobody is logged in."""
        if await self.current_user_id() is None:
            return rx.redirect("/login")

    @rx.event
    def logout(self):
        """Ends this browser's session."""
        self.session_token = ""
        return rx.redirect("/login")
