"""Human time labels for lists and bubbles, in the UI language and the browser's time zone (pure).

The zone is the browser's (assets/time_zone.js puts `Intl…resolvedOptions().timeZone` in the
`chatapp_tz` cookie; `state.auth` calls `use_zone` with it on each event, so the labels built
while handling that event, in worker threads too, follow it). Unknown or missing: China time.
"""

from __future__ import annotations

from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# Users are Chinese-speaking first; show times in China Standard Time unless told otherwise.
DEFAULT_ZONE = "Asia/Shanghai"
_zone: ContextVar[str] = ContextVar("chatapp_time_zone", default=DEFAULT_ZONE)


@lru_cache(maxsize=256)
def zone_info(name: str | None) -> ZoneInfo:
    """The zone named `name` (an IANA name such as "America/New_York"); China time if unknown."""
    if name and len(name) <= 64 and ".." not in name and not name.startswith("/"):
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            pass
    return ZoneInfo(DEFAULT_ZONE)


def use_zone(name: str | None) -> str:
    """Makes `name` the zone of the labels built in this context (task); returns the zone used."""
    zone = zone_info(name).key
    if _zone.get() != zone:
        _zone.set(zone)
    return zone


def current_zone() -> str:
    """The zone labels are built in, in this context."""
    return _zone.get()


def to_local(ts: datetime, zone: str | None = None) -> datetime:
    """A stored UTC time (aware, or naive meaning UTC) as naive wall-clock time in `zone` (default:
    this context's zone, see `use_zone`)."""
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return ts.astimezone(zone_info(zone or _zone.get())).replace(tzinfo=None)


def list_label(ts: datetime, now: datetime, lang: str = "zh", zone: str | None = None) -> str:
    """Short label for the conversation list: 14:03 / 昨天 / 11/27 / 2025/11/27."""
    local, today = to_local(ts, zone), to_local(now, zone)
    if local.date() == today.date():
        return local.strftime("%H:%M")
    if local.date() == (today - timedelta(days=1)).date():
        return "Yesterday" if lang == "en" else "昨天"
    if local.year == today.year:
        return f"{local.month}/{local.day}"
    return f"{local.year}/{local.month}/{local.day}"


def bubble_label(ts: datetime, now: datetime, lang: str = "zh", zone: str | None = None) -> str:
    """Timestamp shown above a message bubble."""
    local = to_local(ts, zone)
    if local.date() == to_local(now, zone).date():
        return local.strftime("%H:%M")
    return f"{list_label(ts, now, lang, zone)} {local.strftime('%H:%M')}"
