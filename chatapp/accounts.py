"""Login use cases (STUB until the WeChat login lands): the single local dev user."""

from __future__ import annotations

from sqlmodel import Session, select

from chatapp.models import User

LOCAL_OPENID = "local-dev-user"


def local_dev_user(session: Session) -> User:
    """The one local user every browser shares before real login exists."""
    user = session.exec(select(User).where(User.openid == LOCAL_OPENID)).first()
    if user is None:
        user = User(openid=LOCAL_OPENID, nickname="本地用户")
        session.add(user)
        session.flush()
    return user
