"""The 套餐 tab of `/admin`: the plans, and the form that creates or edits one.

The form is an uncontrolled HTML form keyed on the plan being edited; a refused save keeps what
was typed and names the field `parse_plan` refused (`field_error` + `error_field`).
"""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from chatapp.admin import offers
from chatapp.errors import AuthError, Forbidden, InvalidInput, NotFound
from chatapp.i18n import translate
from chatapp.state.admin import admin_call, error_text, lang_of

# parse_plan's reasons → the form field they are about (plan_bad_number names its own).
_FIELD_OF = {
    "plan_name_required": "name",
    "plan_name_taken": "name",
    "plan_bad_ratio": "multipliers",
}


def _field_of(exc: Exception) -> str:
    """The form field a refusal is about ("" when it is about the whole form)."""
    if not isinstance(exc, InvalidInput):
        return ""
    return exc.detail if exc.reason == "plan_bad_number" else _FIELD_OF.get(exc.reason, "")


@dataclass
class PlanItem:
    """A plan as listed and as the form's fields."""

    id: int = 0
    name: str = ""
    daily_free: str = ""
    models: str = ""
    multipliers: str = ""
    sends_per_minute: str = "0"
    max_message_chars: str = "0"
    is_default: bool = False


def _item(row: offers.PlanRow) -> PlanItem:
    return PlanItem(
        row.id,
        row.name,
        row.daily_free,
        row.models,
        row.multipliers,
        row.sends_per_minute,
        row.max_message_chars,
        row.is_default,
    )


class AdminPlansState(rx.State):
    """The plans, the one being edited (id 0: a new plan) and the last save's outcome."""

    plans: list[PlanItem] = []
    editing: PlanItem = PlanItem()
    form_open: bool = False
    form_key: int = 0
    error_field: str = ""
    error: str = ""
    result: str = ""

    @rx.event
    async def load(self):
        """The plans, default first."""
        try:
            rows = await admin_call(self, offers.list_plans)
        except (Forbidden, AuthError) as exc:
            self.plans = []
            self.error = error_text(exc, await lang_of(self))
            return
        self.plans = [_item(r) for r in rows]

    def _open(self, plan: PlanItem) -> None:
        self.editing = plan
        self.form_open = True
        self.form_key += 1  # a fresh form: its inputs take the plan's values
        self.error = self.error_field = self.result = ""

    @rx.event
    def new_plan(self):
        """Opens an empty form."""
        self._open(PlanItem())

    @rx.event
    def edit_plan(self, plan_id: int):
        """Opens the form on a listed plan."""
        found = next((p for p in self.plans if p.id == plan_id), None)
        if found is not None:
            self._open(found)

    @rx.event
    def close_form(self):
        """Closes the form without saving."""
        self.form_open = False
        self.error = self.error_field = ""

    @rx.event
    async def save(self, form: dict):
        """Creates or updates the plan; a refusal names the field and keeps the form."""
        lang = await lang_of(self)
        plan_id = self.editing.id or None
        try:
            saved: offers.PlanRow = await admin_call(
                self, offers.save_plan, plan_id=plan_id, fields=dict(form)
            )
        except (InvalidInput, NotFound, Forbidden, AuthError) as exc:
            self.result = ""
            self.error = error_text(exc, lang)
            self.error_field = _field_of(exc)
            return
        self.form_open = False
        self.error = self.error_field = ""
        self.result = translate("admin.plans.saved", lang).format(value=saved.name)
        await self.load()

    @rx.event
    async def make_default(self, plan_id: int):
        """Makes a plan the default for new users."""
        lang = await lang_of(self)
        try:
            await admin_call(self, offers.make_default, plan_id=plan_id)
        except (NotFound, Forbidden, AuthError) as exc:
            self.error = error_text(exc, lang)
            return
        self.error = ""
        name = next((p.name for p in self.plans if p.id == plan_id), "")
        self.result = translate("admin.plans.made_default", lang).format(value=name)
        await self.load()
