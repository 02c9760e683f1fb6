"""sqlmodel tables. Everything a user owns carries `user_id`; every query filters by it (see store).

Timestamps are timezone-aware UTC (`utcnow()`); sqlmodel stores them as UTC on SQLite and PostgreSQL
and refuses naive ones.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from sqlalchemy import Column, ForeignKey, Index, Integer, LargeBinary, UniqueConstraint
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
    # An admin: listed in ADMIN_OPENIDS (re-read at every login) or granted by the CLI
    # (`python -m chatapp.admin grant OPENID`, kept in `admin_granted`).
    is_admin: bool = False
    admin_granted: bool = False
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
    # How an answer ended, named in its bubble: complete | length | refused | content_filter |
    # tool_calls | empty (chatapp.llm.endings), stopped | interrupted | error; None while streaming.
    ending: str | None = Field(default=None, max_length=32)
    model: str | None = Field(default=None, max_length=128)
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    # The model's reasoning, kept apart from `content`: shown folded above the answer, never sent
    # back as context, never in titles, previews or search.
    reasoning: str = ""
    # How long the model reasoned before the answer began (shown as "thought for 12 s").
    reasoning_ms: int | None = None
    # Of completion_tokens, those spent reasoning, as the provider reported them.
    reasoning_tokens: int | None = None
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
    # Keep an answer's reasoning unfolded once the answer starts (folded by default).
    reasoning_open: bool = False
    api_key_enc: str | None = None
    api_key_last4: str | None = Field(default=None, max_length=8)
    api_base_url: str | None = Field(default=None, max_length=512)


# ---- plans, balances and the usage ledger (chatapp/billing) --------------------------------------
# Amounts are in charged units: tokens × the plan's multiplier for the model (see billing.plans).


class Plan(SQLModel, table=True):
    """A group of users sharing one allowance: the daily free units, the models allowed and their
    price ratios, a send rate and a message size. Exactly one plan is the default."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=64)
    # Units free per day (the operator's day, see billing.plans.today); None: no quota at all.
    daily_free: int | None = None
    # JSON list of the models this plan may use; [] allows every model.
    models_json: str = "[]"
    # JSON object model -> price ratio; a model not listed costs 1 unit per token.
    multipliers_json: str = "{}"
    # 0 takes the server's setting (CHAT_SENDS_PER_MINUTE, CHAT_MAX_MESSAGE_CHARS).
    sends_per_minute: int = 0
    max_message_chars: int = 0
    is_default: bool = Field(default=False, index=True)
    created_at: datetime = Field(default_factory=utcnow)


class Wallet(SQLModel, table=True):
    """A user's plan, account status and balance: one row per user, made at first use.

    Every change is one conditional UPDATE (billing.wallet), never read-then-write, so parallel
    sends on several workers cannot spend what is not there."""

    user_id: int = Field(primary_key=True, foreign_key="user.id")
    plan_id: int = Field(foreign_key="plan.id", index=True)
    # A plan bought for some days (a redeem code) runs until then; None: no end.
    plan_until: datetime | None = None
    status: str = Field(default="active", max_length=16)  # active | frozen
    balance: int = 0
    # Units held by answers in flight (reserved before the call, released when it settles).
    reserved: int = 0
    # The day `free_used` counts (YYYY-MM-DD in the operator's time zone).
    free_day: str = Field(default="", max_length=10)
    free_used: int = 0


