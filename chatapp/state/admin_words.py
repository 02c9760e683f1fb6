"""The 敏感词 tab of `/admin`: the word list (one per line, typed or from a .txt), its two modes,
and the saved version every worker reloads.

The text area is uncontrolled and keyed on `text_key`: typing costs no event, and a refused save
keeps what was typed (the error names the line or the limit). An upload replaces the box's text
without saving it, so the admin sees the list before it is in force.
"""

from __future__ import annotations

import reflex as rx

from chatapp.admin import console, offers
from chatapp.billing import sensitive
from chatapp.errors import AuthError, Forbidden, InvalidInput
from chatapp.i18n import translate
from chatapp.state.admin import admin_call, error_text, lang_of

UPLOAD_ID = "admin-words-upload"
# Every word at its longest, on its own line, in UTF-8: a larger file cannot be a valid list.
MAX_UPLOAD_BYTES = sensitive.MAX_WORDS * (sensitive.MAX_WORD_CHARS * 4 + 2)


class AdminWordsState(rx.State):
    """The list as shown, its modes and version, and the last save's outcome."""

    text: str = ""
    text_key: int = 0
    count: int = 0
    refuse_input: bool = True
    mask_output: bool = True
    version: int = 0
    error: str = ""
    result: str = ""

    @rx.event
    async def load(self):
        """The stored list and modes."""
        try:
            view: offers.WordsView = await admin_call(self, offers.load_words)
        except (Forbidden, AuthError) as exc:
            self.error = error_text(exc, await lang_of(self))
            return
        self._show(view)

    def _show(self, view: offers.WordsView) -> None:
        self.text, self.count, self.version = view.text, view.count, view.version
        self.refuse_input, self.mask_output = view.refuse_input, view.mask_output
        self.text_key += 1

    @rx.event
    def set_refuse_input(self, value: bool):
        """Mode: refuse a user's message holding a word (saved with the list)."""
        self.refuse_input = bool(value)

    @rx.event
    def set_mask_output(self, value: bool):
        """Mode: mask words in the model's output (saved with the list)."""
        self.mask_output = bool(value)

    @rx.event
    async def upload(self, files: list[rx.UploadFile]):
        """Puts an uploaded .txt (UTF-8, one word per line) into the box, unsaved."""
        lang = await lang_of(self)
        try:
            await admin_call(self, console.check_admin)
        except (Forbidden, AuthError) as exc:
            self.error = error_text(exc, lang)
            return
        if not files:
            return
        content = await files[0].read(MAX_UPLOAD_BYTES + 1)
        try:
            if len(content) > MAX_UPLOAD_BYTES:
                raise InvalidInput("words_too_many", str(sensitive.MAX_WORDS))
            text = content.decode("utf-8-sig")
            words = sensitive.parse_words(text)
        except UnicodeDecodeError:
            self.error, self.result = translate("admin.error.words_not_utf8", lang), ""
            return
        except InvalidInput as exc:
            self.error, self.result = error_text(exc, lang), ""
            return
        self.text = "\n".join(words)
        self.text_key += 1
        self.error = ""
        self.result = translate("admin.words.uploaded", lang).format(value=len(words))

    @rx.event
    async def save(self, form: dict):
        """Saves the list and the modes; the new version is shown."""
        lang = await lang_of(self)
        try:
            view: offers.WordsView = await admin_call(
                self,
                offers.save_words,
                text=str(form.get("words", "")),
                refuse_input=self.refuse_input,
                mask_output=self.mask_output,
            )
        except (InvalidInput, Forbidden, AuthError) as exc:
            self.error, self.result = error_text(exc, lang), ""
            return
        self._show(view)
        self.error = ""
        self.result = translate("admin.words.saved", lang).format(
            value=view.version, count=view.count
        )
