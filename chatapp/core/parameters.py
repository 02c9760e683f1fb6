"""The model parameters a conversation (or a role) may set, their allowed ranges, and the operator's
ceilings on them (pure).

The one place these ranges live: the chat's ⚙ form (`parse_form`), role validation
(`roles.schema`, against `ABSOLUTE`), role defaults copied into a conversation and the model request
(`effective`, which clamps) all read them from here.

| name           | kind    | allowed                                  | when unset                    |
|----------------|---------|------------------------------------------|-------------------------------|
| temperature    | number  | 0–2                                      | 0.7 (the conversation default)|
| top_p          | number  | 0–1                                      | not sent                      |
| max_tokens     | integer | 1–`Ceilings.max_tokens` (0 = unset)      | `Ceilings.default_max_tokens` |
| context_window | integer | 1–`Ceilings.context_window`              | 20                            |
| token_budget   | integer | 256–`Ceilings.token_budget`              | 8000                          |

`ABSOLUTE` is the widest range any deployment allows; an operator's ceiling (`CHAT_MAX_*`) may
only lower its top. A value stored before a ceiling was lowered, or a role's default above it, is
clamped when the request is built: nothing above a ceiling ever goes upstream.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chatapp.errors import InvalidInput


@dataclass(frozen=True)
class Range:
    """The closed interval [lo, hi] a parameter may take."""

    lo: float
    hi: float
    integer: bool = False

    def clamp(self, value: float) -> float:
        """`value` moved into the range (NaN goes to the bottom)."""
        if math.isnan(value):
            return self.lo
        return min(max(value, self.lo), self.hi)


ABSOLUTE: dict[str, Range] = {
    "temperature": Range(0, 2),
    "top_p": Range(0, 1),
    "max_tokens": Range(1, 128_000, integer=True),
    "context_window": Range(1, 200, integer=True),
    "token_budget": Range(256, 1_000_000, integer=True),
}
NAMES = tuple(ABSOLUTE)
# Where the operator's ceiling comes from (`Ceilings` field = parameter name), and its default.
# bandit B105 reads "token" in a key as a password: these are numbers of model tokens.
CEILING_DEFAULTS = {"context_window": 50, "token_budget": 32_000, "max_tokens": 8192}  # nosec B105
# Used when a stored row has no value (the model's defaults in `models.Conversation`).
FALLBACK = {"temperature": 0.7, "context_window": 20, "token_budget": 8000}  # nosec B105


@dataclass(frozen=True)
class Ceilings:
    """The operator's upper bounds (`CHAT_MAX_CONTEXT_MESSAGES`, `CHAT_MAX_TOKEN_BUDGET`,
    `CHAT_MAX_REPLY_TOKENS`) and the reply length sent when a conversation sets none
    (`CHAT_DEFAULT_REPLY_TOKENS`; None sends none: the model's own default)."""

    context_window: int = CEILING_DEFAULTS["context_window"]
    token_budget: int = CEILING_DEFAULTS["token_budget"]
    max_tokens: int = CEILING_DEFAULTS["max_tokens"]
    default_max_tokens: int | None = None

    def ranges(self) -> dict[str, Range]:
        """Every parameter's range under these ceilings."""
        out = dict(ABSOLUTE)
        for name in CEILING_DEFAULTS:
            base = ABSOLUTE[name]
            out[name] = Range(base.lo, min(base.hi, getattr(self, name)), base.integer)
        return out


class ParameterError(InvalidInput):
    """A parameter the ⚙ form sent is not a number in its range; `detail` names it."""

    def __init__(self, name: str, allowed: Range) -> None:
        super().__init__("parameter_out_of_range", name)
        self.allowed = allowed


def check_ceiling(name: str, value: int) -> str | None:
    """Why `value` cannot be the ceiling of `name`, or None when it can (start-up validation)."""
    base = ABSOLUTE[name]
    if not base.lo <= value <= base.hi:
        return f"must be from {_fmt(base.lo)} to {_fmt(base.hi)}, got {value}"
    return None


def parse(name: str, raw: Any, ceilings: Ceilings) -> float | int | None:
    """One value from the ⚙ form, checked against its range under `ceilings`.

    `max_tokens` may be "" or 0: unset (None). Anything else must be a number in range, a whole
    number for integer parameters.

    Raises:
        ParameterError: not a number, not whole, or outside the range.
    """
    allowed = ceilings.ranges()[name]
    text = raw.strip() if isinstance(raw, str) else raw
    if name == "max_tokens" and text in ("", None, 0, "0"):
        return None
    if isinstance(text, bool) or text is None or text == "":
        raise ParameterError(name, allowed)
    try:
        value = float(text)
    except (TypeError, ValueError) as exc:
        raise ParameterError(name, allowed) from exc
    if not math.isfinite(value) or not allowed.lo <= value <= allowed.hi:
        raise ParameterError(name, allowed)
    if allowed.integer:
        if value != int(value):
            raise ParameterError(name, allowed)
        return int(value)
    return round(value, 2)


def parse_form(form: Mapping[str, Any], ceilings: Ceilings) -> dict[str, Any]:
    """The parameters present in `form`, checked (absent ones are left as they are).

    Raises:
        ParameterError: for the first bad field, in table order.
    """
    return {name: parse(name, form[name], ceilings) for name in NAMES if name in form}


def clamp(name: str, value: Any, ceilings: Ceilings) -> Any:
    """A stored value as it may be used now: inside its range under `ceilings`.

    None stays None (not sent), except `max_tokens`, which becomes the operator's default reply
    length; a stored 0 or None max_tokens is unset too. A value that is not a number becomes the
    fallback.
    """
    allowed = ceilings.ranges()[name]
    if name == "max_tokens" and not value:
        return ceilings.default_max_tokens
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float(FALLBACK.get(name, allowed.lo))
    number = allowed.clamp(number)
    return int(number) if allowed.integer else number


def effective(source: Any, ceilings: Ceilings) -> dict[str, Any]:
    """The five parameters of a conversation (any object with those attributes, or a mapping)
    as they may be used now, clamped to `ceilings`. Missing required ones take `FALLBACK`."""
    get = source.get if isinstance(source, Mapping) else lambda n: getattr(source, n, None)
    out: dict[str, Any] = {}
    for name in NAMES:
        value = get(name)
        if value is None and name in FALLBACK:
            value = FALLBACK[name]
        out[name] = clamp(name, value, ceilings)
    return out


def _fmt(number: float) -> str:
    return str(int(number)) if number == int(number) else f"{number:g}"


def describe(exc: ParameterError, lang: str) -> str:
    """What the user reads, e.g. "上下文消息数必须是 1–50 之间的整数"."""
    from chatapp.i18n import translate

    allowed = exc.allowed
    key = "chat.param.whole" if allowed.integer else "chat.param.range"
    hint = translate("chat.param.unset_hint", lang) if exc.detail == "max_tokens" else ""
    return (
        translate(key, lang)
        .replace("{field}", translate(f"chat.{exc.detail}", lang))
        .replace("{lo}", _fmt(allowed.lo))
        .replace("{hi}", _fmt(allowed.hi))
        .replace("{hint}", hint)
    )
