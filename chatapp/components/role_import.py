# pyright: reportAttributeAccessIssue=false, reportReturnType=false
"""The import dialog: drop a JSON file (ours or NextChat masks) or paste JSON; all or nothing."""

from __future__ import annotations

import reflex as rx

from chatapp.components.text import t
from chatapp.roles.schema import MAX_IMPORT_BYTES
from chatapp.state.roles import UPLOAD_ID, RolesState


def role_import() -> rx.Component:
    """The dialog opened from the roles menu."""
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(t("roles.import")),
            rx.dialog.description(t("roles.import.hint"), size="2", color_scheme="gray"),
            rx.upload(
                rx.box(
                    rx.icon("file-json", size=28, color="var(--muted)"),
                    rx.text(t("roles.import.drop"), size="2"),
                    class_name="drop-zone-inner",
                ),
                id=UPLOAD_ID,
                accept={"application/json": [".json"]},
                max_files=1,
                max_size=MAX_IMPORT_BYTES,
                multiple=False,
                on_drop=RolesState.import_upload(rx.upload_files(upload_id=UPLOAD_ID)),
                class_name="drop-zone",
            ),
            rx.form(
                rx.text(t("roles.import.paste"), size="2", class_name="field-label"),
                rx.text_area(
                    name="json",
                    rows="6",
                    placeholder='{"format": "chatapp.roles", "version": 1, "roles": [...]}',
                    class_name="mono",
                    id="role-import-text",
                ),
                rx.cond(
                    RolesState.import_error != "",
                    rx.callout(
                        RolesState.import_error,
                        icon="triangle-alert",
                        color_scheme="red",
                        size="1",
                        id="role-import-error",
                    ),
                ),
                rx.flex(
                    rx.dialog.close(
                        rx.button(
                            t("common.close"), variant="soft", color_scheme="gray", type="button"
                        )
                    ),
                    rx.button(
                        t("roles.import.submit"),
                        type="submit",
                        color_scheme="green",
                        id="role-import-submit",
                    ),
                    class_name="btn-row end",
                ),
                on_submit=RolesState.import_text,
                reset_on_submit=False,
                class_name="import-form",
            ),
            max_width="560px",
        ),
        open=RolesState.import_open,
        on_open_change=RolesState.set_import_open,
    )
