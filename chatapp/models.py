"""sqlmodel tables. Everything a user owns carries `user_id`; every query filters by it (see store).

Timestamps are timezone-aware UTC (`utcnow()`); sqlmodel stores them as UTC on SQLite and PostgreSQL
and refuses naive ones.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    """Now, as aware UTC (what we store)."""
    return datetime.now(UTC)


def new_id() -> str:
    """A short random URL-safe id for rows that appear in URLs."""
    return secrets.token_urlsafe(9)


class User(SQLModel, table=True):
    """A person who logged in through WeChat (or the dev simulator)."""

    id: int | None = Field(default=None, primary_key=True)
    openid: str = Field(index=True, unique=True, max_length=128)
    nickname: str = Field(default="", max_length=64)
    avatar: str = Field(default="", max_length=512)
    is_admin: bool = False
    created_at: datetime = Field(default_factory=utcnow)
    last_login_at: datetime = Field(default_factory=utcnow)


class AuthSession(SQLModel, table=True):
    """One issued JWT (by `jti`); revoking it logs that browser out."""

    jti: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(index=True, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    revoked_at: datetime | None = None
    user_agent: str = Field(default="", max_length=256)
    ip: str = Field(default="", max_length=64)


class LoginCode(SQLModel, table=True):
    """A one-time login code sent through WeChat; only its HMAC is stored."""

    id: int | None = Field(default=None, primary_key=True)
    openid: str = Field(index=True, max_length=128)
    code_hash: str = Field(index=True, max_length=128)
    # The code sealed with a key derived from JWT_SECRET (AES-GCM), so a repeated "登录" returns the
    # same live code instead of invalidating the one the user is typing; never stored in clear.
    code_enc: str = Field(default="", max_length=256)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    used_at: datetime | None = None


class LoginTicket(SQLModel, table=True):
    """A scan-to-login attempt: a temporary QR code whose scan confirms one browser."""

    id: str = Field(primary_key=True, max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    qr_url: str = Field(default="", max_length=512)
    openid: str | None = Field(default=None, max_length=128)
    confirmed_at: datetime | None = None
    consumed_at: datetime | None = None


class WechatPush(SQLModel, table=True):
    """A WeChat push we answered, kept briefly so retried pushes get the same reply."""

    dedup_key: str = Field(primary_key=True, max_length=256)
    reply: str = ""
    created_at: datetime = Field(default_factory=utcnow, index=True)


class Role(SQLModel, table=True):
    """A role (system prompt + defaults). `user_id` None means a built-in role."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int | None = Field(default=None, index=True, foreign_key="user.id")
    builtin_key: str | None = Field(default=None, index=True, max_length=64)
    builtin_version: int = 0
    name: str = Field(max_length=64)
    avatar: str = Field(default="🤖", max_length=512)
    description: str = Field(default="", max_length=500)
    system_prompt: str = ""
    opening_json: str = "[]"  # [{"role": "user"|"assistant", "content": "..."}]
    model: str | None = Field(default=None, max_length=128)
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    context_window: int | None = None
    token_budget: int | None = None
    tags: str = ""  # comma-separated
    language: str = Field(default="zh", max_length=8)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Conversation(SQLModel, table=True):
    """A chat thread of one user, with its own model settings."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    user_id: int = Field(index=True, foreign_key="user.id")
    title: str = Field(default="", max_length=200)
    title_is_auto: bool = True
    role_id: int | None = Field(default=None, foreign_key="role.id")
    model: str = Field(default="", max_length=128)
    temperature: float = 0.7
    top_p: float | None = None
    max_tokens: int | None = None
    context_window: int = 20
    token_budget: int = 8000
    pinned: bool = False
    preview: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow, index=True)


class Message(SQLModel, table=True):
    """One message. `kind` is user / assistant / divider (清除上下文); `status` tracks streaming."""

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: str = Field(index=True, foreign_key="conversation.id", max_length=32)
    user_id: int = Field(index=True, foreign_key="user.id")
    kind: str = Field(max_length=16)
    content: str = ""
    # done | streaming | stopped | error | interrupted
    status: str = Field(default="done", max_length=16)
    error_code: str | None = Field(default=None, max_length=64)
    finish_reason: str | None = Field(default=None, max_length=32)
    model: str | None = Field(default=None, max_length=128)
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class UserSettings(SQLModel, table=True):
    """A user's preferences, persisted server-side."""

    user_id: int = Field(primary_key=True, foreign_key="user.id")
    language: str = Field(default="zh", max_length=8)
    theme: str = Field(default="system", max_length=8)
    send_key: str = Field(default="enter", max_length=16)
    default_model: str | None = Field(default=None, max_length=128)
    default_role_id: int | None = None
    font_size: int = 15
    api_key_enc: str | None = None
    api_key_last4: str | None = Field(default=None, max_length=8)
    api_base_url: str | None = Field(default=None, max_length=512)


# --- Open API keys (chatapp/auth/api_keys.py) ---------------------------------------------------


class ApiKey(SQLModel, table=True):
    """A user's key for the open API (`/v1`): only the SHA-256 of the secret is kept.

    The counters are the key's usage ledger until the operator console's ledger lands: requests
    answered and the tokens they used, added by one UPDATE per call.
    """

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(index=True, foreign_key="user.id")
    name: str = Field(max_length=64)
    secret_hash: str = Field(index=True, unique=True, max_length=64)
    # The first characters of the key ("ck-AbCd"), so a user can tell their keys apart.
    prefix: str = Field(max_length=16)
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
