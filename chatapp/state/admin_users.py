"""The 用户 tab of `/admin`: search and sort users, open one, and act on them.

Each action (freeze / unfreeze, change plan, add or remove balance with a reason, log out
everywhere) is confirmed in the page, run by an `admin.console` use case that checks the admin
and writes the audit row, and answered inline (`result` or `error`); the opened user is then
read again, so what shows is what is stored.
"""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from chatapp.admin import console, offers
from chatapp.errors import AuthError, Forbidden, InvalidInput, NotFound
from chatapp.i18n import translate
from chatapp.state.admin import admin_call, error_text, lang_of, when


@dataclass
class UserItem:
    """One user as the list and the detail show them."""

    id: int = 0
    name: str = ""
    openid: str = ""
    plan: str = ""
    frozen: bool = False
    balance: int = 0
    tokens_30d: int = 0
    last_login: str = ""
    is_admin: bool = False


@dataclass
class PlanOption:
    """A plan in the change-plan select."""

    value: str = ""
    label: str = ""


@dataclass
class ModelLine:
    """One model's use this month, in the opened user's detail."""

    model: str = ""
    calls: int = 0
    tokens: int = 0


def _item(row) -> UserItem:
    return UserItem(
        id=row.id,
        name=row.name or row.openid,
        openid=row.openid,
        plan=row.plan,
        frozen=row.status == "frozen",
        balance=row.balance,
        tokens_30d=row.tokens_30d,
        last_login=when(row.last_login_at),
        is_admin=row.is_admin,
    )


class AdminUsersState(rx.State):
    """The user list, the opened user, and the result of the last action."""

    query: str = ""
    sort: str = "recent"
    rows: list[UserItem] = []
    opened: UserItem = UserItem()
    has_opened: bool = False
    conversations: int = 0
    live_sessions: int = 0
    free_used_today: int = 0
    month_tokens: int = 0
    by_model: list[ModelLine] = []
    plan_options: list[PlanOption] = []
    plan_choice: str = ""
    result: str = ""
    error: str = ""

    async def _fail(self, exc: Exception) -> None:
        self.result = ""
        self.error = error_text(exc, await lang_of(self))

    @rx.event
    async def load(self):
        """The first page of users as searched and sorted, and the plans to choose from."""
        try:
            found = await admin_call(
                self, console.find_users, query=self.query, sort=self.sort, offset=0
            )
            choices = await admin_call(self, offers.plan_choices)
        except (Forbidden, AuthError) as exc:
            self.rows = []
            await self._fail(exc)
            return
        self.rows = [_item(r) for r in found]
        self.plan_options = [PlanOption(v, label) for v, label in choices]

    @rx.event
    async def search(self, form: dict):
        """The search box (name or openid) was submitted."""
        self.query = str(form.get("query", ""))[:64]
        await self.load()

    @rx.event
    async def set_sort(self, sort: str):
        """Sort by recent login, tokens, balance or sign-up."""
        self.sort = sort
        await self.load()

    @rx.event
    async def open_user(self, user_id: int):
        """Shows one user's usage, sessions and conversation count (never their contents)."""
        self.result = self.error = ""
        await self._read(user_id)

    async def _read(self, user_id: int) -> None:
        try:
            view: console.UserView = await admin_call(self, console.open_user, user_id=user_id)
        except (Forbidden, AuthError, NotFound) as exc:
            self.has_opened = False
            await self._fail(exc)
            return
        detail = view.detail
        self.opened = _item(detail.row)
        self.has_opened = True
        self.conversations = detail.conversations
        self.live_sessions = detail.live_sessions
        self.free_used_today = detail.free_used_today
        self.month_tokens = view.usage.month_tokens
        self.by_model = [ModelLine(m.model, m.calls, m.tokens) for m in view.usage.by_model]
        current = next((o.value for o in self.plan_options if o.label == detail.row.plan), "")
        self.plan_choice = current
        # The list shows the same user: keep its row in step.
        self.rows = [self.opened if r.id == user_id else r for r in self.rows]

    @rx.event
    def close_user(self):
        """Back to the list (phones)."""
        self.has_opened = False
        self.result = self.error = ""

    async def _act(self, work, done_key: str, **kwargs) -> None:
        user_id = self.opened.id
        try:
            value = await admin_call(self, work, user_id=user_id, **kwargs)
        except (InvalidInput, NotFound, Forbidden, AuthError) as exc:
            await self._fail(exc)
            return
        await self._read(user_id)
        self.error = ""
        self.result = translate(done_key, await lang_of(self)).format(value=value)

    @rx.event
    async def toggle_frozen(self):
        """Freezes the opened user, or unfreezes them."""
        frozen = not self.opened.frozen
        key = "admin.users.done.frozen" if frozen else "admin.users.done.unfrozen"
        await self._act(console.freeze_user, key, frozen=frozen)

    @rx.event
    def choose_plan(self, value: str):
        """The change-plan select (applied by `apply_plan`, after the confirmation)."""
        self.plan_choice = value

    @rx.event
    async def apply_plan(self):
        """Puts the opened user on the chosen plan."""
        if not self.plan_choice.isdigit():
            await self._fail(InvalidInput("plan_required"))
            return
        await self._act(console.move_user, "admin.users.done.plan", plan_id=int(self.plan_choice))

    @rx.event
    async def adjust_balance(self, form: dict):
        """Adds (or, negative, removes) balance with a reason."""
        await self._act(
            console.credit_user,
            "admin.users.done.balance",
            amount=str(form.get("amount", "")),
            reason=str(form.get("reason", "")),
        )

    @rx.event
    async def revoke_sessions(self):
        """Logs the opened user out everywhere."""
        await self._act(console.log_user_out, "admin.users.done.sessions")
