# pyright: reportAttributeAccessIssue=false, reportReturnType=false
"""The 套餐 tab: the plans as cards, and the create / edit form with field-by-field errors."""

from __future__ import annotations

import reflex as rx

from chatapp.components.admin_parts import outcome
from chatapp.components.text import t
from chatapp.state.admin_plans import AdminPlansState, PlanItem

S = AdminPlansState
FIELDS = (
    # (name, label key, hint key, wide)
    ("name", "admin.plans.name", "", False),
    ("daily_free", "admin.plans.daily_free", "admin.plans.daily_free.hint", False),
    ("models", "admin.plans.models", "admin.plans.models.hint", True),
    ("multipliers", "admin.plans.multipliers", "admin.plans.multipliers.hint", True),
    ("sends_per_minute", "admin.plans.sends_per_minute", "admin.plans.zero.hint", False),
    ("max_message_chars", "admin.plans.max_message_chars", "admin.plans.zero.hint", False),
)


def _value(plan, name: str):
    """The edited plan's value of a field (a Var of the state's `editing`)."""
    return getattr(plan, name)


def _input(name: str, label_key: str, hint_key: str, wide: bool) -> rx.Component:
    bad = S.error_field == name
    return rx.el.label(
        rx.text(t(label_key), class_name="field-label"),
        rx.input(
            name=name,
            default_value=_value(S.editing, name),
            max_length=2000 if wide else 64,
            id=f"plan-{name}",
            color_scheme=rx.cond(bad, "red", "gray"),
            aria_invalid=rx.cond(bad, "true", "false"),
            class_name=rx.cond(bad, "invalid", ""),
        ),
        rx.cond(
            bad,
            rx.text(S.error, class_name="field-error", id=f"plan-{name}-error"),
            rx.text(t(hint_key), class_name="hint") if hint_key else rx.fragment(),
        ),
        class_name="field wide" if wide else "field",
    )


def _form() -> rx.Component:
    return rx.box(
        rx.heading(
            rx.cond(S.editing.id == 0, t("admin.plans.new"), t("admin.plans.edit")),
            as_="h3",
            size="3",
            class_name="card-title",
        ),
        rx.form(
            rx.box(*(_input(*f) for f in FIELDS), class_name="form-grid"),
            rx.cond(
                (S.error != "") & (S.error_field == ""),
                rx.callout(
                    S.error,
                    icon="triangle-alert",
                    color_scheme="red",
                    size="1",
                    id="plan-error",
                    role="alert",
                ),
            ),
            rx.flex(
                rx.button(
                    t("common.cancel"),
                    type="button",
                    variant="soft",
                    color_scheme="gray",
                    on_click=S.close_form,
                ),
                rx.button(t("common.save"), type="submit", color_scheme="green", id="plan-save"),
                class_name="btn-row end",
            ),
            on_submit=S.save,
            reset_on_submit=False,
            key=S.form_key,
        ),
        class_name="settings-card",
        id="plan-form",
    )


def _chip(label_key: str, value) -> rx.Component:
    return rx.box(
        rx.text(t(label_key), class_name="stat-label"),
        rx.text(value, class_name="detail-value"),
        class_name="detail-figure",
    )


def _card(plan: rx.Var[PlanItem]) -> rx.Component:
    return rx.box(
        rx.flex(
            rx.heading(plan.name, as_="h3", size="3"),
            rx.cond(plan.is_default, rx.badge(t("admin.plans.default"), color_scheme="green")),
            rx.box(flex="1"),
            rx.cond(
                plan.is_default,
                rx.fragment(),
                rx.button(
                    t("admin.plans.make_default"),
                    size="1",
                    variant="ghost",
                    on_click=S.make_default(plan.id),
                    id="plan-default-" + plan.id.to_string(),
                ),
            ),
            rx.button(
                t("common.edit"),
                size="1",
                variant="soft",
                on_click=S.edit_plan(plan.id),
                id="plan-edit-" + plan.id.to_string(),
            ),
            align="center",
            gap="2",
        ),
        rx.box(
            _chip(
                "admin.plans.daily_free",
                rx.cond(plan.daily_free == "", t("admin.plans.no_quota"), plan.daily_free),
            ),
            _chip(
                "admin.plans.models",
                rx.cond(plan.models == "", t("admin.plans.all_models"), plan.models),
            ),
            _chip(
                "admin.plans.multipliers", rx.cond(plan.multipliers == "", "—", plan.multipliers)
            ),
            _chip("admin.plans.sends_per_minute", plan.sends_per_minute),
            _chip("admin.plans.max_message_chars", plan.max_message_chars),
            class_name="detail-grid",
        ),
        class_name="settings-card plan-card",
        id="plan-card-" + plan.id.to_string(),
    )


def plans_tab() -> rx.Component:
    """The tab's content."""
    return rx.box(
        rx.flex(
            rx.text(t("admin.plans.hint"), class_name="hint", flex="1"),
            rx.button(
                rx.icon("plus", size=16), t("admin.plans.new"), on_click=S.new_plan, id="plan-new"
            ),
            gap="3",
            align="center",
            class_name="admin-toolbar",
        ),
        rx.cond(S.form_open, rx.fragment(), outcome(S.result, S.error, "plans")),
        rx.cond(S.form_open, _form()),
        rx.foreach(S.plans, _card),
        class_name="admin-tab",
    )
