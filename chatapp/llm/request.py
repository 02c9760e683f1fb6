"""What the client sends: the URL, headers and body of one call (no I/O)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

USER_AGENT = "chatapp-llm/0.1"


class Call:
    """URL, headers and secrets of one logical call, with its per-request overrides.

    A call is one or more HTTP attempts (retries) with the same URL and headers.
    """

    def __init__(
        self,
        path: str,
        *,
        base_url: str,
        api_key: str | None,
        override_url: str | None = None,
        override_key: str | None = None,
        stream: bool = False,
    ) -> None:
        """Build a call.

        Args:
            path: The endpoint path, e.g. "/chat/completions".
            base_url: The client's API root (no trailing slash).
            api_key: The client's key.
            override_url: A base URL for this call only.
            override_key: A key for this call only.
            stream: Whether the reply is an event stream (sets `Accept`).
        """
        key = override_key if override_key is not None else api_key
        self.path = path
        self.url = (override_url.rstrip("/") if override_url else base_url) + path
        # Both keys are scrubbed from error texts: either may be echoed back.
        self.secrets = (api_key, override_key)
        self.headers = {
            "Accept": "text/event-stream" if stream else "application/json",
            "User-Agent": USER_AGENT,
        }
        if key:
            self.headers["Authorization"] = f"Bearer {key}"


def chat_body(
    messages: Sequence[Mapping[str, Any]], model: str, *, stream: bool, **params: Any
) -> dict[str, Any]:
    """The JSON body of a chat completion request.

    Args:
        messages: `{"role": ..., "content": ...}` dicts, oldest first.
        model: The model name.
        stream: Ask for an event stream, with usage in its last chunk.
        **params: Sampling parameters; those that are None are not sent.
    """
    body: dict[str, Any] = {"model": model, "messages": [dict(m) for m in messages]}
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    for name, value in params.items():
        if value is not None:
            body[name] = list(value) if name == "stop" and not isinstance(value, str) else value
    return body
