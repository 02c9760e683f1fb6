"""Brute-force protection for login codes, on the `limits` library.

Four counters, all moving windows:

- failures per browser attempt: 5 wrong codes lock that attempt for 15 minutes;
- failures per IP: a looser cap, so many browsers behind one IP can't multiply the attempts;
- failures globally: stops enumeration of the 10^8 code space by a botnet of fresh IPs/attempts;
- submissions per IP: plain request rate, wrong or right.

Storage is process memory by default (`async+memory://`) and redis when `REDIS_URL` is set, so
several workers share the counters. The same guard serves the login page and the HTTP API.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from limits import RateLimitItem, parse
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from chatapp.config import Settings
from chatapp.errors import AuthError


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
    global_failures: str = "200 per 10 minutes"
    per_ip_requests: str = "30 per minute"
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
        self._global_fail: RateLimitItem = parse(cfg.global_failures)
        self._ip_req: RateLimitItem = parse(cfg.per_ip_requests)
        self._bad_token: RateLimitItem = parse(cfg.per_ip_bad_tokens)
        self._qrcode: RateLimitItem = parse(cfg.per_ip_qrcodes)
        self._locks: dict[str, _IpLock] = {}

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
        """Counts one submission and refuses it when any limit is reached.

        Raises:
            LoginLocked: "locked" (this attempt or IP had too many failures) or "rate_limited".
        """
        if not await self._limiter.test(self._attempt, "attempt", attempt_id):
            raise LoginLocked("locked", await self._wait(self._attempt, "attempt", attempt_id))
        if not await self._limiter.test(self._ip_fail, "ipfail", ip):
            raise LoginLocked("locked", await self._wait(self._ip_fail, "ipfail", ip))
        if not await self._limiter.test(self._global_fail, "globalfail"):
            raise LoginLocked("rate_limited", await self._wait(self._global_fail, "globalfail"))
        if not await self._limiter.hit(self._ip_req, "ipreq", ip):
            raise LoginLocked("rate_limited", await self._wait(self._ip_req, "ipreq", ip))

    async def failed(self, *, attempt_id: str, ip: str) -> LoginLocked | None:
        """Records a wrong code; returns the lock when this failure reached a limit."""
        await self._limiter.hit(self._attempt, "attempt", attempt_id)
        await self._limiter.hit(self._ip_fail, "ipfail", ip)
        await self._limiter.hit(self._global_fail, "globalfail")
        if not await self._limiter.test(self._attempt, "attempt", attempt_id):
            return LoginLocked("locked", await self._wait(self._attempt, "attempt", attempt_id))
        return None

    async def remaining(self, *, attempt_id: str) -> int:
        """Wrong codes this attempt may still send before it is locked."""
        stats = await self._limiter.get_window_stats(self._attempt, "attempt", attempt_id)
        return stats.remaining

    async def succeeded(self, *, attempt_id: str) -> None:
        """Forgets the attempt's failures after a successful login."""
        await self._limiter.clear(self._attempt, "attempt", attempt_id)

    async def check_verify(self, *, ip: str) -> None:
        """Refuses token checks from an IP that sent too many bad tokens (valid ones are free).

        Raises:
            LoginLocked: reason "rate_limited".
        """
        if not await self._limiter.test(self._bad_token, "badtoken", ip):
            raise LoginLocked("rate_limited", await self._wait(self._bad_token, "badtoken", ip))

    async def verify_failed(self, *, ip: str) -> None:
        """Records a bad or revoked token presented by `ip`."""
        await self._limiter.hit(self._bad_token, "badtoken", ip)

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
