# pyright: reportAttributeAccessIssue=false, reportReturnType=false
"""The 审计 tab: the audit log newest first, an action filter, older pages, CSV export."""

from __future__ import annotations

import reflex as rx

from chatapp.components.text import t
from chatapp.state.admin_audit import ACTIONS, AdminAuditState, EventItem

S = AdminAuditState


def _event(e: rx.Var[EventItem]) -> rx.Component:
    return rx.el.tr(
        rx.el.td(e.at, class_name="muted-cell nowrap"),
        rx.el.td(e.actor),
        rx.el.td(rx.code(e.action, variant="ghost")),
        rx.el.td(e.target),
        rx.el.td(e.detail, class_name="detail-cell mono"),
    )


def audit_tab() -> rx.Component:
    """The tab's content."""
    return rx.box(
        rx.flex(
            rx.select.root(
                rx.select.trigger(
                    aria_label=t("admin.audit.filter"), id="audit-filter", min_width="180px"
                ),
                rx.select.content(
                    rx.select.item(t("admin.audit.all"), value="all"),
                    *(rx.select.item(a, value=a) for a in ACTIONS if a),
                    position="popper",
                ),
                value=S.action,
                on_change=S.set_action,
            ),
            rx.box(flex="1"),
            rx.button(
                rx.icon("download", size=16),
                t("admin.audit.export"),
                variant="soft",
                on_click=S.export,
                id="audit-export",
            ),
            gap="2",
            align="center",
            class_name="admin-toolbar",
        ),
        rx.cond(
            S.error != "", rx.callout(S.error, icon="triangle-alert", color_scheme="red", size="1")
        ),
        rx.box(
            rx.box(
                rx.el.table(
                    rx.el.thead(
                        rx.el.tr(
                            rx.el.th(t("admin.audit.time")),
                            rx.el.th(t("admin.audit.actor")),
                            rx.el.th(t("admin.audit.action")),
                            rx.el.th(t("admin.audit.target")),
                            rx.el.th(t("admin.audit.detail")),
                        )
                    ),
                    rx.el.tbody(rx.foreach(S.events, _event)),
                    class_name="admin-table",
                    id="audit-table",
                ),
                class_name="table-wrap",
            ),
            rx.cond(S.events.length() == 0, rx.text(t("admin.audit.none"), class_name="hint")),
            rx.cond(
                S.has_more,
                rx.flex(
                    rx.button(
                        t("admin.audit.older"), variant="soft", on_click=S.older, id="audit-older"
                    ),
                    class_name="btn-row end",
                ),
            ),
            class_name="settings-card",
        ),
        class_name="admin-tab",
    )
