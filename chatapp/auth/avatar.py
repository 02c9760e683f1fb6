"""The letter avatar of a user without a picture: their nickname's initial, on a colour of its own.

Every WeChat user starts as 「微信用户」 + the last 4 characters of their openid (`accounts`), so the
nickname's first character would be 「微」 for everyone: for such a name the avatar shows the two
last characters instead. The colour is a stable hash of the nickname, so two users differ (pure).
"""

from __future__ import annotations

import hashlib

DEFAULT_PREFIX = "微信用户"


def avatar_text(nickname: str) -> str:
    """One or two characters: the nickname's initial, or the suffix of a default nickname."""
    name = (nickname or "").strip()
    if not name:
        return "我"
    if name.startswith(DEFAULT_PREFIX) and len(name) > len(DEFAULT_PREFIX):
        return name[-2:].upper()
    first = name[0]
    return first.upper() if first.isascii() else first


def avatar_colour(nickname: str) -> str:
    """A CSS background colour for the avatar, the same for the same nickname."""
    digest = hashlib.sha256((nickname or "").encode("utf-8")).digest()
    hue = int.from_bytes(digest[:2], "big") % 360
    return f"hsl({hue} 60% 30%)"  # dark enough for white text at every hue
