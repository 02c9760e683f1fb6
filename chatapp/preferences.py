"""A user's own preferences: language, theme, send key, font size, default model and role, the
optional API key and base URL, and the fields a new conversation starts with because of them.

Not to be confused with the operator's configuration (`core.config.Settings`, read from the
environment at start-up) nor with a conversation's parameters (`core.parameters`, the chat's ⚙
form). The table is `UserSettings`; the settings page (`state.settings`) shows and saves these.

Plain Python, session first, keyword-only, one user at a time. The API key is stored only
encrypted (`SecretBox`); what leaves this module for display is the last four characters.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlmodel import Session

from chatapp.core import url_guard
from chatapp.core.crypto import SecretBox
from chatapp.errors import InvalidInput
from chatapp.i18n import LANGUAGES
from chatapp.models import UserSettings
from chatapp.roles import binding
from chatapp.roles.store import get_role

THEMES = ("light", "dark", "system")
SEND_KEYS = ("enter", "ctrl")
FONT_SIZE_MIN, FONT_SIZE_MAX = 12, 22
API_KEY_MIN, API_KEY_MAX = 8, 256


@dataclass
class Preferences:
    """A user's preferences as the settings page shows them (the API key only as a hint)."""

    language: str = "zh"
    theme: str = "system"
    send_key: str = "enter"
    font_size: int = 15
    reasoning_open: bool = False
    default_model: str = ""
    default_role_id: int = 0
    api_key_hint: str = ""
    api_base_url: str = ""
    stored: bool = False  # False: the user never saved preferences (defaults shown)


def _row(session: Session, user_id: int) -> UserSettings:
    row = session.get(UserSettings, user_id)
    if row is None:
        row = UserSettings(user_id=user_id)
        session.add(row)
        session.flush()
    return row


def _preferences(row: UserSettings | None) -> Preferences:
    if row is None:
        return Preferences()
    return Preferences(
        language=row.language if row.language in LANGUAGES else "zh",
        theme=row.theme if row.theme in THEMES else "system",
        send_key=row.send_key if row.send_key in SEND_KEYS else "enter",
        font_size=row.font_size,
        reasoning_open=bool(row.reasoning_open),
        default_model=row.default_model or "",
        default_role_id=row.default_role_id or 0,
        api_key_hint=f"…{row.api_key_last4}" if row.api_key_enc and row.api_key_last4 else "",
        api_base_url=row.api_base_url or "",
        stored=True,
    )


def get_preferences(session: Session, *, user_id: int) -> Preferences:
    """The user's preferences (the defaults when they never saved any)."""
    return _preferences(session.get(UserSettings, user_id))


def update_preferences(
    session: Session,
    *,
    user_id: int,
    models: Sequence[str] = (),
    **changes: Any,
) -> Preferences:
    """Changes some preferences; unknown names are refused.

    Args:
        models: the models this deployment offers (a default model must be one of them).
        changes: any of language, theme, send_key, font_size, reasoning_open (a bool),
            default_model ("" clears),
            default_role_id (0 or None clears).

    Raises:
        InvalidInput: bad_setting (unknown name or value), model_not_offered, role_not_found.
    """
    row = _row(session, user_id)
    for name, value in changes.items():
        if name == "language" and value in LANGUAGES:
            row.language = value
        elif name == "theme" and value in THEMES:
            row.theme = value
        elif name == "send_key" and value in SEND_KEYS:
            row.send_key = value
        elif name == "font_size":
            try:
                size = int(value)
            except (TypeError, ValueError) as exc:
                raise InvalidInput("bad_setting", name) from exc
            row.font_size = min(max(size, FONT_SIZE_MIN), FONT_SIZE_MAX)
        elif name == "reasoning_open" and isinstance(value, bool):
            row.reasoning_open = value
        elif name == "default_model":
            if value and value not in models:
                raise InvalidInput("model_not_offered", name)
            row.default_model = value or None
        elif name == "default_role_id":
            role_id = int(value or 0)
            if role_id and get_role(session, user_id=user_id, role_id=role_id) is None:
                raise InvalidInput("role_not_found", name)
            row.default_role_id = role_id or None
        else:
            raise InvalidInput("bad_setting", name)
    session.add(row)
    session.flush()
    return _preferences(row)


