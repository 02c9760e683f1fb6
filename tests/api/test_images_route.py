"""GET /api/v1/images/{id} over real HTTP: the picture to its owner only (another user's id is a
404 like a missing one, no session a 401), with nosniff, a Content-Disposition and a long private
cache; `?download=1` makes it a file to save."""

from __future__ import annotations

import httpx
from sqlmodel import Session, select

from chatapp.auth.session_cookie import NAME as SESSION_COOKIE
from chatapp.models import Conversation, GeneratedImage, Message, User

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


def _picture(engine, openid: str) -> str:
    """Seeds a drawn picture on an answer of `openid`'s; returns its id."""
    with Session(engine, expire_on_commit=False) as s:  # type: ignore[arg-type]
        user = s.exec(select(User).where(User.openid == openid)).one()
        assert user.id is not None
        conv = Conversation(user_id=user.id, title="画图", model="dall-e-3")
        s.add(conv)
        s.flush()
        msg = Message(conversation_id=conv.id, user_id=user.id, kind="assistant", content="cat")
        s.add(msg)
        s.flush()
        assert msg.id is not None
        image = GeneratedImage(user_id=user.id, message_id=msg.id, mime="image/png", data=PNG)
        s.add(image)
        s.commit()
        return image.id


def test_the_owner_gets_the_picture_with_safe_headers(start) -> None:
    run = start()
    token = run.user("o_painter")
    image_id = _picture(run.engine, "o_painter")
    url = f"{run.base_url}/api/v1/images/{image_id}"
    shown = httpx.get(url, cookies={SESSION_COOKIE: token})
    assert shown.status_code == 200 and shown.content == PNG
    assert shown.headers["content-type"] == "image/png"
    assert shown.headers["x-content-type-options"] == "nosniff"
    assert shown.headers["content-disposition"].startswith("inline;")
    cache = shown.headers["cache-control"]
    assert "private" in cache and "max-age=31536000" in cache
    saved = httpx.get(url + "?download=1", cookies={SESSION_COOKIE: token})
    assert saved.headers["content-disposition"] == (
        f'attachment; filename="chatapp-{image_id}.png"'
    )


def test_only_the_owner_sees_it(start) -> None:
    run = start()
    run.user("o_painter")
    other = run.user("o_other")
    image_id = _picture(run.engine, "o_painter")
    url = f"{run.base_url}/api/v1/images/{image_id}"
    theirs = httpx.get(url, cookies={SESSION_COOKIE: other})
    missing = httpx.get(f"{run.base_url}/api/v1/images/nope", cookies={SESSION_COOKIE: other})
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == missing.json() and PNG not in theirs.content
    assert "图片" in theirs.json()["error"]["message"]
    english = httpx.get(url, cookies={SESSION_COOKIE: other}, headers={"Accept-Language": "en"})
    assert "No such image" in english.json()["error"]["message"]
    nobody = httpx.get(url)
    assert nobody.status_code == 401 and PNG not in nobody.content
