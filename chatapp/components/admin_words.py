# pyright: reportAttributeAccessIssue=false, reportReturnType=false
"""The 敏感词 tab: the list (a text area, or a .txt upload), its two modes, save → version."""

from __future__ import annotations

import reflex as rx

from chatapp.components.admin_parts import outcome
from chatapp.components.text import t
from chatapp.state.admin_words import MAX_UPLOAD_BYTES, UPLOAD_ID, AdminWordsState

S = AdminWordsState
LABEL_INPUT = (
    "[0, 300].forEach((ms) => setTimeout(() =>"
    " document.querySelectorAll('[data-input-label]').forEach((r) =>"
    " r.querySelectorAll('input[type=file]').forEach((i) =>"
    " i.setAttribute('aria-label', r.dataset.inputLabel))), ms))"
)


def _mode(label_key: str, hint_key: str, checked, on_change, switch_id: str) -> rx.Component:
    return rx.el.label(
        rx.switch(checked=checked, on_change=on_change, id=switch_id, color_scheme="green"),
        rx.box(
            rx.text(t(label_key), class_name="field-label"),
            rx.text(t(hint_key), class_name="hint"),
        ),
        class_name="mode-row",
    )


def words_tab() -> rx.Component:
    """The tab's content."""
    return rx.box(
        rx.box(
            rx.flex(
                rx.heading(t("admin.tab.words"), as_="h3", size="3", class_name="card-title"),
                rx.badge(
                    t("admin.words.version"),
                    " ",
                    S.version,
                    " · ",
                    S.count,
                    " ",
                    t("admin.words.count"),
                    id="words-version",
                    variant="soft",
                ),
                align="center",
                justify="between",
                wrap="wrap",
                gap="2",
            ),
            rx.text(t("admin.words.hint"), class_name="hint"),
            # react-dropzone's hidden file input takes no label from its root: copied on mount.
            rx.upload(
                rx.box(
                    rx.icon("file-text", size=22, color="var(--muted)"),
                    rx.text(t("admin.words.drop"), size="2"),
                    class_name="drop-zone-inner",
                ),
                id=UPLOAD_ID,
                accept={"text/plain": [".txt"]},
                max_files=1,
                max_size=MAX_UPLOAD_BYTES,
                multiple=False,
                on_drop=S.upload(rx.upload_files(upload_id=UPLOAD_ID)),
                class_name="drop-zone",
                custom_attrs={"data-input-label": t("admin.words.drop")},
                on_mount=rx.call_script(LABEL_INPUT),
            ),
            # The modes are state (not form fields): they are saved with the list.
            _mode(
                "admin.words.refuse",
                "admin.words.refuse.hint",
                S.refuse_input,
                S.set_refuse_input,
                "words-refuse",
            ),
            _mode(
                "admin.words.mask",
                "admin.words.mask.hint",
                S.mask_output,
                S.set_mask_output,
                "words-mask",
            ),
            rx.form(
                rx.text_area(
                    name="words",
                    default_value=S.text,
                    key=S.text_key,
                    rows="12",
                    placeholder=t("admin.words.placeholder"),
                    aria_label=t("admin.tab.words"),
                    id="words-text",
                    class_name="mono",
                ),
                outcome(S.result, S.error, "words"),
                rx.flex(
                    rx.button(
                        t("common.save"), type="submit", color_scheme="green", id="words-save"
                    ),
                    class_name="btn-row end",
                ),
                on_submit=S.save,
                reset_on_submit=False,
            ),
            class_name="settings-card",
        ),
        class_name="admin-tab",
    )
