"""The roles page's state: the list and its filters, the detail pane, the editor, delete, import
and export.

Thin wiring: every handler re-checks the logged-in user, validates what the browser sent, runs a
use case of `chatapp.roles` in a worker thread (`in_session`), and assigns display records
(`chatapp.roles.items`). Errors become text through `schema.describe_error` and the
`roles.*` translations. The chat header's role picker is `chatapp.state.chat_role`.
"""

from __future__ import annotations

import logging
import secrets

import reflex as rx

from chatapp.chat.providers import get_router
from chatapp.errors import InvalidInput, NotFound
from chatapp.i18n import translate
from chatapp.roles import binding
from chatapp.roles import store as role_store
from chatapp.roles.items import RoleItem, role_item, role_list
from chatapp.roles.schema import MAX_IMPORT_BYTES, MAX_OPENING, describe_error, validate_role
from chatapp.state.auth import AuthState
from chatapp.state.ui import UIState
from chatapp.state.worker import in_session

log = logging.getLogger(__name__)

UPLOAD_ID = "roles-import"
FORM_FIELDS = (
    "name",
    "avatar",
    "description",
    "system_prompt",
    "model",
    "temperature",
    "top_p",
    "max_tokens",
    "context_window",
    "token_budget",
    "tags",
    "language",
)


