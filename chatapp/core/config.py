"""Settings from the environment, read and validated once at start-up.

`load_settings(environ)` takes a mapping so tests pass their own values instead of patching
`os.environ`. Nothing here runs at import time. In production (`CHATAPP_ENV=prod`) the app refuses to
start with placeholder secrets; in dev it generates a random JWT secret and keeps it under the data
directory so sessions survive restarts.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chatapp.core import parameters, url_guard
from chatapp.errors import ConfigError

DEFAULT_OPENAI_BASE_URL = "https://api.openai.com/v1"
DEFAULT_WECHAT_API_BASE = "https://api.weixin.qq.com"
# bandit B105: dev-only, refused in prod
DEV_WECHAT_TOKEN = "chatapp-dev-token"  # noqa: S105  # nosec B105
DEV_WECHAT_APPID = "wxdev0000000000000"
MIN_SECRET_BYTES = 32
# Per user (chatapp.chat.spend): a person typing never sends 20 messages in a minute, and three answers
# at once is two windows and a phone; see .env.example.
DEFAULT_SENDS_PER_MINUTE = 20
DEFAULT_MAX_CONCURRENT_ANSWERS = 3
DEFAULT_METRICS_ALLOW = ("127.0.0.0/8", "::1")
MIN_METRICS_TOKEN_CHARS = 16
_PLACEHOLDERS = {"", "change-me", "changeme", "secret", "your-secret", "jwt-secret", "xxx"}


@dataclass(frozen=True)
class Settings:
    """Every setting the app reads; see `.env.example` for what each means."""

    env: str = "dev"
    data_dir: Path = Path("data")
    database_url: str = "sqlite:///data/chatapp.db"
    redis_url: str | None = None
    port: int = 3000
    public_url: str = "http://localhost:3000"
    cors_origins: tuple[str, ...] = ("http://localhost:3000",)
    # How many of our own proxies stand in front (1 behind the shipped nginx): their
    # X-Forwarded-For / X-Forwarded-Host are believed, nobody else's.
    trusted_proxy_hops: int = 0
    # LLM providers. Without an API key the built-in offline demo model is used.
    openai_api_key: str | None = None
    openai_base_url: str = DEFAULT_OPENAI_BASE_URL
    models: tuple[str, ...] = ()
    providers_file: Path | None = None
    llm_timeout_s: float = 60.0
    # Hosts, IP addresses or CIDR ranges a user's own base URL may point at even though they are
    # internal (USER_BASE_URL_ALLOW); everything else internal is refused (`chatapp.core.url_guard`).
    user_base_url_allow: tuple[str, ...] = ()
    # Sessions.
    jwt_secret: str = ""
    jwt_ttl_days: int = 7
    jwt_issuer: str = "chatapp"
    # Encryption key for per-user API keys at rest (falls back to one derived from the JWT secret).
    secret_key: str = ""
    # WeChat Official Account.
    wechat_token: str = ""
    wechat_appid: str = ""
    wechat_appsecret: str = ""
    wechat_original_id: str = ""
    wechat_aes_key: str = ""
    wechat_mode: str = "plain"
    wechat_login: str = "code"
    wechat_api_base: str = DEFAULT_WECHAT_API_BASE
    wechat_keywords: tuple[str, ...] = ("登录", "验证码", "login")
    wechat_qr_image: str = "/wechat_qr.svg"
    admin_openids: tuple[str, ...] = ()
    site_name: str = "chatapp"
    # What one user may spend: ceilings on the per-conversation parameters (see
    # `chatapp.core.parameters`), sends per minute and answers streaming at once (`chatapp.chat.spend`).
    max_context_messages: int = parameters.CEILING_DEFAULTS["context_window"]
    max_token_budget: int = parameters.CEILING_DEFAULTS["token_budget"]
    max_reply_tokens: int = parameters.CEILING_DEFAULTS["max_tokens"]
    default_reply_tokens: int | None = None
    sends_per_minute: int = DEFAULT_SENDS_PER_MINUTE
    max_concurrent_answers: int = DEFAULT_MAX_CONCURRENT_ANSWERS
    extra: Mapping[str, str] = field(default_factory=dict)
    # Who may read /metrics: METRICS_TOKEN as a Bearer token, or clients from METRICS_ALLOW.
    metrics_token: str = ""
    metrics_allow: tuple[str, ...] = DEFAULT_METRICS_ALLOW
    # Hosts whose images pages load without a click (IMAGE_HOSTS_ALLOW; `chatapp.core.web_policy`).
    image_hosts_allow: tuple[str, ...] = ()
    # Plans and quotas (`chatapp.billing`): the default plan's free units a day (None: no quota)
    # and the time zone whose midnight starts a new day.
    default_daily_free: int | None = None
    billing_time_zone: str = "Asia/Shanghai"

    @property
    def is_dev(self) -> bool:
        """True in development mode (simulator on, generated secrets allowed)."""
        return self.env == "dev"

    @property
    def demo_mode(self) -> bool:
        """True when no provider is configured and the offline demo model answers."""
        return not self.openai_api_key and self.providers_file is None

    @property
    def ceilings(self) -> parameters.Ceilings:
        """The operator's ceilings on conversation parameters."""
        return parameters.Ceilings(
            context_window=self.max_context_messages,
            token_budget=self.max_token_budget,
            max_tokens=self.max_reply_tokens,
            default_max_tokens=self.default_reply_tokens,
        )

    @property
    def wechat_configured(self) -> bool:
        """True when the WeChat Official Account settings needed for callbacks exist."""
        return bool(self.wechat_token and self.wechat_appid)


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(p.strip() for p in (value or "").split(",") if p.strip())


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from exc


