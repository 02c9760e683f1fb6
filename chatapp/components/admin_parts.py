# pyright: reportAttributeAccessIssue=false, reportReturnType=false
"""Pieces every tab of `/admin` and the usage card share: a figure tile, a chart's frame with its
empty state, chart axes and tooltip that read in both themes, and the inline outcome line."""

from __future__ import annotations

from typing import Any

import reflex as rx

from chatapp.components.text import t

# Radix theme tokens: the axes, grid and tooltip follow light and dark mode.
AXIS = {"stroke": "var(--gray-11)", "tick_line": False, "font_size": 12, "min_tick_gap": 14}
TOOLTIP_STYLE = {
    "background": "var(--color-panel-solid)",
    "border": "1px solid var(--gray-a6)",
    "borderRadius": "8px",
    "color": "var(--gray-12)",
}


def stat(label_key: str, value: Any, tile_id: str) -> rx.Component:
    """A headline figure with its label."""
    return rx.box(
        rx.text(value, class_name="stat-value", id=tile_id),
        rx.text(t(label_key), class_name="stat-label"),
        class_name="stat-tile",
    )


def chart_frame(
    title_key: str, chart: rx.Component, *, has_data: Any, frame_id: str
) -> rx.Component:
    """A titled card holding `chart`, or the "nothing yet" line when `has_data` is false."""
    return rx.box(
        rx.heading(t(title_key), as_="h3", size="3", class_name="card-title"),
        rx.cond(
            has_data,
            rx.box(chart, class_name="chart-box"),
            rx.text(t("admin.empty.usage"), class_name="hint empty-chart"),
        ),
        class_name="settings-card chart-card",
        id=frame_id,
    )


def tooltip() -> rx.Component:
    """The hover tooltip, themed."""
    return rx.recharts.graphing_tooltip(
        content_style=TOOLTIP_STYLE,
        item_style={"color": "var(--gray-12)"},
        label_style={"color": "var(--gray-11)"},
        cursor={"fill": "var(--gray-a3)"},
    )


def grid() -> rx.Component:
    """The chart's faint horizontal lines."""
    return rx.recharts.cartesian_grid(stroke="var(--gray-a5)", vertical=False)


def outcome(result: Any, error: Any, prefix: str) -> rx.Component:
    """The last action's inline answer: green when done, red with the reason when refused."""
    return rx.fragment(
        rx.cond(
            result != "",
            rx.callout(result, icon="check", color_scheme="green", size="1", id=f"{prefix}-result"),
        ),
        rx.cond(
            error != "",
            rx.callout(
                error,
                icon="triangle-alert",
                color_scheme="red",
                size="1",
                id=f"{prefix}-error",
                role="alert",
            ),
        ),
    )


def field(label_key: str, control: rx.Component, *, wide: bool = False) -> rx.Component:
    """A labelled form field."""
    return rx.el.label(
        rx.text(t(label_key), class_name="field-label"),
        control,
        class_name="field wide" if wide else "field",
    )
