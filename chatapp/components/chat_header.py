# pyright: reportAttributeAccessIssue=false, reportReturnType=false
# (Reflex resolves fields of Vars like `msg.content` at runtime; pyright cannot see them.)
"""The dialog header: back (phones), title, demo badge, model picker and the chat settings panel."""

from __future__ import annotations

import reflex as rx

from chatapp.components.role_picker import role_picker
from chatapp.components.text import t
from chatapp.core import parameters
from chatapp.state.chat import ChatState


def model_label(model: rx.Var) -> rx.Var:
    """A model's name in the pickers; an image model's marked 「画图」 / "Image"."""
    return rx.cond(
        ChatState.image_models.contains(model),
        model.to(str) + " · " + t("model.image_tag").to(str),
        model,
    )


def _status(name: str) -> rx.Component:
    # The field's answer to the last save: why it was refused, or 「已保存」.
    return rx.cond(
        ChatState.param_errors.contains(name),
        rx.text(ChatState.param_errors[name], class_name="field-error", id=f"{name}-status"),
        rx.cond(
            ChatState.param_saved.contains(name),
            rx.text("✓ ", t("chat.param.saved"), class_name="field-saved", id=f"{name}-status"),
        ),
    )


def _field(label_key: str, control: rx.Component, name: str = "") -> rx.Component:
    # A <label>: the control inside is named by the text; the status below says what became of it.
    if name:
        control.custom_attrs["aria-invalid"] = ChatState.param_errors.contains(name).to_string()
    return rx.box(
        rx.el.label(
            rx.text(t(label_key), size="1", color_scheme="gray"),
            control,
            style={"display": "block"},
        ),
        _status(name or "model"),
        width="100%",
    )


def _summary() -> rx.Component:
    return rx.match(
        ChatState.param_summary,
        ("all_saved", rx.text(t("chat.param.all_saved"), class_name="field-saved")),
        ("some_refused", rx.text(t("chat.param.some_refused"), class_name="field-error")),
        ("unchanged", rx.text(t("chat.param.unchanged"), class_name="hint")),
        rx.fragment(),
    )


def _bound(name: str, end: str) -> str:
    """A fixed end of a parameter's range (the tops the operator may lower are not shown)."""
    value = getattr(parameters.ABSOLUTE[name], end)
    return f"{value:g}"


def settings_panel() -> rx.Component:
    """Per-conversation model parameters; changes apply to the next message.

    The server checks every value against its range (the operator's ceilings included, which a
    prebuilt frontend cannot know) and says which field is out of range: the browser's own
    validation is off, since it would block the submit silently as the popover closes.
    """
    return rx.popover.root(
        rx.popover.trigger(
            rx.icon_button(
                rx.icon("sliders-horizontal", size=16),
                variant="ghost",
                color_scheme="gray",
                aria_label=t("chat.settings"),
                id="chat-settings",
            ),
        ),
        rx.popover.content(
            rx.form(
                rx.vstack(
                    rx.text(t("chat.settings"), weight="medium"),
                    _field(
                        "chat.model",
                        rx.el.select(
                            rx.foreach(
                                ChatState.models, lambda m: rx.el.option(model_label(m), value=m)
                            ),
                            name="model",
                            default_value=ChatState.current_model,
                            key=ChatState.current_id + ChatState.current_model,
                            class_name="rt-reset",
                            style={"width": "100%", "padding": "4px"},
                        ),
                    ),
                    _field(
                        "chat.temperature",
                        rx.input(
                            name="temperature",
                            type="number",
                            step="0.1",
                            min=_bound("temperature", "lo"),
                            max=_bound("temperature", "hi"),
                            default_value=ChatState.current_temperature.to_string(),
                            key=ChatState.current_id + "t",
                        ),
                        "temperature",
                    ),
                    _field(
                        "chat.top_p",
                        rx.input(
                            name="top_p",
                            type="number",
                            step="0.05",
                            min=_bound("top_p", "lo"),
                            max=_bound("top_p", "hi"),
                            default_value=ChatState.current_top_p.to_string(),
                            key=ChatState.current_id + "p",
                        ),
                        "top_p",
                    ),
                    _field(
                        "chat.max_tokens",
                        rx.input(
                            name="max_tokens",
                            type="number",
                            min="0",
                            default_value=ChatState.current_max_tokens.to_string(),
                            key=ChatState.current_id + "m",
                            aria_describedby="max-tokens-hint",
                        ),
                        "max_tokens",
                    ),
                    rx.text(t("chat.max_tokens.hint"), class_name="hint", id="max-tokens-hint"),
                    _field(
                        "chat.context_window",
                        rx.input(
                            name="context_window",
                            type="number",
                            min=_bound("context_window", "lo"),
                            default_value=ChatState.current_context_window.to_string(),
                            key=ChatState.current_id + "w",
                        ),
                        "context_window",
                    ),
                    _field(
                        "chat.token_budget",
                        rx.input(
                            name="token_budget",
                            type="number",
                            min=_bound("token_budget", "lo"),
                            default_value=ChatState.current_token_budget.to_string(),
                            key=ChatState.current_id + "b",
                        ),
                        "token_budget",
                    ),
                    # The panel stays open after a save: each field says what became of it.
                    rx.button(
                        t("common.save"),
                        type="submit",
                        size="2",
                        color_scheme="green",
                        width="100%",
                        id="chat-settings-save",
                    ),
                    rx.box(_summary(), id="chat-settings-summary", role="status", width="100%"),
                    spacing="2",
                ),
                on_submit=ChatState.update_settings,
                no_validate=True,
            ),
            width="280px",
            aria_label=t("chat.settings"),
        ),
        on_open_change=ChatState.clear_parameter_status,
    )


def chat_header() -> rx.Component:
    """Header of the open conversation."""
    return rx.box(
        rx.link(
            rx.icon("chevron-left", size=22),
            href="/",
            class_name="mobile-back",
            aria_label=t("nav.back"),
        ),
        rx.text(ChatState.current_title, class_name="title", id="chat-title"),
        role_picker(),
        rx.cond(
            ChatState.demo, rx.box(t("chat.demo_badge"), class_name="demo-badge", id="demo-badge")
        ),
        # Hidden on phones (chat.css), where the title needs the room: the ⚙ panel has the model too.
        rx.box(
            rx.select.root(
                rx.select.trigger(
                    variant="soft", id="model-picker", custom_attrs={"aria-label": t("chat.model")}
                ),
                rx.select.content(
                    rx.foreach(
                        ChatState.models,
                        lambda m: rx.select.item(model_label(m), value=m, data_model=m),
                    )
                ),
                value=ChatState.current_model,
                on_change=ChatState.set_model,
                size="1",
            ),
            class_name="model-picker-wrap",
        ),
        settings_panel(),
        class_name="dialog-head",
    )
