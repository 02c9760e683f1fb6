"""Time labels follow the browser's zone (issue 21 item 9), China time when it is unknown."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from chatapp.core import timefmt
from chatapp.core.timefmt import bubble_label, list_label, to_local, use_zone

NOW = datetime(2026, 12, 4, 3, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "label"),
    [
        ("Asia/Shanghai", "11:30"),
        ("America/New_York", "22:30"),  # still the previous day there
        ("Europe/Berlin", "04:30"),
        ("Asia/Kolkata", "09:00"),
        ("UTC", "03:30"),
    ],
)
def test_a_time_shows_in_the_given_zone(zone, label):
    assert to_local(NOW, zone).strftime("%H:%M") == label
    assert bubble_label(NOW, NOW, "zh", zone) == label


def test_yesterday_is_the_zones_yesterday():
    earlier = datetime(2026, 12, 4, 1, 0, tzinfo=UTC)
    # 09:00 in Shanghai (same day as 11:30), 20:00 the day before in New York (same day as 22:30)
    assert list_label(earlier, NOW, "en", "Asia/Shanghai") == "09:00"
    assert list_label(earlier, NOW, "en", "America/New_York") == "20:00"
    late = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)  # 23:00 Dec 3 Shanghai, 10:00 Dec 3 New York
    assert list_label(late, NOW, "en", "Asia/Shanghai") == "Yesterday"
    assert list_label(late, NOW, "en", "America/New_York") == "10:00"


@pytest.mark.parametrize("bad", [None, "", "Mars/Olympus", "../../etc/passwd", "/etc/x", "x" * 99])
def test_an_unknown_zone_means_china_time(bad):
    assert timefmt.zone_info(bad).key == "Asia/Shanghai"
    assert to_local(NOW, bad).strftime("%H:%M") == "11:30"


def test_use_zone_sets_the_zone_of_this_context_and_worker_threads_see_it():
    async def one(zone: str) -> str:
        use_zone(zone)
        await asyncio.sleep(0)
        return await asyncio.to_thread(lambda: bubble_label(NOW, NOW))

    async def both() -> list[str]:
        return list(await asyncio.gather(one("America/New_York"), one("Asia/Tokyo")))

    assert asyncio.run(both()) == ["22:30", "12:30"]
    assert timefmt.current_zone() == "Asia/Shanghai"  # the tasks' zones stayed theirs


def test_naive_times_mean_utc():
    assert to_local(NOW.replace(tzinfo=None), "Asia/Tokyo").hour == 12
