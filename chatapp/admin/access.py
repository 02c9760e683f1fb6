"""Who is an admin, checked on the server for every admin call.

An admin is listed in ADMIN_OPENIDS (re-read at each login, so removing an openid demotes it) or
granted by the CLI (`python -m chatapp.admin grant OPENID`, kept until `revoke`). The page only
hides its links from others; every admin use case starts with `require_admin`, which reads the
user's row again, so a stale page, a hand-made event or a demoted admin gets nothing.
"""

from __future__ import annotations

from sqlmodel import Session, select

from chatapp.core.config import Settings
from chatapp.errors import Forbidden, InvalidInput
from chatapp.models import User


def is_admin(session: Session, *, settings: Settings, user_id: int) -> bool:
    """True when `user_id` is an admin right now."""
    row = session.get(User, user_id, populate_existing=True)
    return row is not None and (row.admin_granted or row.openid in settings.admin_openids)


def require_admin(session: Session, *, settings: Settings, user_id: int) -> None:
    """Raises Forbidden unless `user_id` is an admin right now.

    Raises:
        Forbidden: not an admin (or no such user); nothing was read.
    """
    if not is_admin(session, settings=settings, user_id=user_id):
        raise Forbidden("not an admin")


def set_granted(session: Session, *, settings: Settings, openid: str, granted: bool) -> User:
    """Grants or revokes admin by openid (the CLI).

    Raises:
        InvalidInput: "unknown_openid" when nobody with that openid has logged in yet.
    """
    user = session.exec(select(User).where(User.openid == openid)).first()
    if user is None:
        raise InvalidInput("unknown_openid", openid)
    user.admin_granted = granted
    user.is_admin = granted or openid in settings.admin_openids
    session.add(user)
    session.flush()
    return user
