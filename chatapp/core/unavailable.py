"""Which failures mean "a backing service is down" rather than "a bug": the auth routes, the WeChat
callback and the login page answer those with 503 and a reason instead of a 500 or a traceback.

    reason(exc) → "database"   PostgreSQL/SQLite unreachable, connection dropped, pool exhausted
                  "redis"      the rate limiter's or the nonce ledger's Redis unreachable
                  None         anything else (a real bug: let it surface)
"""

from __future__ import annotations

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeout
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

OUTAGES = (OperationalError, InterfaceError, PoolTimeout, RedisConnectionError, RedisTimeout)
MESSAGES = {
    "database": "数据库暂时不可用，请稍后重试 / The database is unavailable right now; retry shortly",
    "redis": "缓存服务暂时不可用，请稍后重试 / The cache service is unavailable; retry shortly",
}


def reason(exc: BaseException) -> str | None:
    """The service that is down, judging by the exception; None when it is not an outage."""
    if isinstance(exc, OperationalError | InterfaceError | PoolTimeout):
        return "database"
    if isinstance(exc, RedisConnectionError | RedisTimeout):
        return "redis"
    return None
