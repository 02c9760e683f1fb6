# pyright: reportAttributeAccessIssue=false, reportReturnType=false
"""The operator console `/admin`: 概览, 用户, 套餐, 敏感词, 兑换码 and 审计 tabs, for admins only.

Anyone else sees the refusal and no data: the page's state fills only after the server has
checked that this user is an admin (`state.admin`), and each tab's trigger loads that tab through
the same check.
"""

from __future__ import annotations

import reflex as rx

from chatapp.components.admin_audit import audit_tab
from chatapp.components.admin_codes import codes_tab
from chatapp.components.admin_dashboard import dashboard_tab
from chatapp.components.admin_plans import plans_tab
from chatapp.components.admin_users import users_tab
from chatapp.components.admin_words import words_tab
from chatapp.components.layout import shell
from chatapp.components.text import t
from chatapp.state.admin import AdminState
from chatapp.state.admin_audit import AdminAuditState
from chatapp.state.admin_codes import AdminCodesState
from chatapp.state.admin_plans import AdminPlansState
from chatapp.state.admin_users import AdminUsersState
from chatapp.state.admin_words import AdminWordsState

TABS = (
    ("dashboard", "admin.tab.dashboard", dashboard_tab, AdminState.refresh),
    ("users", "admin.tab.users", users_tab, AdminUsersState.load),
    ("plans", "admin.tab.plans", plans_tab, AdminPlansState.load),
    ("words", "admin.tab.words", words_tab, AdminWordsState.load),
    ("codes", "admin.tab.codes", codes_tab, AdminCodesState.load),
    ("audit", "admin.tab.audit", audit_tab, AdminAuditState.load),
)


def _refusal() -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.icon("shield-x", size=40, color="var(--muted)"),
            rx.heading(t("admin.denied.title"), as_="h2", size="5", id="admin-denied"),
            rx.text(t("admin.denied.hint"), class_name="hint", text_align="center"),
            rx.link(t("not_found.home"), href="/", id="admin-denied-home"),
            align="center",
            spacing="3",
        ),
        padding="64px 16px",
    )


def _tabs() -> rx.Component:
    return rx.tabs.root(
        rx.tabs.list(
            *(
                rx.tabs.trigger(t(key), value=value, on_click=load, id=f"admin-tab-{value}")
                for value, key, _, load in TABS
            ),
            class_name="admin-tabs",
        ),
        *(
            rx.tabs.content(body(), value=value, class_name="admin-pane")
            for value, _, body, _ in TABS
        ),
        value=AdminState.tab,
        on_change=AdminState.select_tab,
    )


def _main() -> rx.Component:
    return rx.box(
        rx.box(rx.text(t("admin.title"), class_name="title"), class_name="dialog-head"),
        rx.box(
            rx.box(
                rx.cond(
                    AdminState.denied,
                    _refusal(),
                    rx.cond(
                        AdminState.allowed,
                        _tabs(),
                        rx.text(t("common.loading"), class_name="hint", padding="24px"),
                    ),
                ),
                class_name="admin-inner",
            ),
            class_name="page-pane",
        ),
        class_name="dialog",
    )


def admin_page() -> rx.Component:
    """The whole console page."""
    return shell("admin", None, _main(), has_detail=True)
