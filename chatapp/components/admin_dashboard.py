# pyright: reportAttributeAccessIssue=false, reportReturnType=false, reportIndexIssue=false
"""The 概览 tab: headline figures, then the charts (tokens per day stacked by model, calls per
hour, top users, refusals by rule, errors by provider), each with its empty state."""

from __future__ import annotations

import reflex as rx

from chatapp.components.admin_parts import AXIS, chart_frame, grid, stat, tooltip
from chatapp.state.admin import AdminState

HEIGHT = 260


def _stacked_bar(series: rx.Var[dict[str, str]]) -> rx.Component:
    return rx.recharts.bar(
        data_key=series["model"], name=series["model"], stack_id="tokens", fill=series["color"]
    )


def _tokens_by_day() -> rx.Component:
    return chart_frame(
        "admin.chart.tokens_by_day",
        rx.recharts.bar_chart(
            grid(),
            rx.recharts.x_axis(data_key="day", **AXIS),
            rx.recharts.y_axis(width=56, **AXIS),
            tooltip(),
            rx.recharts.legend(wrapper_style={"fontSize": "12px", "color": "var(--gray-11)"}),
            rx.foreach(AdminState.series, _stacked_bar),
            data=AdminState.tokens_by_day,
            width="100%",
            height=HEIGHT,
        ),
        has_data=AdminState.has_usage,
        frame_id="chart-tokens-by-day",
    )


def _simple_bars(
    title_key: str,
    data,
    x_key: str,
    y_key: str,
    frame_id: str,
    *,
    horizontal: bool = False,
    has_data=None,
) -> rx.Component:
    if horizontal:
        axes = [
            rx.recharts.x_axis(type_="number", **AXIS),
            rx.recharts.y_axis(data_key=x_key, type_="category", width=110, **AXIS),
        ]
    else:
        axes = [rx.recharts.x_axis(data_key=x_key, **AXIS), rx.recharts.y_axis(width=48, **AXIS)]
    return chart_frame(
        title_key,
        rx.recharts.bar_chart(
            grid(),
            *axes,
            tooltip(),
            rx.recharts.bar(data_key=y_key, fill="#30a46c", radius=3, max_bar_size=36),
            data=data,
            layout="vertical" if horizontal else "horizontal",
            width="100%",
            height=HEIGHT,
        ),
        has_data=data.length() > 0 if has_data is None else has_data,
        frame_id=frame_id,
    )


def dashboard_tab() -> rx.Component:
    """The tab's content."""
    return rx.box(
        rx.box(
            stat("admin.stat.active_today", AdminState.active_today, "stat-active-today"),
            stat("admin.stat.active_7d", AdminState.active_7d, "stat-active-7d"),
            stat("admin.stat.calls_today", AdminState.calls_today, "stat-calls-today"),
            stat("admin.stat.tokens_today", AdminState.tokens_today, "stat-tokens-today"),
            stat("admin.stat.errors_today", AdminState.errors_today, "stat-errors-today"),
            stat("admin.stat.ttft_p50", AdminState.ttft_p50, "stat-ttft-p50"),
            stat("admin.stat.ttft_p95", AdminState.ttft_p95, "stat-ttft-p95"),
            class_name="stat-grid",
        ),
        _tokens_by_day(),
        rx.box(
            _simple_bars(
                "admin.chart.calls_by_hour",
                AdminState.calls_by_hour,
                "hour",
                "messages",
                "chart-calls-by-hour",
                # 24 rows always (hours without calls are 0): empty when nothing was used.
                has_data=AdminState.has_usage,
            ),
            _simple_bars(
                "admin.chart.top_users",
                AdminState.top_users,
                "name",
                "tokens",
                "chart-top-users",
                horizontal=True,
            ),
            _simple_bars(
                "admin.chart.refusals",
                AdminState.refusals,
                "rule",
                "count",
                "chart-refusals",
                horizontal=True,
            ),
            _simple_bars(
                "admin.chart.errors",
                AdminState.errors,
                "label",
                "count",
                "chart-errors",
                horizontal=True,
            ),
            class_name="chart-grid",
        ),
        class_name="admin-tab",
    )
