# pyright: reportAttributeAccessIssue=false, reportReturnType=false
"""The 用户 tab: search and sort, the list, and the opened user's detail with its actions (each
confirmed, answered inline)."""

from __future__ import annotations

import reflex as rx

from chatapp.components.admin_parts import field, outcome
from chatapp.components.confirm_dialog import confirm_dialog
from chatapp.components.text import t
from chatapp.state.admin_users import AdminUsersState, ModelLine, PlanOption, UserItem

S = AdminUsersState


def _search() -> rx.Component:
    return rx.flex(
        rx.form(
            rx.flex(
                rx.input(
                    name="query",
                    placeholder=t("admin.users.search"),
                    aria_label=t("admin.users.search"),
                    max_length=64,
                    id="admin-user-search",
                    flex="1",
                ),
                rx.button(t("common.search"), type="submit", variant="soft", id="admin-user-go"),
                gap="2",
                flex="1",
            ),
            on_submit=S.search,
            reset_on_submit=False,
            flex="1",
        ),
        rx.select.root(
            rx.select.trigger(aria_label=t("admin.users.sort"), id="admin-user-sort"),
            rx.select.content(
                rx.select.item(t("admin.users.sort.recent"), value="recent"),
                rx.select.item(t("admin.users.sort.tokens"), value="tokens"),
                rx.select.item(t("admin.users.sort.balance"), value="balance"),
                rx.select.item(t("admin.users.sort.created"), value="created"),
            ),
            value=S.sort,
            on_change=S.set_sort,
        ),
        gap="2",
        wrap="wrap",
        class_name="admin-toolbar",
    )


def _row(user: rx.Var[UserItem]) -> rx.Component:
    return rx.el.tr(
        rx.el.td(
            rx.el.button(
                user.name,
                on_click=S.open_user(user.id),
                class_name="link-button",
                id="admin-user-open-" + user.id.to_string(),
            ),
            rx.cond(user.is_admin, rx.badge(t("admin.users.admin"), size="1", margin_left="6px")),
        ),
        rx.el.td(user.plan),
        rx.el.td(
            rx.cond(
                user.frozen,
                rx.badge(t("admin.users.frozen"), color_scheme="red", size="1"),
                rx.badge(t("admin.users.active"), color_scheme="green", size="1"),
            )
        ),
        rx.el.td(user.balance, class_name="num"),
        rx.el.td(user.tokens_30d, class_name="num"),
        rx.el.td(user.last_login, class_name="muted-cell"),
    )


def _table() -> rx.Component:
    return rx.box(
        rx.el.table(
            rx.el.thead(
                rx.el.tr(
                    rx.el.th(t("admin.users.col.name")),
                    rx.el.th(t("admin.users.col.plan")),
                    rx.el.th(t("admin.users.col.status")),
                    rx.el.th(t("admin.users.col.balance"), class_name="num"),
                    rx.el.th(t("admin.users.col.tokens"), class_name="num"),
                    rx.el.th(t("admin.users.col.last_login")),
                )
            ),
            rx.el.tbody(rx.foreach(S.rows, _row)),
            class_name="admin-table",
            id="admin-user-table",
        ),
        rx.cond(S.rows.length() == 0, rx.text(t("admin.users.none"), class_name="hint")),
        class_name="table-wrap",
    )


def _figure(label_key: str, value) -> rx.Component:
    return rx.box(
        rx.text(t(label_key), class_name="stat-label"),
        rx.text(value, class_name="detail-value"),
        class_name="detail-figure",
    )


def _model_line(line: rx.Var[ModelLine]) -> rx.Component:
    return rx.el.tr(
        rx.el.td(line.model),
        rx.el.td(line.calls, class_name="num"),
        rx.el.td(line.tokens, class_name="num"),
    )


def _plan_option(o: rx.Var[PlanOption]) -> rx.Component:
    return rx.select.item(o.label, value=o.value)


