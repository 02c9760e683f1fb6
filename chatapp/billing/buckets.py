"""SQL expressions that bucket a timestamp column by the operator's day or hour.

The charts and the usage page count per day in the operator's time zone (BILLING_TIME_ZONE), in
the database, so a month of a million calls is one grouped query. PostgreSQL converts with the zone
itself; SQLite has no zone data, so it shifts by the zone's current UTC offset (exact for zones
without daylight saving, such as Asia/Shanghai).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, literal
from sqlalchemy.sql.elements import ColumnElement

from chatapp.core.timefmt import zone_info


def _offset_modifier(zone: str) -> str:
    offset = datetime.now(zone_info(zone)).utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset else 0
    return f"{minutes:+d} minutes"


def day(column: Any, *, zone: str, dialect: str) -> ColumnElement[str]:
    """`column` as 'YYYY-MM-DD' in `zone`."""
    if dialect == "postgresql":
        return func.to_char(func.timezone(literal(zone), column), "YYYY-MM-DD")
    return func.strftime("%Y-%m-%d", column, _offset_modifier(zone))


def hour(column: Any, *, zone: str, dialect: str) -> ColumnElement[str]:
    """`column`'s hour of the day ('00'–'23') in `zone`."""
    if dialect == "postgresql":
        return func.to_char(func.timezone(literal(zone), column), "HH24")
    return func.strftime("%H", column, _offset_modifier(zone))