class UsageEntry(SQLModel, table=True):
    """One model call: who, which provider and model, the tokens, and what it cost (the usage
    ledger). Reserved before the call, settled with the real usage after it."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow, index=True)
    source: str = Field(default="chat", max_length=16)  # chat | api | image
    provider: str = Field(default="", max_length=64)
    model: str = Field(default="", max_length=128)
    conversation_id: str | None = Field(default=None, max_length=32)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    reasoning_tokens: int = 0
    images: int = 0
    # True when the provider sent no usage and the tokens were counted by us.
    estimated: bool = False
    status: str = Field(default="reserved", max_length=16)  # reserved | settled | refunded
    multiplier: float = 1.0
    reserved: int = 0
    charge: int = 0
    # How long the first token took, and the error the call ended with (None: it answered).
    first_token_ms: int | None = None
    error_code: str | None = Field(default=None, max_length=64)
    __table_args__ = (
        Index("ix_usageentry_user_time", "user_id", "created_at"),
        Index("ix_usageentry_time_model", "created_at", "model"),
    )


class BalanceEntry(SQLModel, table=True):
    """A credit or debit of a balance that is not a model call: a redeem code, an admin's
    adjustment, and later a payment. `(kind, ref)` is unique, so a payment notice that arrives
    twice credits once."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    kind: str = Field(max_length=16)  # redeem | admin | payment
    ref: str = Field(max_length=128)
    amount: int = 0
    plan_id: int | None = None
    plan_days: int = 0
    reason: str = Field(default="", max_length=200)
    actor_id: int | None = None
    __table_args__ = (UniqueConstraint("kind", "ref", name="uq_balanceentry_kind_ref"),)


class RedeemBatch(SQLModel, table=True):
    """Redeem codes (兑换码) made together: what each is worth and until when."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(default="", max_length=64)
    count: int = 0
    amount: int = 0
    plan_id: int | None = Field(default=None, foreign_key="plan.id")
    plan_days: int = 0
    expires_at: datetime | None = None
    created_by: int | None = None
    created_at: datetime = Field(default_factory=utcnow)


class RedeemCode(SQLModel, table=True):
    """One code of a batch, stored as a keyed hash (the code itself is shown once, at creation)."""

    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="redeembatch.id", index=True)
    code_hash: str = Field(unique=True, max_length=128)
    used_by: int | None = None
    used_at: datetime | None = None


class SensitiveWords(SQLModel, table=True):
    """The operator's 敏感词 list (one row, id 1) and what it does; `version` grows on each save so
    every worker reloads it."""

    id: int = Field(default=1, primary_key=True)
    words: str = ""
    refuse_input: bool = True
    mask_output: bool = True
    version: int = 0
    updated_at: datetime = Field(default_factory=utcnow)
    updated_by: int | None = None


class AuditEvent(SQLModel, table=True):
    """Who did what when: admin actions, logins, refusals."""

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    actor_id: int | None = Field(default=None, index=True)
    action: str = Field(max_length=64, index=True)
    target: str = Field(default="", max_length=128)
    detail: str = ""


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


class GeneratedImage(SQLModel, table=True):
    """A picture an image model drew for an answer, kept here (not on disk, not at the
    provider's URL, which expires) so every instance serves it: `GET /api/v1/images/{id}`, to
    its owner only. Deleted with its answer message, so with its conversation too."""

    id: str = Field(default_factory=new_id, primary_key=True, max_length=16)
    user_id: int = Field(index=True, foreign_key="user.id")
    message_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("message.id", ondelete="CASCADE"), index=True, nullable=False
        )
    )
    # image/png | image/jpeg | image/webp, read from the bytes' magic number.
    mime: str = Field(max_length=32)
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class UsageDay(SQLModel, table=True):
    """The usage ledger summed per finished operator day and model (`billing.rollup`), so the
    dashboard's per-day chart reads a few hundred rows instead of a month of calls. Keyed by the
    zone the day was counted in: a changed BILLING_TIME_ZONE counts its days afresh."""

    zone: str = Field(primary_key=True, max_length=64)
    day: str = Field(primary_key=True, max_length=10)  # 'YYYY-MM-DD' in `zone`
    model: str = Field(primary_key=True, max_length=128)
    calls: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    prompt_tokens: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    completion_tokens: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # Distinct users of this model that day: not a sum of anything smaller, so stored as counted.
    active_users: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
