# pyright: reportAttributeAccessIssue=false, reportReturnType=false
"""The 兑换码 tab: make a batch, see its codes once (with the CSV download), and the batches."""

from __future__ import annotations

import reflex as rx

from chatapp.components.admin_parts import field, outcome
from chatapp.components.text import t
from chatapp.state.admin_codes import AdminCodesState, BatchItem, PlanOption

S = AdminCodesState


def _plan_option(o: rx.Var[PlanOption]) -> rx.Component:
    return rx.select.item(o.label, value=o.value)


def _form() -> rx.Component:
    return rx.box(
        rx.heading(t("admin.codes.new"), as_="h3", size="3", class_name="card-title"),
        rx.text(t("admin.codes.hint"), class_name="hint"),
        rx.form(
            rx.box(
                field("admin.codes.name", rx.input(name="name", max_length=64, id="codes-name")),
                field(
                    "admin.codes.count",
                    rx.input(
                        name="count",
                        default_value="10",
                        max_length=6,
                        id="codes-count",
                        input_mode="numeric",
                    ),
                ),
                field(
                    "admin.codes.amount",
                    rx.input(name="amount", max_length=13, id="codes-amount", input_mode="numeric"),
                ),
                field(
                    "admin.codes.expires",
                    rx.input(name="expires", type="date", id="codes-expires"),
                ),
                field(
                    "admin.codes.plan",
                    rx.select.root(
                        rx.select.trigger(aria_label=t("admin.codes.plan"), id="codes-plan"),
                        rx.select.content(
                            rx.foreach(S.plan_options, _plan_option), position="popper"
                        ),
                        value=S.plan_choice,
                        on_change=S.choose_plan,
                    ),
                ),
                field(
                    "admin.codes.plan_days",
                    rx.input(
                        name="plan_days", max_length=5, id="codes-plan-days", input_mode="numeric"
                    ),
                ),
                class_name="form-grid",
            ),
            outcome(S.result, S.error, "codes"),
            rx.flex(
                rx.button(
                    t("admin.codes.create"), type="submit", color_scheme="green", id="codes-create"
                ),
                class_name="btn-row end",
            ),
            on_submit=S.create,
            reset_on_submit=False,
            key=S.form_key,
        ),
        class_name="settings-card",
    )


def _new_codes() -> rx.Component:
    return rx.cond(
        S.new_codes.length() > 0,
        rx.box(
            rx.heading(t("admin.codes.shown_once"), as_="h3", size="3", class_name="card-title"),
            rx.text(t("admin.codes.shown_once.hint"), class_name="hint"),
            rx.box(
                rx.foreach(S.new_codes, lambda c: rx.el.li(c)),
                class_name="code-list mono",
                id="codes-new",
                as_="ul",
            ),
            rx.flex(
                rx.button(
                    t("admin.codes.hide"),
                    variant="soft",
                    color_scheme="gray",
                    on_click=S.hide_codes,
                ),
                rx.button(
                    rx.icon("download", size=16),
                    t("admin.codes.download"),
                    on_click=S.download,
                    id="codes-download",
                ),
                class_name="btn-row end",
            ),
            class_name="settings-card",
        ),
    )


def _batch(b: rx.Var[BatchItem]) -> rx.Component:
    return rx.el.tr(
        rx.el.td(b.name),
        rx.el.td(b.value),
        rx.el.td(rx.cond(b.expires == "", "—", b.expires)),
        rx.el.td(
            b.used.to_string() + " / " + b.total.to_string(),
            class_name="num",
            id="batch-used-" + b.id.to_string(),
        ),
    )


def codes_tab() -> rx.Component:
    """The tab's content."""
    return rx.box(
        _form(),
        _new_codes(),
        rx.box(
            rx.heading(t("admin.codes.batches"), as_="h3", size="3", class_name="card-title"),
            rx.cond(
                S.batches.length() > 0,
                rx.box(
                    rx.el.table(
                        rx.el.thead(
                            rx.el.tr(
                                rx.el.th(t("admin.codes.name")),
                                rx.el.th(t("admin.codes.value")),
                                rx.el.th(t("admin.codes.expires")),
                                rx.el.th(t("admin.codes.used"), class_name="num"),
                            )
                        ),
                        rx.el.tbody(rx.foreach(S.batches, _batch)),
                        class_name="admin-table",
                        id="codes-batches",
                    ),
                    class_name="table-wrap",
                ),
                rx.text(t("admin.codes.none"), class_name="hint"),
            ),
            class_name="settings-card",
        ),
        class_name="admin-tab",
    )
