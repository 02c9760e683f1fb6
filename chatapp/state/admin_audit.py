"""The 审计 tab of `/admin`: the audit log newest first, filtered by action, a page at a time,
and its CSV export."""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from chatapp.admin import console
from chatapp.errors import AuthError, Forbidden
from chatapp.state.admin import admin_call, error_text, lang_of, when

# The actions the filter offers (the log holds these and logins; "" is every action).
ACTIONS = (
    "",
    "user.freeze",
    "user.unfreeze",
    "user.plan",
    "user.balance",
    "user.logout_all",
    "plan.create",
    "plan.edit",
    "plan.default",
    "words.save",
    "redeem.batch",
    "redeem",
    "refusal",
    "login",
    "admin.grant",
    "admin.revoke",
    "audit.export",
)


@dataclass
class EventItem:
    """One audit event as listed."""

    id: int = 0
    at: str = ""
    actor: str = ""
    action: str = ""
    target: str = ""
    detail: str = ""


class AdminAuditState(rx.State):
    """The shown page of events, the filter, and whether older events exist."""

    action: str = "all"
    events: list[EventItem] = []
    has_more: bool = False
    error: str = ""

    async def _page(self, before_id: int | None) -> list[EventItem] | None:
        try:
            rows = await admin_call(
                self,
                console.audit_page,
                action="" if self.action == "all" else self.action,
                before_id=before_id,
            )
        except (Forbidden, AuthError) as exc:
            self.events, self.has_more = [], False
            self.error = error_text(exc, await lang_of(self))
            return None
        self.error = ""
        self.has_more = len(rows) == console.AUDIT_PAGE
        return [EventItem(r.id, when(r.at), r.actor, r.action, r.target, r.detail) for r in rows]

    @rx.event
    async def load(self):
        """The newest page."""
        page = await self._page(None)
        if page is not None:
            self.events = page

    @rx.event
    async def set_action(self, action: str):
        """Filters by action ("all": every action)."""
        self.action = action if action in ACTIONS or action == "all" else "all"
        await self.load()

    @rx.event
    async def older(self):
        """Appends the next (older) page."""
        if not self.events:
            return
        page = await self._page(self.events[-1].id)
        if page is not None:
            self.events = [*self.events, *page]

    @rx.event
    async def export(self):
        """Downloads the filtered log as CSV."""
        try:
            data = await admin_call(
                self, console.audit_export, action="" if self.action == "all" else self.action
            )
        except (Forbidden, AuthError) as exc:
            self.error = error_text(exc, await lang_of(self))
            return None
        return rx.download(data=data, filename="chatapp-audit.csv")
