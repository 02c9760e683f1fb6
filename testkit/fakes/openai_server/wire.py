"""How the fake writes its replies: SSE frames, JSON bodies, OpenAI-style errors, usage."""

from __future__ import annotations

import base64
import hashlib
import json
import math
import struct
import zlib
from collections.abc import Callable
from typing import Any

from starlette.responses import JSONResponse, PlainTextResponse, Response


def _png(width: int, height: int, pixel: Callable[[int, int], tuple[int, int, int]]) -> bytes:
    """An RGB PNG drawn by `pixel(x, y)` (zlib only: no imaging library needed)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(
        b"\0" + bytes(c for x in range(width) for c in pixel(x, y)) for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


def _moon_scene(x: int, y: int) -> tuple[int, int, int]:
    """A night sky over hills with a moon: something a screenshot can show is a picture."""
    if (x - 88) ** 2 + (y - 36) ** 2 < 196:
        return (250, 236, 180)
    if y > 92 + 10 * math.sin(x / 14):
        return (34, 92 + y // 4, 70)
    return (20 + y // 3, 30 + y // 2, 90 + y)


# A real 128×128 PNG, for image replies (b64_json and the files behind URL results).
PNG_B64 = base64.b64encode(_png(128, 128, _moon_scene)).decode()

_ERRORS: dict[int, tuple[str, str | None, str]] = {
    400: ("invalid_request_error", None, "Bad request."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
    403: ("permission_error", None, "You are not allowed to do this."),
    404: ("invalid_request_error", "model_not_found", "The model does not exist."),
    422: ("invalid_request_error", None, "Unprocessable request."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached. Please try again later."),
}


# What OpenAI answers (400) when an image prompt breaks its content policy:
# `Reply(status=400, error=CONTENT_POLICY_ERROR)`.
CONTENT_POLICY_ERROR: dict[str, Any] = {
    "message": "Your request was rejected as a result of our safety system.",
    "type": "invalid_request_error",
    "param": None,
    "code": "content_policy_violation",
}


def sse(obj: Any, ensure_ascii: bool = False) -> bytes:
    """One `data:` event holding `obj` as JSON."""
    return f"data: {json.dumps(obj, ensure_ascii=ensure_ascii)}\n\n".encode()


def json_response(obj: Any, headers: dict[str, str], ensure_ascii: bool = False) -> Response:
    """A 200 JSON reply."""
    content = json.dumps(obj, ensure_ascii=ensure_ascii)
    return Response(content, media_type="application/json", headers=headers)


def error_object(status: int) -> dict[str, Any]:
    """The error OpenAI sends for `status`."""
    default = ("server_error", None, "The server had an error processing your request.")
    kind, code, message = _ERRORS.get(status, default)
    return {"message": message, "type": kind, "param": None, "code": code}


def error_response(
    status: int, error: dict[str, Any] | str | None, headers: dict[str, str]
) -> Response:
    """An error reply: `error` as a plain text body, or as OpenAI's `{"error": ...}`."""
    if isinstance(error, str):
        return PlainTextResponse(error, status_code=status, headers=headers)
    return JSONResponse(
        {"error": error or error_object(status)}, status_code=status, headers=headers
    )


def echo(messages: Any) -> str:
    """A deterministic answer that mentions the last user message."""
    for message in reversed(messages if isinstance(messages, list) else []):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, list):
                content = " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
            return f"You said: {content}"
    return "Hello from FakeOpenAI."


def pieces(text: str, size: int) -> list[str]:
    """`text` cut into pieces of `size` characters."""
    size = max(1, size)
    return [text[i : i + size] for i in range(0, len(text), size)]


def usage(
    body: dict[str, Any], completion_tokens: int, reasoning_tokens: int = 0
) -> dict[str, Any]:
    """Token counts: a quarter of the prompt's characters, one per completion chunk."""
    messages = body.get("messages") or []
    prompt = sum(len(str(m.get("content", ""))) for m in messages if isinstance(m, dict)) // 4
    prompt += 1
    completion = completion_tokens + reasoning_tokens
    out: dict[str, Any] = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }
    if reasoning_tokens:
        out["completion_tokens_details"] = {"reasoning_tokens": reasoning_tokens}
    return out


def vector(text: str, dims: int = 8) -> list[float]:
    """A deterministic embedding of `text`."""
    digest = hashlib.sha256(text.encode()).digest()
    return [round(b / 127.5 - 1.0, 6) for b in digest[:dims]]