class RolesState(rx.State):
    """The roles page."""

    items: list[RoleItem] = []
    loaded: bool = False  # the empty-list text waits for the first load (no flash)
    tags: list[str] = []
    query: str = ""
    tag: str = ""
    all_languages: bool = False
    selected: RoleItem = RoleItem()
    models: list[str] = []
    notice: str = ""
    # editor
    editor_open: bool = False
    editing_id: int = 0
    form: RoleItem = RoleItem()
    form_opening: list[dict[str, str]] = []
    form_error: str = ""
    form_nonce: str = ""
    # delete / import
    delete_open: bool = False
    import_open: bool = False
    import_error: str = ""

    async def _user_id(self) -> int | None:
        return await (await self.get_state(AuthState)).current_user_id()

    async def _lang(self) -> str:
        return (await self.get_state(UIState)).lang

    @rx.var
    def has_selection(self) -> bool:
        """True when a role is shown in the detail pane."""
        return self.selected.id > 0

    async def _refresh(self, user_id: int) -> None:
        lang = await self._lang()
        listing = await in_session(
            role_list,
            user_id=user_id,
            query=self.query[:100],
            tag=self.tag,
            language=None if self.all_languages else lang,
        )
        self.items, self.tags = listing.items, listing.tags
        self.loaded = True
        if self.selected.id:
            match = [i for i in self.items if i.id == self.selected.id]
            if match:
                self.selected = match[0]

    async def _select(self, user_id: int, role_id: int) -> bool:
        row = await in_session(role_store.get_role, user_id=user_id, role_id=role_id)
        if row is None:
            return False
        self.selected = role_item(row)
        return True

    # ---- list ----------------------------------------------------------------------------------

    @rx.event
    async def load_page(self):
        """on_load of /roles."""
        user_id = await self._user_id()
        if user_id is None:
            return AuthState.require_login  # to /login?next=/roles
        self.models = get_router().model_ids()
        self.notice = ""
        self.editor_open = self.delete_open = self.import_open = False
        await self._refresh(user_id)
        if self.selected.id and not await self._select(user_id, self.selected.id):
            self.selected = RoleItem()
        return None

    @rx.event
    async def search(self, query: str):
        """Filters by name, description or tags."""
        self.query = str(query)[:100]
        if (user_id := await self._user_id()) is not None:
            await self._refresh(user_id)

    @rx.event
    async def set_tag(self, tag: str):
        """Shows only roles with this tag ("" for all)."""
        self.tag = "" if tag == self.tag else str(tag)[:24]
        if (user_id := await self._user_id()) is not None:
            await self._refresh(user_id)

    @rx.event
    async def set_all_languages(self, value: bool):
        """Also shows built-ins in the other language."""
        self.all_languages = bool(value)
        if (user_id := await self._user_id()) is not None:
            await self._refresh(user_id)

    @rx.event
    async def select(self, role_id: int):
        """Shows a role in the detail pane."""
        self.notice = ""
        user_id = await self._user_id()
        if user_id is None or not await self._select(user_id, int(role_id)):
            self.selected = RoleItem()

    @rx.event
    def close_detail(self):
        """Back to the list (phones)."""
        self.selected = RoleItem()

    # ---- actions -------------------------------------------------------------------------------

    @rx.event
    async def start_chat(self, role_id: int):
        """Creates a conversation bound to the role and opens it."""
        user_id = await self._user_id()
        if user_id is None:
            return rx.redirect("/login")
        try:
            conv = await in_session(
                binding.start_conversation,
                user_id=user_id,
                role_id=int(role_id),
                resolve_model=get_router().resolve,
            )
        except NotFound:
            log.warning("user %s tried to start a chat with role %s: not theirs", user_id, role_id)
            self.notice = translate("roles.error.not_found", await self._lang())
            return None
        return rx.redirect(f"/chat/{conv.id}")

    @rx.event
    async def duplicate(self, role_id: int):
        """Copies a role (built-in or own) into the user's roles and selects the copy."""
        user_id = await self._user_id()
        if user_id is None:
            return
        lang = await self._lang()
        suffix = " (copy)" if lang == "en" else "（副本）"
        try:
            row = await in_session(
                role_store.duplicate_role, user_id=user_id, role_id=int(role_id), suffix=suffix
            )
        except (NotFound, InvalidInput) as exc:
            reason = exc.reason if isinstance(exc, InvalidInput) else "not_found"
            self.notice = translate(f"roles.error.{reason}", lang)
            return
        self.selected = role_item(row)
        self.notice = translate("roles.duplicated", lang)
        await self._refresh(user_id)

    @rx.event
    def ask_delete(self):
        """Opens the delete confirmation for the selected role."""
        self.delete_open = True

    @rx.event
    def set_delete_open(self, value: bool):
        """Opens or closes the delete confirmation."""
        self.delete_open = bool(value)

    @rx.event
    async def confirm_delete(self):
        """Deletes the selected role (own roles only)."""
        self.delete_open = False
        user_id = await self._user_id()
        if user_id is None or not self.selected.id:
            return
        deleted = await in_session(
            role_store.delete_role, user_id=user_id, role_id=self.selected.id
        )
        lang = await self._lang()
        if not deleted:
            log.warning("user %s tried to delete role %s: not theirs", user_id, self.selected.id)
            self.notice = translate("roles.error.not_found", lang)
            return
        self.selected = RoleItem()
        self.notice = translate("roles.deleted", lang)
        await self._refresh(user_id)

    # ---- editor --------------------------------------------------------------------------------

    def _open_editor(self, item: RoleItem, editing_id: int) -> None:
        self.form = item
        self.editing_id = editing_id
        self.form_opening = [
            {"key": secrets.token_hex(4), "role": o["role"], "content": o["content"]}
            for o in item.opening
        ]
        self.form_error = ""
        self.form_nonce = secrets.token_hex(4)  # remounts the uncontrolled inputs
        self.editor_open = True

    @rx.event
    async def open_new(self):
        """Opens an empty editor."""
        lang = await self._lang()
        self._open_editor(RoleItem(avatar="🤖", language=lang), 0)

    @rx.event
    async def open_edit(self):
        """Opens the editor on the selected role (own roles only)."""
        user_id = await self._user_id()
        if user_id is None or not self.selected.id:
            return
        row = await in_session(role_store.get_own_role, user_id=user_id, role_id=self.selected.id)
        if row is None:
            self.notice = translate("roles.builtin.readonly", await self._lang())
            return
        item = role_item(row)
        self._open_editor(item, item.id)

    @rx.event
    def set_editor_open(self, value: bool):
        """Opens or closes the editor dialog."""
        self.editor_open = bool(value)

    @rx.event
    def add_opening(self):
        """Adds an opening message, alternating user / assistant."""
        if len(self.form_opening) >= MAX_OPENING:
            return
        last = self.form_opening[-1]["role"] if self.form_opening else "assistant"
        role = "assistant" if last == "user" else "user"
        self.form_opening = [
            *self.form_opening,
            {"key": secrets.token_hex(4), "role": role, "content": ""},
        ]

    @rx.event
    def remove_opening(self, key: str):
        """Removes an opening message."""
        self.form_opening = [o for o in self.form_opening if o["key"] != key]

    @rx.event
    def set_opening_role(self, key: str, role: str):
        """Changes who says an opening message."""
        if role in {"user", "assistant"}:
            self.form_opening = [
                {**o, "role": role} if o["key"] == key else o for o in self.form_opening
            ]

    @rx.event
    def set_opening_content(self, key: str, content: str):
        """Keeps an opening message's text (sent on blur, not per keystroke)."""
        self.form_opening = [
            {**o, "content": str(content)[:4000]} if o["key"] == key else o
            for o in self.form_opening
        ]

    @rx.event
    async def save(self, form: dict):
        """Validates the editor and creates or updates the user's role."""
        user_id = await self._user_id()
        if user_id is None:
            return
        lang = await self._lang()
        data = {name: form.get(name, "") for name in FORM_FIELDS}
        data["opening"] = [{"role": o["role"], "content": o["content"]} for o in self.form_opening]
        try:
            role = validate_role(data)
            if self.editing_id:
                row = await in_session(
                    role_store.update_role, user_id=user_id, role_id=self.editing_id, data=role
                )
            else:
                row = await in_session(role_store.create_role, user_id=user_id, data=role)
        except InvalidInput as exc:
            self.form_error = describe_error(exc, lang)
            return
        except NotFound:
            self.form_error = translate("roles.error.not_found", lang)
            return
        self.selected = role_item(row)
        self.editor_open = False
        self.notice = translate("roles.saved", lang)
        await self._refresh(user_id)

    # ---- import / export -----------------------------------------------------------------------

    @rx.event
    def set_import_open(self, value: bool):
        """Opens or closes the import dialog."""
        self.import_open = bool(value)
        self.import_error = ""

    async def _import(self, content: bytes | str) -> None:
        user_id = await self._user_id()
        if user_id is None:
            return
        lang = await self._lang()
        try:
            created, skipped = await in_session(
                role_store.import_roles_counted, user_id=user_id, text=content
            )
        except InvalidInput as exc:
            nothing = translate("roles.error.nothing_imported", lang)
            end = ". " if lang == "en" else "。"
            self.import_error = f"{describe_error(exc, lang)}{end}{nothing}"
            return
        self.import_open = False
        self.import_error = ""
        if created:
            self.selected = role_item(created[0])
        # Roles identical to ones the user has (re-importing an export) are skipped, and said so.
        key = "roles.imported_skipped" if skipped else "roles.imported"
        self.notice = (
            translate(key, lang).replace("{n}", str(len(created))).replace("{k}", str(skipped))
        )
        await self._refresh(user_id)

    @rx.event
    async def import_upload(self, files: list[rx.UploadFile]):
        """Imports an uploaded JSON file (ours or NextChat masks), all or nothing."""
        if not files:
            return
        # Read one byte past the cap so an oversized file is refused without reading all of it.
        content = await files[0].read(MAX_IMPORT_BYTES + 1)
        await self._import(content)

    @rx.event
    async def import_text(self, form: dict):
        """Imports pasted JSON, all or nothing."""
        text = str(form.get("json", ""))
        if not text.strip():
            return
        await self._import(text)

    @rx.event
    async def export_mine(self):
        """Downloads all the user's own roles as JSON."""
        user_id = await self._user_id()
        if user_id is None:
            return None
        data = await in_session(role_store.export_roles, user_id=user_id)
        return rx.download(data=data, filename="chatapp-roles.json")

    @rx.event
    async def export_selected(self):
        """Downloads the selected role as JSON."""
        user_id = await self._user_id()
        if user_id is None or not self.selected.id:
            return None
        data = await in_session(
            role_store.export_roles, user_id=user_id, role_ids=[self.selected.id]
        )
        return rx.download(data=data, filename=f"chatapp-role-{self.selected.id}.json")
