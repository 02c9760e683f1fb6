# pyright: reportAttributeAccessIssue=false, reportReturnType=false
# (Reflex resolves fields of Vars like `role.name` at runtime; pyright cannot see them.)
"""A role's avatar: an emoji in a tile, or an image."""

from __future__ import annotations

from typing import Any

import reflex as rx


def role_avatar(avatar: Any, is_image: Any, size: str = "md") -> rx.Component:
    """The avatar tile; `size` is "sm", "md" or "lg" (see assets/pages.css)."""
    return rx.box(
        rx.cond(is_image, rx.image(src=avatar, alt="", loading="lazy"), avatar),
        class_name=f"role-avatar {size}",
    )
