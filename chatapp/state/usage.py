"""Settings → 「用量 / Usage」: the user's plan, balance, free units left today, today and this
month, by model, a 30-day chart, and the redeem-code box.

Wrong codes are counted per user (`credits.RedeemGuard`, like login codes): checked before a
code is tried, counted after a wrong one, so guessing is slow. A refused code stays in the box.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import reflex as rx

from chatapp.admin import offers
from chatapp.billing import credits, usage
from chatapp.core.config import get_settings
from chatapp.errors import InvalidInput
from chatapp.i18n import translate
from chatapp.state.admin import error_text, lang_of
from chatapp.state.auth import AuthState
from chatapp.state.worker import in_session

# The reasons a code is wrong (counted by the guard); others (locked) are not the user's guess.
_WRONG = {"malformed_redeem_code", "unknown_redeem_code", "expired_redeem_code"}


@functools.cache
def _guard() -> credits.RedeemGuard:
    return credits.RedeemGuard(get_settings())


@dataclass
class ModelUsage:
    """One model's line of the by-model table."""

    model: str = ""
    calls: int = 0
    tokens: int = 0
    charge: int = 0


class UsageState(rx.State):
    """The usage card's figures and the redeem box's outcome."""

    loaded: bool = False
    plan: str = ""
    quota: bool = False
    balance: int = 0
    free_daily: int = 0
    free_left: int = 0
    today_tokens: int = 0
    today_charge: int = 0
    month_tokens: int = 0
    month_charge: int = 0
    by_model: list[ModelUsage] = []
    days: list[dict[str, int | str]] = []
    estimated: bool = False
    has_usage: bool = False
    redeem_error: str = ""
    redeem_result: str = ""
    redeem_key: int = 0

    async def _user_id(self) -> int | None:
        return await (await self.get_state(AuthState)).current_user_id()

    @rx.event
    async def load(self):
        """on_load of /settings: the signed-in user's own figures."""
        user_id = await self._user_id()
        if user_id is None:
            return
        mine: usage.MyUsage = await in_session(
            usage.my_usage, settings=get_settings(), user_id=user_id
        )
        self.plan, self.quota, self.balance = mine.plan, mine.quota, mine.balance
        self.free_daily, self.free_left = mine.free_daily, mine.free_left
        self.today_tokens, self.today_charge = mine.today_tokens, mine.today_charge
        self.month_tokens, self.month_charge = mine.month_tokens, mine.month_charge
        self.by_model = [ModelUsage(m.model, m.calls, m.tokens, m.charge) for m in mine.by_model]
        self.days = [{"day": str(d["day"]), "tokens": int(str(d["tokens"]))} for d in mine.days]
        self.has_usage = any(d["tokens"] for d in self.days) or bool(self.by_model)
        self.estimated = mine.estimated
        self.loaded = True

    @rx.event
    async def redeem(self, form: dict):
        """Redeems the typed code; says what was credited, or why not (the code stays typed)."""
        user_id = await self._user_id()
        if user_id is None:
            return
        lang = await lang_of(self)
        code = str(form.get("code", ""))
        try:
            await _guard().check(user_id)
            got: credits.Credit = await in_session(
                offers.redeem, settings=get_settings(), user_id=user_id, raw_code=code
            )
        except InvalidInput as exc:
            if exc.reason in _WRONG:
                await _guard().wrong(user_id)
            self.redeem_result = ""
            self.redeem_error = error_text(exc, lang)
            return
        parts = []
        if got.amount:
            parts.append(translate("usage.redeem.units", lang).format(value=got.amount))
        if got.plan_days:
            parts.append(
                translate("usage.redeem.plan", lang).format(value=got.plan_name, days=got.plan_days)
            )
        self.redeem_error = ""
        joined = translate("usage.redeem.and", lang).join(parts)
        self.redeem_result = translate("usage.redeem.done", lang).format(value=joined)
        self.redeem_key += 1  # a fresh, empty box
        await self.load()
