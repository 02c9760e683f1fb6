# pyright: reportAttributeAccessIssue=false, reportReturnType=false
# (Reflex resolves fields of Vars like `role.name` at runtime; pyright cannot see them.)
"""A role's avatar: an emoji in a tile, or an image — loaded only from this site or an allowed
host (assets/image_policy.jsx; an imported role's avatar from anywhere else shows a placeholder
and is never requested)."""

from __future__ import annotations

from typing import Any

import reflex as rx


class AvatarImage(rx.Component):
    """Wraps the local AvatarImage React component (assets/image_policy.jsx)."""

    library = "$/public/image_policy.jsx"
    tag = "AvatarImage"

    src: rx.Var[str]


def role_avatar(avatar: Any, is_image: Any, size: str = "md") -> rx.Component:
    """The avatar tile; `size` is "sm", "md" or "lg" (see assets/pages.css)."""
    return rx.box(
        rx.cond(is_image, AvatarImage.create(src=avatar), avatar),
        class_name=f"role-avatar {size}",
    )
