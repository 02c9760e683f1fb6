# pyright: reportAttributeAccessIssue=false, reportReturnType=false, reportIndexIssue=false
# (Reflex resolves fields of Vars like `msg.content` at runtime; pyright cannot see them.)
"""The conversation list: search, new chat, and one row per conversation (pin / rename / delete)."""

from __future__ import annotations

import reflex as rx

from chatapp.chat.items import ConversationItem
from chatapp.components.markdown import ROW_MEMO
from chatapp.components.role_avatar import AvatarImage
from chatapp.components.text import t
from chatapp.state.chat import ChatState


def _rename_box(conv: rx.Var[ConversationItem]) -> rx.Component:
    # Enter saves, Escape cancels (key handling in assets/composer_keys.js).
    return rx.form(
        rx.input(
            name="title",
            default_value=conv.title,
            auto_focus=True,
            max_length=100,
            size="1",
            id="rename-input",
            key="rename-" + conv.id,
        ),
        rx.el.input(type="hidden", name="conversation_id", value=conv.id),
        rx.el.button(
            type="button", id="rename-cancel", on_click=ChatState.cancel_rename, hidden=True
        ),
        on_submit=ChatState.rename,
        reset_on_submit=False,
        width="100%",
    )


def _menu(conv: rx.Var[ConversationItem]) -> rx.Component:
    return rx.dropdown_menu.root(
        rx.dropdown_menu.trigger(
            rx.icon_button(
                rx.icon("ellipsis", size=14),
                size="1",
                variant="ghost",
                color_scheme="gray",
                class_name="menu",
                aria_label=t("a11y.conversation_menu"),
                # One Tab stop per row (its link); the link opens this menu with → or Shift+F10
                # (assets/list_keys.js).
                tab_index=-1,
            ),
        ),
        rx.dropdown_menu.content(
            rx.dropdown_menu.item(
                rx.cond(conv.pinned, t("chat.unpin"), t("chat.pin")),
                on_click=ChatState.toggle_pin(conv.id),
            ),
            rx.dropdown_menu.item(t("chat.rename"), on_click=ChatState.start_rename(conv.id)),
            rx.dropdown_menu.separator(),
            rx.dropdown_menu.item(
                t("chat.delete"), color="red", on_click=ChatState.ask_delete(conv.id)
            ),
            size="1",
            # Radix returns focus to the trigger on close, which would steal it from the rename box.
            on_close_auto_focus=rx.prevent_default,
        ),
    )


def _marked(parts: rx.Var[list[str]], class_name: str) -> rx.Component:
    # [before, match, after] with the match highlighted.
    return rx.text(parts[0], rx.el.mark(parts[1]), parts[2], class_name=class_name)


def _face(face: rx.Var[list[str]]) -> rx.Component:
    # The role's avatar ([avatar, "1" if an image]); a chat bubble for a conversation without one.
    return rx.box(
        rx.cond(
            face.length() > 0,
            rx.cond(face[1] == "1", AvatarImage.create(src=face[0]), face[0]),
            rx.icon("message-circle", size=16),
        ),
        class_name="conv-avatar",
        aria_hidden="true",
    )


@rx.memo(wrapper=ROW_MEMO)
def conversation_row(
    conv: rx.Var[ConversationItem],
    active: rx.Var[bool],
    renaming: rx.Var[bool],
    preview: rx.Var[str],
    time: rx.Var[str],
    face: rx.Var[list[str]],
    title_hit: rx.Var[list[str]],
    message_hit: rx.Var[list[str]],
) -> rx.Component:
    """One row of the list. A memo of its props only (no ChatState var inside): a send, a
    finished answer or a list refresh re-renders the rows that changed, not all 100 (each has a
    menu). While searching, the matched text of the title and of a message is highlighted."""
    # The menu sits beside the link, not inside it: clicks in the (portalled) menu would otherwise
    # bubble through React to the link and navigate.
    return rx.cond(
        renaming,
        rx.box(_rename_box(conv), class_name="conv-item active"),
        rx.box(
            rx.link(
                _face(face),
                rx.box(
                    rx.box(
                        rx.cond(conv.pinned, rx.icon("pin", size=12, color="var(--muted)")),
                        rx.cond(
                            title_hit.length() > 0,
                            _marked(title_hit, "title"),
                            rx.text(conv.title, class_name="title"),
                        ),
                        rx.text(time, class_name="time"),
                        class_name="row1",
                    ),
                    rx.cond(
                        message_hit.length() > 0,
                        _marked(message_hit, "preview hit"),
                        rx.text(preview, class_name="preview"),
                    ),
                    class_name="conv-text",
                ),
                href="/chat/" + conv.id,
                class_name="conv-link",
                underline="none",
                custom_attrs={"aria-keyshortcuts": "ArrowRight Shift+F10"},
                aria_current=rx.cond(active, "page", "false"),
            ),
            # The stop is here, not on the button: a trigger child with on_click gets wrapped in a
            # div that carries the menu's ARIA attributes (not allowed on a div).
            rx.box(_menu(conv), class_name="menu-wrap", on_click=rx.stop_propagation),
            class_name=rx.cond(
                active, "conv-item active", rx.cond(conv.pinned, "conv-item pinned", "conv-item")
            ),
            data_testid="conv-item",
        ),
    )