def _actions() -> rx.Component:
    u = S.opened
    return rx.box(
        rx.flex(
            confirm_dialog(
                trigger=rx.button(
                    rx.cond(u.frozen, t("admin.users.unfreeze"), t("admin.users.freeze")),
                    variant="soft",
                    color_scheme=rx.cond(u.frozen, "green", "red"),
                    id="admin-user-freeze",
                ),
                title_key="admin.users.freeze.title",
                description_key="admin.users.freeze.confirm",
                confirm_key="common.confirm",
                on_confirm=S.toggle_frozen,
                confirm_id="admin-user-freeze-confirm",
            ),
            confirm_dialog(
                trigger=rx.button(
                    t("admin.users.revoke"),
                    variant="soft",
                    color_scheme="red",
                    id="admin-user-revoke",
                ),
                title_key="admin.users.revoke",
                description_key="admin.users.revoke.confirm",
                confirm_key="admin.users.revoke",
                on_confirm=S.revoke_sessions,
                confirm_id="admin-user-revoke-confirm",
            ),
            class_name="btn-row",
        ),
        rx.flex(
            rx.select.root(
                rx.select.trigger(
                    aria_label=t("admin.users.plan"), id="admin-user-plan", min_width="160px"
                ),
                rx.select.content(rx.foreach(S.plan_options, _plan_option), position="popper"),
                value=S.plan_choice,
                on_change=S.choose_plan,
            ),
            confirm_dialog(
                trigger=rx.button(
                    t("admin.users.plan.apply"), variant="soft", id="admin-user-plan-apply"
                ),
                title_key="admin.users.plan",
                description_key="admin.users.plan.confirm",
                confirm_key="common.confirm",
                on_confirm=S.apply_plan,
                confirm_id="admin-user-plan-confirm",
            ),
            class_name="btn-row",
            margin_top="12px",
        ),
        rx.form(
            rx.box(
                field(
                    "admin.users.amount",
                    rx.input(
                        name="amount",
                        placeholder="500 / -200",
                        max_length=16,
                        id="admin-user-amount",
                        input_mode="numeric",
                    ),
                ),
                field(
                    "admin.users.reason",
                    rx.input(name="reason", max_length=200, id="admin-user-reason"),
                ),
                class_name="form-grid",
            ),
            rx.flex(
                rx.button(t("admin.users.balance.apply"), type="submit", id="admin-user-balance"),
                class_name="btn-row",
            ),
            on_submit=S.adjust_balance,
            reset_on_submit=False,
            margin_top="12px",
        ),
        class_name="detail-actions",
    )


def _detail() -> rx.Component:
    u = S.opened
    return rx.box(
        rx.flex(
            rx.el.button(
                rx.icon("chevron-left", size=18),
                t("nav.back"),
                on_click=S.close_user,
                class_name="link-button back",
                id="admin-user-back",
            ),
            rx.heading(u.name, as_="h3", size="4", id="admin-user-name"),
            rx.text(u.openid, class_name="hint mono"),
            direction="column",
            gap="1",
        ),
        rx.box(
            _figure("admin.users.col.plan", u.plan),
            _figure("admin.users.col.balance", u.balance),
            _figure("admin.users.free_used", S.free_used_today),
            _figure("admin.users.month_tokens", S.month_tokens),
            _figure("admin.users.sessions", S.live_sessions),
            _figure("admin.users.conversations", S.conversations),
            class_name="detail-grid",
            id="admin-user-figures",
        ),
        rx.cond(
            S.by_model.length() > 0,
            rx.el.table(
                rx.el.thead(
                    rx.el.tr(
                        rx.el.th(t("usage.col.model")),
                        rx.el.th(t("usage.col.calls"), class_name="num"),
                        rx.el.th(t("usage.col.tokens"), class_name="num"),
                    )
                ),
                rx.el.tbody(rx.foreach(S.by_model, _model_line)),
                class_name="admin-table compact",
            ),
        ),
        outcome(S.result, S.error, "admin-user"),
        _actions(),
        class_name="settings-card user-detail",
        id="admin-user-detail",
    )


def users_tab() -> rx.Component:
    """The tab's content: the list, and the detail beside it (under it on phones)."""
    return rx.box(
        _search(),
        rx.cond(S.has_opened, rx.fragment(), outcome(S.result, S.error, "admin-users")),
        rx.box(
            rx.box(
                _table(), class_name=rx.cond(S.has_opened, "users-list has-detail", "users-list")
            ),
            rx.cond(S.has_opened, _detail()),
            class_name="users-layout",
        ),
        class_name="admin-tab",
    )
