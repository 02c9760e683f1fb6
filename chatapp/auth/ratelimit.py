"""Brute-force protection for logins and session checks, on the `limits` library.

The limits that stop guessing are keyed by what the server sees (the address, the codes, the
openid), never by an id the client picks; no limit refuses a valid code because of what *other*
addresses did, and no limit ever refuses a valid session token:

- failures per browser attempt (the page's tab, or an API client's address + user agent): 5 wrong
  codes lock that attempt for 15 minutes. This one is for the person typing; a guesser can open a
  new tab, so it protects nothing on its own;
- failures per IP: a looser cap, so new attempts from one address gain nothing;
- submissions per IP: plain request rate, wrong or right;
- failures globally: a botnet of fresh addresses is *detected*, not answered with a lockout of
  everyone: while the global rate is over its cap, each IP gets far fewer wrong codes (3 per 15
  minutes instead of 20); a valid code from an address that is not itself locked still logs in;
- near misses per live code (`accounts.near_miss_code_ids`): a code that wrong guesses landed near
  5 times is retired, which bounds the chance of guessing any one code however many addresses
  guess (its owner sends 「登录」 again);
- logins per openid: at most 10 code logins per openid per 10 minutes (a leaked code cannot mint
  sessions without end);
- bad session tokens per IP: over 60 a minute, `/verify` answers the *bad* ones 429 instead of 401;
  a valid token is checked first and always answered 200.

Storage is process memory by default (`async+memory://`) and redis when `REDIS_URL` is set, so
several workers share the counters. The same guard serves the login page and the HTTP API.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from limits import RateLimitItem, parse
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from chatapp.core.config import Settings
from chatapp.errors import AuthError

log = logging.getLogger("chatapp.auth.ratelimit")
# How often "under attack" is logged at most (it holds for as long as the failures keep coming).
_ATTACK_LOG_EVERY_S = 60.0


class LoginLocked(AuthError):
    """Too many wrong codes (reason "locked") or too many requests (reason "rate_limited")."""

    def __init__(self, reason: str, retry_after_s: int) -> None:
        super().__init__(reason)
        self.retry_after_s = max(1, retry_after_s)

    @property
    def retry_after_minutes(self) -> int:
        """Whole minutes to wait, rounded up (what the page shows)."""
        return max(1, math.ceil(self.retry_after_s / 60))


@dataclass(frozen=True)
class LoginLimits:
    """The thresholds, as `limits` strings ("5 per 15 minutes")."""

    per_attempt: str = "5 per 15 minutes"
    per_ip_failures: str = "20 per 15 minutes"
    per_ip_failures_under_attack: str = "3 per 15 minutes"
    global_failures: str = "200 per 10 minutes"
    per_ip_requests: str = "30 per minute"
    per_code_near_misses: str = "5 per 10 minutes"
    per_openid_logins: str = "10 per 10 minutes"
    per_ip_bad_tokens: str = "60 per minute"
    per_ip_qrcodes: str = "10 per minute"


@dataclass
class _IpLock:
    """One IP's lock and how many requests hold it or wait for it."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


