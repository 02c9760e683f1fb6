"""UI preferences every page needs before login: language and theme, kept in cookies.

Logged-in users' preferences are also persisted server-side (settings state copies them here).
"""

from __future__ import annotations

import reflex as rx

from chatapp.core import timefmt
from chatapp.i18n import normalise_language

ONE_YEAR = 365 * 24 * 3600


class UIState(rx.State):
    """Language ("zh" | "en") and theme ("light" | "dark" | "system")."""

    lang: str = rx.Cookie("zh", name="chatapp_lang", max_age=ONE_YEAR, same_site="lax")
    # The browser's time zone (IANA name), set by assets/time_zone.js; "" unknown (China time).
    tz: str = rx.Cookie("", name="chatapp_tz", max_age=ONE_YEAR, same_site="lax")

    @rx.event
    def set_time_zone(self, zone: str):
        """The browser's time zone (IANA name), sent by `zone_script` on every signed-in page:
        the cookie assets/time_zone.js sets may arrive after the page's first event."""
        if isinstance(zone, str) and zone != self.tz and timefmt.zone_info(zone).key == zone:
            self.tz = zone
        timefmt.use_zone(self.tz)

    @rx.event
    def set_language(self, lang: str):
        """Switches the UI language."""
        self.lang = normalise_language(lang)


def zone_script() -> rx.event.EventSpec:
    """Asks the browser its time zone and hands it to `UIState.set_time_zone`."""
    return rx.call_script(
        "Intl.DateTimeFormat().resolvedOptions().timeZone || ''",
        callback=UIState.set_time_zone,
    )
