"""What the HTTP routes read from a request: a capped body, a small form, the client's address."""

from __future__ import annotations

import json
import os
from urllib.parse import parse_qs

from fastapi import Request

MAX_FORM_BYTES = 4096


class TooLarge(Exception):
    """The body is over the route's limit."""


class BadForm(Exception):
    """The form is too large, undecodable or not a form."""


async def read_capped(request: Request, limit: int) -> bytes:
    """The request body, refusing more than `limit` bytes without buffering the excess."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise TooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def client_ip(request: Request, trusted_proxy_hops: int | None = None) -> str:
    """The client's address, for per-IP rate limits.

    X-Forwarded-For is set by whoever sends the request, so it is read only behind a known number
    of our own proxies (`TRUSTED_PROXY_HOPS`, 1 behind the shipped nginx; the same rule Reflex
    applies to the websocket): the address the last trusted proxy saw.
    """
    hops = trusted_proxy_hops
    if hops is None:
        hops = _proxy_hops()
    peer = request.client.host if request.client else "unknown"
    if hops > 0:
        forwarded = [
            p.strip() for p in request.headers.get("x-forwarded-for", "").split(",") if p.strip()
        ]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return peer


def _proxy_hops() -> int:
    try:
        return max(0, int(os.environ.get("TRUSTED_PROXY_HOPS") or 0))
    except ValueError:
        return 0


async def read_form(request: Request) -> dict[str, str]:
    """A small form (urlencoded, multipart or JSON) as a flat dict of strings.

    Raises:
        BadForm: too large, undecodable or not a form.
    """
    content_type = request.headers.get("content-type", "")
    try:
        if content_type.startswith("multipart/form-data"):
            declared = request.headers.get("content-length", "")
            if not declared.isdigit() or int(declared) > MAX_FORM_BYTES:
                raise BadForm
            form = await request.form(max_files=0, max_fields=20)
            return {k: v for k, v in form.items() if isinstance(v, str)}
        return _parse_form(content_type, await read_capped(request, MAX_FORM_BYTES))
    except BadForm:
        raise
    except Exception as exc:  # size, encoding, JSON, multipart errors: all the client's fault
        raise BadForm from exc


def _parse_form(content_type: str, body: bytes) -> dict[str, str]:
    text = body.decode("utf-8")
    if content_type.startswith("application/json"):
        data = json.loads(text or "{}")
        if not isinstance(data, dict):
            raise ValueError("not an object")
        return {str(k): v for k, v in data.items() if isinstance(v, str)}
    pairs = parse_qs(text, keep_blank_values=True, max_num_fields=20)
    return {k: v[0] for k, v in pairs.items() if v}
