"""UI text in the user's language: the catalogs (`zh.py`, the default, and `en.py`) and the
functions that pick from them.

Components never hard-code UI text; they call `components.text.t("key")`, which picks the string
for the current language in the browser; server code calls `translate`. Error codes become user
text in one place, `chatapp.errors.user_message`, which reads from here where a code has a key.
`tests/test_i18n.py` fails when a key or a placeholder is missing in a language.
"""

from __future__ import annotations

from chatapp.i18n import en, zh

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"

TRANSLATIONS: dict[str, dict[str, str]] = {"zh": zh.MESSAGES, "en": en.MESSAGES}


def translate(key: str, lang: str = DEFAULT_LANGUAGE) -> str:
    """The text for `key` in `lang` (falls back to zh, then to the key itself)."""
    table = TRANSLATIONS.get(lang) or TRANSLATIONS[DEFAULT_LANGUAGE]
    return table.get(key) or TRANSLATIONS[DEFAULT_LANGUAGE].get(key) or key


def normalise_language(lang: str | None) -> str:
    """Maps `en-US`, `zh-CN`… to a supported language code."""
    if not lang:
        return DEFAULT_LANGUAGE
    short = lang.strip().lower()[:2]
    return short if short in LANGUAGES else DEFAULT_LANGUAGE