class LoginGuard:
    """Counts login-code submissions and failures; refuses when a limit is reached."""

    def __init__(self, storage: Storage, limits: LoginLimits | None = None) -> None:
        cfg = limits or LoginLimits()
        self._limiter = MovingWindowRateLimiter(storage)
        self._attempt: RateLimitItem = parse(cfg.per_attempt)
        self._ip_fail: RateLimitItem = parse(cfg.per_ip_failures)
        self._ip_fail_attack: RateLimitItem = parse(cfg.per_ip_failures_under_attack)
        self._global_fail: RateLimitItem = parse(cfg.global_failures)
        self._ip_req: RateLimitItem = parse(cfg.per_ip_requests)
        self._near_miss: RateLimitItem = parse(cfg.per_code_near_misses)
        self._openid: RateLimitItem = parse(cfg.per_openid_logins)
        self._bad_token: RateLimitItem = parse(cfg.per_ip_bad_tokens)
        self._qrcode: RateLimitItem = parse(cfg.per_ip_qrcodes)
        self._locks: dict[str, _IpLock] = {}
        self._attack_logged_at = -_ATTACK_LOG_EVERY_S

    @contextlib.asynccontextmanager
    async def serial(self, ip: str) -> AsyncIterator[None]:
        """Runs one code check of `ip` at a time in this process. The limits are test-then-count:
        without this, parallel requests all pass `check` before any `failed` counts (measured: 7
        wrong codes evaluated under a cap of 6 with 40 in flight). Across workers, the overrun is
        bounded by the number of workers."""
        entry = self._locks.setdefault(ip, _IpLock())
        # The entry is dropped by the last user, counted explicitly: `Lock.locked()` is False
        # between a release and the next waiter waking up, and dropping the entry then lets a new
        # request take a fresh lock and run beside that waiter (CI saw 7 evaluations under a cap
        # of 6).
        entry.users += 1
        try:
            async with entry.lock:
                yield
        finally:
            entry.users -= 1
            if entry.users == 0 and self._locks.get(ip) is entry:
                del self._locks[ip]

    async def check(self, *, attempt_id: str, ip: str) -> None:
        """Counts one submission and refuses it when this attempt or this IP is over a limit.

        Raises:
            LoginLocked: "locked" (this attempt or IP had too many failures) or "rate_limited".
        """
        if not await self._limiter.test(self._attempt, "attempt", attempt_id):
            raise LoginLocked("locked", await self._wait(self._attempt, "attempt", attempt_id))
        if not await self._limiter.test(self._ip_fail, "ipfail", ip):
            raise LoginLocked("locked", await self._wait(self._ip_fail, "ipfail", ip))
        if await self.under_attack() and not await self._limiter.test(
            self._ip_fail_attack, "ipfail-attack", ip
        ):
            raise LoginLocked("locked", await self._wait(self._ip_fail_attack, "ipfail-attack", ip))
        if not await self._limiter.hit(self._ip_req, "ipreq", ip):
            raise LoginLocked("rate_limited", await self._wait(self._ip_req, "ipreq", ip))

    async def under_attack(self) -> bool:
        """True while wrong codes arrive globally faster than `global_failures` allows."""
        if await self._limiter.test(self._global_fail, "globalfail"):
            return False
        now = time.monotonic()
        if now - self._attack_logged_at >= _ATTACK_LOG_EVERY_S:
            self._attack_logged_at = now
            log.warning(
                "login codes are being guessed from many addresses: per-IP limits tightened"
            )
        return True

    async def failed(self, *, attempt_id: str, ip: str) -> LoginLocked | None:
        """Records a wrong code; returns the lock when this failure reached a limit."""
        await self._limiter.hit(self._attempt, "attempt", attempt_id)
        await self._limiter.hit(self._ip_fail, "ipfail", ip)
        await self._limiter.hit(self._ip_fail_attack, "ipfail-attack", ip)
        await self._limiter.hit(self._global_fail, "globalfail")
        if not await self._limiter.test(self._attempt, "attempt", attempt_id):
            return LoginLocked("locked", await self._wait(self._attempt, "attempt", attempt_id))
        return None

    async def near_miss(self, *, code_id: int) -> bool:
        """Records a wrong code that landed near live code `code_id`; True when it must retire."""
        key = str(code_id)
        await self._limiter.hit(self._near_miss, "nearmiss", key)
        return not await self._limiter.test(self._near_miss, "nearmiss", key)

    async def check_openid(self, *, openid: str) -> None:
        """Refuses a code login for an openid that logged in too often just now.

        Raises:
            LoginLocked: reason "rate_limited".
        """
        if not await self._limiter.test(self._openid, "openid", openid):
            raise LoginLocked("rate_limited", await self._wait(self._openid, "openid", openid))

    async def remaining(self, *, attempt_id: str) -> int:
        """Wrong codes this attempt may still send before it is locked."""
        stats = await self._limiter.get_window_stats(self._attempt, "attempt", attempt_id)
        return stats.remaining

    async def succeeded(self, *, attempt_id: str, openid: str = "") -> None:
        """Forgets the attempt's failures after a successful login and counts it for the openid."""
        await self._limiter.clear(self._attempt, "attempt", attempt_id)
        if openid:
            await self._limiter.hit(self._openid, "openid", openid)

    async def verify_failed(self, *, ip: str) -> LoginLocked | None:
        """Records a bad or revoked token presented by `ip`; the lock when it sent too many.

        Only ever called for a token that failed its check: a valid token is never refused.
        """
        if not await self._limiter.hit(self._bad_token, "badtoken", ip):
            return LoginLocked("rate_limited", await self._wait(self._bad_token, "badtoken", ip))
        return None

    async def check_qrcode(self, *, ip: str) -> None:
        """Counts a scan-login QR request; each costs a WeChat API call, so reloads are capped.

        Raises:
            LoginLocked: reason "rate_limited".
        """
        if not await self._limiter.hit(self._qrcode, "qrcode", ip):
            raise LoginLocked("rate_limited", await self._wait(self._qrcode, "qrcode", ip))

    async def _wait(self, item: RateLimitItem, *ids: str) -> int:
        stats = await self._limiter.get_window_stats(item, *ids)
        return math.ceil(stats.reset_time - time.time())


def storage_uri(settings: Settings) -> str:
    """`async+memory://`, or the redis URL rewritten for `limits`' async redis storage."""
    if settings.redis_url:
        return "async+" + settings.redis_url
    return "async+memory://"


def make_guard(settings: Settings, limits: LoginLimits | None = None) -> LoginGuard:
    """A guard with storage chosen from the settings."""
    uri = storage_uri(settings)
    options = {"implementation": "redispy"} if uri.startswith("async+redis") else {}
    return LoginGuard(storage_from_string(uri, **options), limits)  # type: ignore[arg-type]


_guard: LoginGuard | None = None


def get_guard(settings: Settings) -> LoginGuard:
    """The process-wide guard shared by the login page and the HTTP API."""
    global _guard
    if _guard is None:
        _guard = make_guard(settings)
    return _guard
