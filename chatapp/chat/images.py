"""Image generation: an image model answers a turn with a picture instead of a stream of text.

`ImageModel` speaks the answer job's `ChatModel` protocol, so an image turn goes through the same
send, charge, checkpoint and ending path as a text one: the last user message is the prompt, the
provider's images endpoint draws it (`b64_json` asked for; a URL result is fetched once, through
the SSRF guard and with a size cap, since providers' URLs expire), and the stream it yields is
one `ImageDelta` (the bytes), the prompt as the answer text, and `StreamDone`.

The answer job stores each picture in the database (`store_images`), so every instance serves it
(`chatapp/api/images.py`). Bytes that are not a PNG, JPEG or WebP by their magic number are
refused (`LLMMalformedError`). A content-policy refusal (OpenAI: 400
`content_policy_violation`) is `ImagePolicyRefused`, named as such in the bubble.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from sqlmodel import Session, col, select

from chatapp.core import url_guard
from chatapp.core.pinned_http import PinnedTransport
from chatapp.errors import BlockedURL
from chatapp.llm.errors import LLMBadRequestError, LLMError, LLMMalformedError
from chatapp.llm.types import StreamDone, StreamEvent, TextDelta
from chatapp.models import GeneratedImage

# What one picture costs before the plan's multiplier for the model (chat/charging.py): a fixed
# price, as providers charge per image rather than per token.
IMAGE_UNITS = 1000
# The largest picture fetched from a provider's URL (a 1792×1024 PNG is ~3 MB).
MAX_IMAGE_BYTES = 16 * 1024 * 1024
IMAGE_FETCH_TIMEOUT_S = 30.0
IMAGE_SIZE = "1024x1024"
log = logging.getLogger(__name__)

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)


def sniff_mime(data: bytes) -> str | None:
    """The image type of `data` by its magic number (PNG, JPEG, WebP), else None."""
    for magic, mime in _MAGIC:
        if data.startswith(magic):
            return mime
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


class ImagePolicyRefused(LLMBadRequestError):
    """The provider refused to draw the prompt (its content policy)."""

    kind = "content_policy"


class ImageFetchError(LLMError):
    """The picture at a provider's URL could not be fetched."""

    kind = "image_fetch"


class ImageURLBlocked(ImageFetchError):
    """A provider's image URL points at an internal address (the SSRF guard refused it)."""

    kind = "image_blocked"


class ImageTooLarge(ImageFetchError):
    """The picture at a provider's URL is larger than MAX_IMAGE_BYTES."""

    kind = "image_too_large"


@dataclass(frozen=True)
class ImageDelta:
    """One picture the model drew, checked to be an image."""

    data: bytes
    mime: str
    text: str = ""  # not text: the answer job keeps it apart


class ImageModel:
    """An image model behind the chat protocol (see the module docstring)."""

    def __init__(
        self,
        client: Any,
        *,
        allow: Sequence[str] = (),
        resolver: url_guard.Resolver = url_guard.resolve,
        api_key: str | None = None,
    ) -> None:
        """Args:
        client: the provider's `ChatClient` (its `images` call).
        allow: the operator's allow-list for fetched URLs (`USER_BASE_URL_ALLOW`).
        resolver: resolves the host of a URL result (tests pass their own DNS).
        api_key: the user's own key, sent instead of the provider's.
        """
        self._client = client
        self._allow = tuple(allow)
        self._resolver = resolver
        self._api_key = api_key

    def stream_chat(
        self, messages: list[dict[str, str]], model: str, **params: Any
    ) -> AsyncIterator[StreamEvent]:
        """Draws the last user message; `params` (temperature, max_tokens…) mean nothing here."""
        prompt = next(
            (str(m.get("content") or "") for m in reversed(messages) if m.get("role") == "user"),
            "",
        )
        return self._draw(prompt, model)

    async def _draw(self, prompt: str, model: str) -> AsyncIterator[Any]:
        extra = {"api_key": self._api_key} if self._api_key else {}
        try:
            results = await self._client.images(
                prompt, model, n=1, size=IMAGE_SIZE, response_format="b64_json", **extra
            )
        except LLMBadRequestError as exc:
            if exc.provider_code == "content_policy_violation":
                raise ImagePolicyRefused(
                    "the provider refused the prompt",
                    status=exc.status,
                    provider_code=exc.provider_code,
                ) from exc
            raise
        if not results:
            raise LLMMalformedError("the images endpoint returned no image")
        for result in results:
            data = await self._bytes_of(result)
            mime = sniff_mime(data)
            if mime is None:
                raise LLMMalformedError("the images endpoint returned something not an image")
            yield ImageDelta(data, mime)
        yield TextDelta(prompt)
        yield StreamDone(finish_reason="stop", model=model)

    async def _bytes_of(self, result: str) -> bytes:
        if result.startswith(("http://", "https://")):
            return await fetch_image(result, allow=self._allow, resolver=self._resolver)
        try:
            return base64.b64decode(result, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise LLMMalformedError("an image's b64_json is not base64") from exc


async def fetch_image(
    url: str, *, allow: Sequence[str] = (), resolver: url_guard.Resolver = url_guard.resolve
) -> bytes:
    """Fetches a provider's image URL once, only from an address the SSRF guard allows, at most
    MAX_IMAGE_BYTES, following no redirect.

    Raises:
        ImageURLBlocked: the URL points at an internal address.
        ImageFetchError: the fetch failed, or the picture is larger than the cap.
    """
    transport = PinnedTransport(allow=allow, resolver=resolver)
    async with httpx.AsyncClient(
        transport=transport, timeout=IMAGE_FETCH_TIMEOUT_S, follow_redirects=False
    ) as http:
        try:
            async with http.stream("GET", url) as response:
                if response.status_code != 200:
                    raise ImageFetchError(
                        f"fetching the image answered {response.status_code}",
                        status=response.status_code,
                    )
                chunks: list[bytes] = []
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > MAX_IMAGE_BYTES:
                        raise ImageTooLarge("the image is larger than allowed")
                    chunks.append(chunk)
        except BlockedURL as exc:
            log.warning("refused an image URL: %s", exc.detail)
            raise ImageURLBlocked("the image URL points at an internal address") from exc
        except httpx.HTTPError as exc:
            raise ImageFetchError("fetching the image failed") from exc
    return b"".join(chunks)


def store_images(
    session: Session, *, user_id: int, message_id: int, images: Sequence[ImageDelta]
) -> list[str]:
    """Saves an answer's pictures; returns their ids."""
    rows = [
        GeneratedImage(user_id=user_id, message_id=message_id, mime=i.mime, data=i.data)
        for i in images
    ]
    session.add_all(rows)
    session.flush()
    return [row.id for row in rows]


def get_image(session: Session, *, user_id: int, image_id: str) -> GeneratedImage | None:
    """The picture `image_id` if `user_id` owns it."""
    row = session.get(GeneratedImage, image_id)
    return row if row is not None and row.user_id == user_id else None


def image_ids(
    session: Session, *, user_id: int, message_ids: Sequence[int]
) -> dict[int, list[str]]:
    """The ids of the pictures of each of these answers (oldest first)."""
    if not message_ids:
        return {}
    rows = session.exec(
        select(GeneratedImage.message_id, GeneratedImage.id)
        .where(
            col(GeneratedImage.user_id) == user_id,
            col(GeneratedImage.message_id).in_(list(message_ids)),
        )
        .order_by(col(GeneratedImage.created_at))
    ).all()
    out: dict[int, list[str]] = {}
    for message_id, image_id in rows:
        out.setdefault(message_id, []).append(image_id)
    return out
