"""The 兑换码 tab of `/admin`: make a batch (count; units, or a plan for some days; expiry), see its
codes once with a CSV download, and the batches with how many codes were used.

The codes in clear live only in this tab's backend-only var until the admin downloads them or
makes another batch; the page shows them from a plain list var only right after creation.
"""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from chatapp.admin import offers
from chatapp.errors import AuthError, Forbidden, InvalidInput, NotFound
from chatapp.i18n import translate
from chatapp.state.admin import admin_call, error_text, lang_of


@dataclass
class BatchItem:
    """A batch as listed."""

    id: int = 0
    name: str = ""
    value: str = ""  # "500" units, or "Pro × 30" days of a plan (both when both)
    expires: str = ""
    used: int = 0
    total: int = 0


@dataclass
class PlanOption:
    """A plan a code may give."""

    value: str = ""
    label: str = ""


def _item(row: offers.BatchRow) -> BatchItem:
    parts = [str(row.amount)] if row.amount else []
    if row.plan:
        parts.append(f"{row.plan} × {row.plan_days}d")
    return BatchItem(row.id, row.name, " + ".join(parts), row.expires, row.used, row.total)


class AdminCodesState(rx.State):
    """The batches, the plan choices, and the codes of the batch just made."""

    batches: list[BatchItem] = []
    plan_options: list[PlanOption] = []
    plan_choice: str = "0"
    new_codes: list[str] = []
    form_key: int = 0
    error: str = ""
    result: str = ""
    _csv: str = ""
    _csv_name: str = ""

    @rx.event
    async def load(self):
        """The newest batches and the plans."""
        try:
            rows = await admin_call(self, offers.list_batches)
            choices = await admin_call(self, offers.plan_choices)
        except (Forbidden, AuthError) as exc:
            self.batches = []
            self.error = error_text(exc, await lang_of(self))
            return
        self.batches = [_item(r) for r in rows]
        self.plan_options = [PlanOption("0", "—"), *(PlanOption(v, label) for v, label in choices)]

    @rx.event
    def choose_plan(self, value: str):
        """The plan a code gives ("0": none, units only)."""
        self.plan_choice = value

    @rx.event
    async def create(self, form: dict):
        """Makes the batch; its codes show once, with the CSV to download."""
        lang = await lang_of(self)
        try:
            made: offers.NewBatch = await admin_call(
                self, offers.create_codes, fields={**form, "plan_id": self.plan_choice}
            )
        except (InvalidInput, NotFound, Forbidden, AuthError) as exc:
            self.error, self.result = error_text(exc, lang), ""
            return
        self.new_codes = made.codes
        self._csv = made.csv
        self._csv_name = f"chatapp-codes-{made.batch.id}.csv"
        self.error = ""
        self.result = translate("admin.codes.created", lang).format(value=len(made.codes))
        self.form_key += 1
        await self.load()

    @rx.event
    def download(self):
        """The codes just made, as CSV."""
        if not self._csv:
            return None
        return rx.download(data=self._csv, filename=self._csv_name)

    @rx.event
    def hide_codes(self):
        """Forgets the codes in clear (they were handed out or downloaded)."""
        self.new_codes = []
        self._csv = self._csv_name = ""
