# pyright: reportAttributeAccessIssue=false, reportReturnType=false
"""Settings → 「用量 / Usage」: plan, balance, free units left today, today and this month, by model,
a 30-day chart, the "部分数字为估算" note when estimated, and the redeem-code box."""

from __future__ import annotations

import reflex as rx

from chatapp.components.admin_parts import AXIS, grid, outcome, tooltip
from chatapp.components.text import t
from chatapp.state.usage import ModelUsage, UsageState

S = UsageState


def _figure(label_key: str, value, figure_id: str) -> rx.Component:
    return rx.box(
        rx.text(value, class_name="stat-value", id=figure_id),
        rx.text(t(label_key), class_name="stat-label"),
        class_name="stat-tile",
    )


def _model(m: rx.Var[ModelUsage]) -> rx.Component:
    return rx.el.tr(
        rx.el.td(m.model),
        rx.el.td(m.calls, class_name="num"),
        rx.el.td(m.tokens, class_name="num"),
        rx.el.td(m.charge, class_name="num"),
    )


def _chart() -> rx.Component:
    return rx.cond(
        S.has_usage,
        rx.box(
            rx.recharts.bar_chart(
                grid(),
                rx.recharts.x_axis(data_key="day", interval="preserveStartEnd", **AXIS),
                rx.recharts.y_axis(width=48, **AXIS),
                tooltip(),
                rx.recharts.bar(
                    data_key="tokens", fill="#30a46c", radius=3, name=t("usage.col.tokens")
                ),
                data=S.days,
                width="100%",
                height=200,
            ),
            class_name="chart-box",
            id="usage-chart",
        ),
        rx.text(t("admin.empty.usage"), class_name="hint empty-chart", id="usage-empty"),
    )


def _redeem() -> rx.Component:
    return rx.form(
        rx.text(t("usage.redeem"), class_name="field-label"),
        rx.flex(
            rx.input(
                name="code",
                placeholder="ABCD-EFGH-JKMN-PQRS",
                aria_label=t("usage.redeem"),
                max_length=64,
                auto_complete="off",
                id="redeem-code",
                class_name="mono",
                flex="1",
                key=S.redeem_key,
            ),
            rx.button(t("usage.redeem.submit"), type="submit", id="redeem-submit"),
            gap="2",
        ),
        outcome(S.redeem_result, S.redeem_error, "redeem"),
        on_submit=S.redeem,
        # A refused code stays in the box; a redeemed one empties it (`redeem_key`).
        reset_on_submit=False,
        class_name="redeem-form",
    )


def usage_card() -> rx.Component:
    """The card, placed on the settings page."""
    return rx.box(
        rx.heading(t("usage.title"), as_="h3", size="3", class_name="card-title"),
        rx.box(
            _figure("usage.plan", S.plan, "usage-plan"),
            _figure("usage.balance", S.balance, "usage-balance"),
            _figure(
                "usage.free_left",
                rx.cond(
                    S.quota,
                    S.free_left.to_string() + " / " + S.free_daily.to_string(),
                    t("usage.no_quota"),
                ),
                "usage-free-left",
            ),
            _figure("usage.today", S.today_tokens, "usage-today"),
            _figure("usage.month", S.month_tokens, "usage-month"),
            class_name="stat-grid",
        ),
        rx.cond(
            S.estimated, rx.text(t("usage.estimated"), class_name="hint", id="usage-estimated")
        ),
        _chart(),
        rx.cond(
            S.by_model.length() > 0,
            rx.box(
                rx.el.table(
                    rx.el.thead(
                        rx.el.tr(
                            rx.el.th(t("usage.col.model")),
                            rx.el.th(t("usage.col.calls"), class_name="num"),
                            rx.el.th(t("usage.col.tokens"), class_name="num"),
                            rx.el.th(t("usage.col.charge"), class_name="num"),
                        )
                    ),
                    rx.el.tbody(rx.foreach(S.by_model, _model)),
                    class_name="admin-table compact",
                    id="usage-by-model",
                ),
                class_name="table-wrap",
            ),
        ),
        _redeem(),
        class_name="settings-card",
        id="usage-card",
    )
