"""Human time labels for lists and bubbles, in the UI language (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

# Users are Chinese-speaking first; show times in China Standard Time unless told otherwise.
DEFAULT_UTC_OFFSET_H = 8


def to_local(ts: datetime, offset_h: int = DEFAULT_UTC_OFFSET_H) -> datetime:
    """A stored UTC time (aware, or naive meaning UTC) shifted to local wall-clock time."""
    if ts.tzinfo is not None:
        ts = ts.astimezone(UTC).replace(tzinfo=None)
    return ts + timedelta(hours=offset_h)


def list_label(ts: datetime, now: datetime, lang: str = "zh") -> str:
    """Short label for the conversation list: 14:03 / 昨天 / 11/27 / 2025/11/27."""
    local, today = to_local(ts), to_local(now)
    if local.date() == today.date():
        return local.strftime("%H:%M")
    if local.date() == (today - timedelta(days=1)).date():
        return "Yesterday" if lang == "en" else "昨天"
    if local.year == today.year:
        return f"{local.month}/{local.day}"
    return f"{local.year}/{local.month}/{local.day}"


def bubble_label(ts: datetime, now: datetime, lang: str = "zh") -> str:
    """Timestamp shown above a message bubble."""
    local, today = to_local(ts), to_local(now)
    if local.date() == today.date():
        return local.strftime("%H:%M")
    return f"{list_label(ts, now, lang)} {local.strftime('%H:%M')}"
