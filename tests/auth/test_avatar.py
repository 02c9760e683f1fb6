"""Letter avatars: not 「微」 for every WeChat user, and a colour per user (issue 21 item 9)."""

from __future__ import annotations

import colorsys
import re

from chatapp.auth.avatar import avatar_colour, avatar_text


def test_default_nicknames_show_their_own_suffix_not_wei():
    assert avatar_text("微信用户1a2b") == "2B"
    assert avatar_text("微信用户9f00") == "00"
    assert avatar_text("微信用户1a2b") != avatar_text("微信用户77cd")


def test_a_chosen_nickname_shows_its_initial():
    assert avatar_text("张三") == "张"
    assert avatar_text("alice") == "A"
    assert avatar_text("") == "我"
    assert avatar_text("微微") == "微"  # a real name that starts with 微 keeps it


def _contrast_with_white(css: str) -> float:
    h, s, lightness = (float(x) for x in re.findall(r"[\d.]+", css))
    rgb = colorsys.hls_to_rgb(h / 360, lightness / 100, s / 100)
    lum = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    y = 0.2126 * lum[0] + 0.7152 * lum[1] + 0.0722 * lum[2]
    return 1.05 / (y + 0.05)


def test_colours_are_stable_distinct_and_readable():
    names = [f"微信用户{i:04x}" for i in range(40)]
    colours = [avatar_colour(n) for n in names]
    assert colours == [avatar_colour(n) for n in names]
    assert len(set(colours)) > 30
    assert min(_contrast_with_white(c) for c in colours) >= 4.5