def _clean_base_url(value: str) -> str | None:
    value = value.strip().rstrip("/")
    if not value:
        return None
    if len(value) > 512:
        raise InvalidInput("bad_base_url", "too_long")
    try:
        parts = urlsplit(value)
    except ValueError as exc:
        raise InvalidInput("bad_base_url", "unparsable") from exc
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise InvalidInput("bad_base_url", "scheme")
    if parts.username or parts.password:
        # Credentials or query strings in a base URL would end up in logs; refuse them.
        raise InvalidInput("bad_base_url", "credentials")
    if parts.query or parts.fragment:
        raise InvalidInput("bad_base_url", "query")
    return value


# Why a base URL was refused, as the settings page names it (`refusal_key`): the
# `InvalidInput.detail` of `_clean_base_url`, or the start of `BlockedURL.detail` (url_guard).
_REFUSALS = {
    "too_long": "too_long",
    "unparsable": "unparsable",
    "scheme": "scheme",
    "credentials": "credentials",
    "query": "query",
    "unparsable URL": "unparsable",
    "scheme is not http(s)": "scheme",
    "userinfo in the URL": "credentials",
    "no host": "scheme",
    "internal address": "internal",
    "host does not resolve": "unresolved",
}


def refusal_key(exc: InvalidInput) -> str:
    """The i18n key that says which rule refused a save (`settings.error.<reason>[.<rule>]`)."""
    if exc.reason in {"bad_base_url", "blocked_base_url"}:
        for start, rule in _REFUSALS.items():
            if exc.detail.startswith(start):
                return f"settings.error.base_url.{rule}"
    return f"settings.error.{exc.reason}"


def has_own_key(session: Session, *, user_id: int) -> bool:
    """True when the user saved an API key of their own (whether it still decrypts aside)."""
    row = session.get(UserSettings, user_id)
    return row is not None and bool(row.api_key_enc)


def set_api_credentials(
    session: Session,
    *,
    user_id: int,
    box: SecretBox,
    api_key: str,
    base_url: str,
    allow: Sequence[str] = (),
    resolver: url_guard.Resolver = url_guard.resolve,
) -> Preferences:
    """Saves the user's own API key (encrypted) and base URL.

    An empty `api_key` keeps the stored key (the form never shows it back); an empty `base_url`
    means the deployment's provider URL. A base URL the server must not call (an internal
    address, see `url_guard`) is refused; blocking, since its host may be resolved.

    Args:
        allow: the operator's allow-list of internal hosts (config
            `Settings.user_base_url_allow`).
        resolver: resolves the URL's host (tests pass a fake).

    Raises:
        InvalidInput: bad_api_key (whitespace inside, too short or long), bad_base_url,
            blocked_base_url (`BlockedURL`).
    """
    key = api_key.strip()
    if key and (len(key) < API_KEY_MIN or len(key) > API_KEY_MAX or any(c.isspace() for c in key)):
        raise InvalidInput("bad_api_key", "api_key")
    url = _clean_base_url(base_url)
    if url is not None:
        url_guard.check_base_url(url, allow=allow, resolver=resolver)
    row = _row(session, user_id)
    if key:
        row.api_key_enc = box.encrypt(key)
        row.api_key_last4 = key[-4:]
    row.api_base_url = url
    session.add(row)
    session.flush()
    return _preferences(row)


def clear_api_credentials(session: Session, *, user_id: int) -> Preferences:
    """Forgets the user's own API key and base URL."""
    row = _row(session, user_id)
    row.api_key_enc = None
    row.api_key_last4 = None
    row.api_base_url = None
    session.add(row)
    session.flush()
    return _preferences(row)


def user_credentials(
    session: Session, *, user_id: int, box: SecretBox
) -> tuple[str | None, str | None]:
    """(api_key, base_url) to use for this user's requests; (None, None) means the deployment's.

    A key that no longer decrypts (the server key changed) counts as absent. The base URL is as
    saved: `providers.UserKeyedModel` checks it again before each request (DNS may have changed).
    """
    row = session.get(UserSettings, user_id)
    if row is None:
        return None, None
    key = box.decrypt(row.api_key_enc) if row.api_key_enc else None
    return key, row.api_base_url or None


def new_conversation_fields(
    session: Session, *, user_id: int, resolve_model: Callable[[str | None], str]
) -> dict[str, Any]:
    """The fields a new conversation starts with: the user's default model, and their default
    role with its defaults (for `store.create_conversation(**fields)`)."""
    row = session.get(UserSettings, user_id)
    fields: dict[str, Any] = {"model": resolve_model(row.default_model if row else None)}
    if row is not None and row.default_role_id:
        role = get_role(session, user_id=user_id, role_id=row.default_role_id)
        if role is not None:
            fields |= binding.role_conversation_fields(role, resolve_model=resolve_model)
            if not role.model:
                fields["model"] = resolve_model(row.default_model)
    return fields