def _proxy_hops(env: Mapping[str, str]) -> int:
    hops = _int(env, "TRUSTED_PROXY_HOPS", 0)
    if not 0 <= hops <= 10:
        raise ConfigError(f"TRUSTED_PROXY_HOPS must be between 0 and 10, got {hops}")
    return hops


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from exc


def _spend_limits(env: Mapping[str, str]) -> dict[str, Any]:
    """The per-user spending limits, each checked against what the app supports."""
    ceilings = {
        "max_context_messages": ("CHAT_MAX_CONTEXT_MESSAGES", "context_window"),
        "max_token_budget": ("CHAT_MAX_TOKEN_BUDGET", "token_budget"),
        "max_reply_tokens": ("CHAT_MAX_REPLY_TOKENS", "max_tokens"),
    }
    out: dict[str, Any] = {}
    for field_name, (var, param) in ceilings.items():
        value = _int(env, var, parameters.CEILING_DEFAULTS[param])
        problem = parameters.check_ceiling(param, value)
        if problem:
            raise ConfigError(f"{var} {problem}")
        out[field_name] = value
    default_reply = env.get("CHAT_DEFAULT_REPLY_TOKENS") or ""
    if default_reply:
        value = _int(env, "CHAT_DEFAULT_REPLY_TOKENS", 0)
        ceiling = out["max_reply_tokens"]
        if not 1 <= value <= ceiling:
            raise ConfigError(
                f"CHAT_DEFAULT_REPLY_TOKENS must be from 1 to CHAT_MAX_REPLY_TOKENS ({ceiling}), "
                f"got {value}"
            )
        out["default_reply_tokens"] = value
    for field_name, var, default, top in (
        ("sends_per_minute", "CHAT_SENDS_PER_MINUTE", DEFAULT_SENDS_PER_MINUTE, 10_000),
        (
            "max_concurrent_answers",
            "CHAT_MAX_CONCURRENT_ANSWERS",
            DEFAULT_MAX_CONCURRENT_ANSWERS,
            1_000,
        ),
    ):
        value = _int(env, var, default)
        if not 1 <= value <= top:
            raise ConfigError(f"{var} must be from 1 to {top}, got {value}")
        out[field_name] = value
    return out


