"""The subset of OpenAI's chat completion request the open API accepts, checked field by field
(pure: JSON in, a `ChatCompletionRequest` or an `ApiInvalid` naming the bad `param` out).

| field                          | accepted                                                  |
|--------------------------------|-----------------------------------------------------------|
| model                          | a non-empty string (whether the user may use it: the route) |
| messages                       | a non-empty list of {role, content}; role system, developer (sent as system), user or assistant; content a string or a list of text parts |
| stream                         | boolean                                                   |
| stream_options.include_usage   | boolean                                                   |
| temperature                    | number 0–2                                                |
| top_p                          | number 0–1                                                |
| max_tokens / max_completion_tokens | whole number ≥ 1 (the operator's ceiling: `admission`) |
| stop                           | a string or a list of at most 4 strings                   |
| user                           | a string of at most 256 characters                        |

Any other field is ignored, as OpenAI-compatible servers commonly do: clients send `n`,
`presence_penalty`, `tools`… and expect an answer rather than a refusal. Image parts are refused
(this deployment's chat is text only).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from chatapp.core.parameters import ABSOLUTE

ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant"}
MAX_STOP = 4
MAX_USER_CHARS = 256


class ApiInvalid(Exception):
    """A request field the API refuses: `param` names it (OpenAI's `error.param`), `reason` is
    the i18n key's last part and `values` fill its placeholders."""

    def __init__(self, reason: str, param: str | None, **values: Any) -> None:
        super().__init__(reason, param)
        self.reason = reason
        self.param = param
        self.values = values


@dataclass(frozen=True)
class ChatCompletionRequest:
    """A checked request: what goes upstream, and how to answer."""

    model: str
    messages: list[dict[str, str]]
    stream: bool = False
    include_usage: bool = False
    # temperature, top_p, max_tokens, stop, user: only those the client sent.
    params: dict[str, Any] = field(default_factory=dict)


def parse_request(body: Any) -> ChatCompletionRequest:
    """Checks a decoded JSON body.

    Raises:
        ApiInvalid: the first bad field, in the table's order.
    """
    if not isinstance(body, dict):
        raise ApiInvalid("not_object", None)
    model = body.get("model")
    if model is None:
        raise ApiInvalid("required", "model")
    if not isinstance(model, str) or not model.strip():
        raise ApiInvalid("type", "model", expected="string")
    messages = _messages(body.get("messages"))
    stream = _bool(body, "stream")
    options = body.get("stream_options")
    include_usage = False
    if options is not None:
        if not isinstance(options, dict):
            raise ApiInvalid("type", "stream_options", expected="object")
        include_usage = _bool(options, "include_usage", "stream_options.include_usage")
    params: dict[str, Any] = {}
    for name in ("temperature", "top_p"):
        value = _number(body, name)
        if value is not None:
            params[name] = value
    max_tokens = _whole(body, "max_completion_tokens")
    if max_tokens is None:
        max_tokens = _whole(body, "max_tokens")
    if max_tokens is not None:
        params["max_tokens"] = max_tokens
    stop = _stop(body.get("stop"))
    if stop is not None:
        params["stop"] = stop
    user = body.get("user")
    if user is not None:
        if not isinstance(user, str) or len(user) > MAX_USER_CHARS:
            raise ApiInvalid("type", "user", expected=f"string ≤ {MAX_USER_CHARS}")
        params["user"] = user
    return ChatCompletionRequest(model.strip(), messages, stream, include_usage, params)


def _messages(raw: Any) -> list[dict[str, str]]:
    if raw is None:
        raise ApiInvalid("required", "messages")
    if not isinstance(raw, list):
        raise ApiInvalid("type", "messages", expected="array")
    if not raw:
        raise ApiInvalid("empty_messages", "messages")
    out: list[dict[str, str]] = []
    for index, item in enumerate(raw):
        where = f"messages[{index}]"
        if not isinstance(item, dict):
            raise ApiInvalid("type", where, expected="object")
        role = item.get("role")
        if role not in ROLES:
            raise ApiInvalid("role", f"{where}.role")
        out.append({"role": ROLES[role], "content": _content(item.get("content"), where)})
    return out


def _content(raw: Any, where: str) -> str:
    if isinstance(raw, str):
        return raw
    if raw is None:
        raise ApiInvalid("required", f"{where}.content")
    if not isinstance(raw, list):
        raise ApiInvalid("content", f"{where}.content")
    texts = []
    for index, part in enumerate(raw):
        if (
            not isinstance(part, dict)
            or part.get("type") != "text"
            or not isinstance(part.get("text"), str)
        ):
            raise ApiInvalid("content", f"{where}.content[{index}]")
        texts.append(part["text"])
    return "".join(texts)


def _bool(source: dict[str, Any], name: str, param: str | None = None) -> bool:
    value = source.get(name)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise ApiInvalid("type", param or name, expected="boolean")
    return value


def _number(body: dict[str, Any], name: str) -> float | None:
    value = body.get(name)
    if value is None:
        return None
    allowed = ABSOLUTE[name]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ApiInvalid("type", name, expected="number")
    if not math.isfinite(value) or not allowed.lo <= value <= allowed.hi:
        raise ApiInvalid("range", name, lo=_fmt(allowed.lo), hi=_fmt(allowed.hi))
    return float(value)


def _whole(body: dict[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise ApiInvalid("type", name, expected="integer")
    if value < 1:
        raise ApiInvalid("minimum", name, lo="1")
    return int(value)


def _stop(raw: Any) -> str | list[str] | None:
    if raw is None or isinstance(raw, str):
        return raw
    if isinstance(raw, list) and len(raw) <= MAX_STOP and all(isinstance(s, str) for s in raw):
        return list(raw)
    raise ApiInvalid("type", "stop", expected=f"string or ≤ {MAX_STOP} strings")


def _fmt(number: float) -> str:
    return str(int(number)) if number == int(number) else f"{number:g}"
