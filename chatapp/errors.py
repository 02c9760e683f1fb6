"""The app's error types, and the one place that turns an error into text a user reads.

    ChatappError
    ├── ConfigError          a setting is missing or malformed (start-up only)
    ├── NotFound             the thing does not exist or is not the caller's
    ├── InvalidInput         the user sent something we refuse (empty, too long, bad file)
    └── AuthError            not logged in, bad or revoked session, locked out

LLM errors live in `chatapp.llm.errors`; `user_message()` maps both trees to short Chinese/English
text. Never show `str(exc)` to a user: it may hold URLs, keys or provider internals.
"""

from __future__ import annotations


class ChatappError(Exception):
    """Base of the app's own errors."""

    code = "error"


class ConfigError(ChatappError):
    """A setting is missing or malformed."""

    code = "config"


class NotFound(ChatappError):
    """The requested thing does not exist or does not belong to the caller."""

    code = "not_found"


class InvalidInput(ChatappError):
    """The user sent something we refuse; `reason` is a short machine code."""

    code = "invalid_input"

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


class AuthError(ChatappError):
    """Not logged in, a bad or revoked session, or a locked-out login attempt."""

    code = "auth"

    def __init__(self, reason: str = "unauthenticated") -> None:
        super().__init__(reason)
        self.reason = reason