def _dev_secret(data_dir: Path, name: str) -> str:
    """A random secret kept in the data directory, so dev sessions survive restarts."""
    path = data_dir / name
    if path.exists():
        value = path.read_text().strip()
        if len(value) >= MIN_SECRET_BYTES:
            return value
    data_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    path.write_text(value)
    path.chmod(0o600)
    return value


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Reads and validates the settings.

    Args:
        environ: the variables to read; `os.environ` when omitted.

    Returns:
        The validated settings.

    Raises:
        ConfigError: a value is malformed, or a production secret is missing or a placeholder.
    """
    env = dict(os.environ if environ is None else environ)
    mode = (env.get("CHATAPP_ENV") or "dev").strip().lower()
    if mode not in {"dev", "prod"}:
        raise ConfigError(f"CHATAPP_ENV must be dev or prod, got {mode!r}")
    data_dir = Path(env.get("CHATAPP_DATA_DIR") or "data")
    port = _int(env, "PORT", 3000)
    public_url = (env.get("PUBLIC_URL") or f"http://localhost:{port}").rstrip("/")
    cors = _split(env.get("CORS_ORIGINS")) or (public_url,)

    jwt_secret = env.get("JWT_SECRET") or ""
    if mode == "prod":
        if (
            jwt_secret.strip().lower() in _PLACEHOLDERS
            or len(jwt_secret.encode()) < MIN_SECRET_BYTES
        ):
            raise ConfigError(
                f"JWT_SECRET must be a random value of at least {MIN_SECRET_BYTES} bytes in prod"
            )
    elif len(jwt_secret.encode()) < MIN_SECRET_BYTES:
        jwt_secret = _dev_secret(data_dir, "jwt_secret")

    wechat_mode = (env.get("WECHAT_MODE") or "plain").strip().lower()
    if wechat_mode not in {"plain", "compat", "safe"}:
        raise ConfigError(f"WECHAT_MODE must be plain, compat or safe, got {wechat_mode!r}")
    wechat_login = (env.get("WECHAT_LOGIN") or "code").strip().lower()
    if wechat_login not in {"code", "scan", "both"}:
        raise ConfigError(f"WECHAT_LOGIN must be code, scan or both, got {wechat_login!r}")
    aes_key = env.get("WECHAT_AES_KEY") or ""
    if wechat_mode != "plain" and len(aes_key) != 43:
        raise ConfigError(
            "WECHAT_AES_KEY must be the 43-character EncodingAESKey in compat/safe mode"
        )
    if mode == "prod":
        missing = [
            name
            for name in ("WECHAT_TOKEN", "WECHAT_APPID", "WECHAT_ORIGINAL_ID")
            if not env.get(name)
        ]
        if wechat_login in {"scan", "both"} and not env.get("WECHAT_APPSECRET"):
            missing.append("WECHAT_APPSECRET")
        if missing:
            raise ConfigError("missing WeChat settings in prod: " + ", ".join(missing))

    wechat_token = env.get("WECHAT_TOKEN") or ""
    wechat_appid = env.get("WECHAT_APPID") or ""
    if mode == "dev":
        # Dev without a real account: fixed local values so the WeChat simulator just works.
        wechat_token = wechat_token or DEV_WECHAT_TOKEN
        wechat_appid = wechat_appid or DEV_WECHAT_APPID

    user_base_url_allow = _split(env.get("USER_BASE_URL_ALLOW"))
    try:
        url_guard.parse_allow(user_base_url_allow)
    except ValueError as exc:
        raise ConfigError(f"USER_BASE_URL_ALLOW: {exc}") from exc

    providers_file = env.get("CHATAPP_PROVIDERS_FILE")
    return Settings(
        env=mode,
        data_dir=data_dir,
        database_url=env.get("DATABASE_URL") or f"sqlite:///{data_dir}/chatapp.db",
        redis_url=env.get("REDIS_URL") or None,
        port=port,
        public_url=public_url,
        cors_origins=cors,
        trusted_proxy_hops=_proxy_hops(env),
        openai_api_key=env.get("OPENAI_API_KEY") or None,
        openai_base_url=(env.get("OPENAI_BASE_URL") or DEFAULT_OPENAI_BASE_URL).rstrip("/"),
        models=_split(env.get("CHATAPP_MODELS")),
        providers_file=Path(providers_file) if providers_file else None,
        llm_timeout_s=_float(env, "LLM_TIMEOUT", 60.0),
        user_base_url_allow=user_base_url_allow,
        jwt_secret=jwt_secret,
        jwt_ttl_days=_int(env, "JWT_TTL_DAYS", 7),
        jwt_issuer=env.get("JWT_ISSUER") or "chatapp",
        secret_key=env.get("CHATAPP_SECRET_KEY") or "",
        wechat_token=wechat_token,
        wechat_appid=wechat_appid,
        wechat_appsecret=env.get("WECHAT_APPSECRET") or "",
        wechat_original_id=env.get("WECHAT_ORIGINAL_ID") or "",
        wechat_aes_key=aes_key,
        wechat_mode=wechat_mode,
        wechat_login=wechat_login,
        wechat_api_base=(env.get("WECHAT_API_BASE") or DEFAULT_WECHAT_API_BASE).rstrip("/"),
        wechat_keywords=_split(env.get("WECHAT_KEYWORDS")) or ("登录", "验证码", "login"),
        wechat_qr_image=env.get("WECHAT_QR_IMAGE") or "/wechat_qr.svg",
        admin_openids=_split(env.get("ADMIN_OPENIDS")),
        site_name=env.get("CHATAPP_SITE_NAME") or "chatapp",
        **_spend_limits(env),
        **_web_security_settings(env),
        **_billing_settings(env),
    )


def _billing_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """BILLING_DEFAULT_DAILY_FREE and BILLING_TIME_ZONE, validated.

    Raises:
        ConfigError: a negative or non-integer allowance, an unknown time zone.
    """
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    out: dict[str, Any] = {}
    raw = (env.get("BILLING_DEFAULT_DAILY_FREE") or "").strip()
    if raw:
        value = _int(env, "BILLING_DEFAULT_DAILY_FREE", 0)
        if value < 0:
            raise ConfigError(f"BILLING_DEFAULT_DAILY_FREE must be 0 or more, got {value}")
        out["default_daily_free"] = value
    zone = (env.get("BILLING_TIME_ZONE") or "").strip()
    if zone:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigError(f"BILLING_TIME_ZONE: unknown time zone {zone!r}") from exc
        out["billing_time_zone"] = zone
    return out


def _web_security_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """METRICS_TOKEN, METRICS_ALLOW and IMAGE_HOSTS_ALLOW, validated.

    Raises:
        ConfigError: a short token, an allow entry that is not an IP address or CIDR range, or
            an image host that is not a host source.
    """
    from chatapp.core.web_policy import parse_image_hosts

    token = (env.get("METRICS_TOKEN") or "").strip()
    if token and len(token) < MIN_METRICS_TOKEN_CHARS:
        raise ConfigError(f"METRICS_TOKEN must be at least {MIN_METRICS_TOKEN_CHARS} characters")
    allow = _split(env.get("METRICS_ALLOW")) or DEFAULT_METRICS_ALLOW
    if allow == ("none",):  # a token only
        allow = ()
    for entry in allow:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError as exc:
            raise ConfigError(f"METRICS_ALLOW: not an IP address or CIDR range: {entry!r}") from exc
    try:
        image_hosts = parse_image_hosts(_split(env.get("IMAGE_HOSTS_ALLOW")))
    except ValueError as exc:
        raise ConfigError(f"IMAGE_HOSTS_ALLOW: {exc}") from exc
    return {"metrics_token": token, "metrics_allow": allow, "image_hosts_allow": image_hosts}


_settings: Settings | None = None


def get_settings() -> Settings:
    """The process-wide settings, loaded on first use (never at import time)."""
    global _settings
    if _settings is None:
        _settings = load_settings()
    return _settings


def set_settings(settings: Settings | None) -> None:
    """Replaces the process-wide settings (tests and the server entry point)."""
    global _settings
    _settings = settings