def _row(conv: rx.Var[ConversationItem]) -> rx.Component:
    # A finished answer patches its row's preview and time (the list itself is not re-sent).
    patched = ChatState.row_patch.contains(conv.id)
    return rx.fragment(
        conversation_row(
            conv=conv,
            active=conv.id == ChatState.current_id,
            renaming=ChatState.renaming_id == conv.id,
            preview=rx.cond(patched, ChatState.row_patch[conv.id][0], conv.preview),
            time=rx.cond(patched, ChatState.row_patch[conv.id][1], conv.time),
            face=rx.cond(ChatState.row_faces.contains(conv.id), ChatState.row_faces[conv.id], []),
            title_hit=rx.cond(
                ChatState.title_hits.contains(conv.id), ChatState.title_hits[conv.id], []
            ),
            message_hit=rx.cond(
                ChatState.message_hits.contains(conv.id), ChatState.message_hits[conv.id], []
            ),
        ),
        key=conv.id,
    )


def delete_dialog() -> rx.Component:
    """The one confirmation dialog for deleting a conversation."""
    return rx.alert_dialog.root(
        rx.alert_dialog.content(
            rx.alert_dialog.title(t("chat.delete")),
            rx.alert_dialog.description(t("chat.delete.confirm")),
            rx.flex(
                rx.button(
                    t("common.cancel"),
                    variant="soft",
                    color_scheme="gray",
                    on_click=ChatState.cancel_delete,
                ),
                rx.button(
                    t("common.delete"),
                    color_scheme="red",
                    on_click=ChatState.confirm_delete,
                    id="delete-confirm",
                ),
                gap="3",
                justify="end",
                margin_top="16px",
                class_name="dialog-actions",
            ),
            max_width="380px",
            # A controlled dialog: Esc (like Cancel) clears the state that opens it.
            on_escape_key_down=ChatState.cancel_delete,
        ),
        open=ChatState.confirm_delete_id != "",
    )


def conversation_list() -> rx.Component:
    """The middle pane."""
    return rx.box(
        rx.box(
            rx.input(
                rx.input.slot(rx.icon("search", size=14)),
                placeholder=t("chat.search"),
                on_change=ChatState.search.debounce(300),
                max_length=200,  # what the server reads of a query
                class_name="search",
                size="2",
                id="conv-search",
            ),
            rx.tooltip(
                rx.icon_button(
                    rx.icon("plus", size=18),
                    on_click=ChatState.new_conversation,
                    variant="soft",
                    color_scheme="gray",
                    aria_label=t("chat.new"),
                    id="new-chat",
                ),
                content=t("chat.new"),
            ),
            class_name="sidebar-head",
        ),
        rx.box(
            rx.foreach(ChatState.conversations, _row),
            rx.cond(
                ChatState.has_more_conversations,
                rx.button(
                    t("chat.load_more"),
                    variant="soft",
                    size="1",
                    on_click=ChatState.load_more_conversations,
                    class_name="load-earlier",
                    id="conv-load-more",
                ),
            ),
            rx.cond(
                ChatState.conversations.length() == 0,
                rx.box(
                    rx.cond(
                        ChatState.search_query != "", t("chat.no_results"), t("chat.empty_list")
                    ),
                    class_name="conv-empty",
                ),
            ),
            class_name="conv-list",
        ),
        delete_dialog(),
        class_name="sidebar",
    )
