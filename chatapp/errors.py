"""The app's error types, and the one place that turns an error into text a user reads.

    ChatappError
    ├── ConfigError          a setting is missing or malformed (start-up only)
    ├── NotFound             the thing does not exist or is not the caller's
    ├── InvalidInput         the user sent something we refuse (empty, too long, bad file)
    │   └── BlockedURL       a user's base URL points at an internal address (`url_guard`)
    ├── AuthError            not logged in, bad or revoked session, locked out
    └── Forbidden            logged in, but not allowed (an admin page for a non-admin)

LLM errors live in `chatapp.llm.errors`; `user_message()` maps both trees to short Chinese/English
text. Never show `str(exc)` to a user: it may hold URLs, keys or provider internals.
"""

from __future__ import annotations


class ChatappError(Exception):
    """Base of the app's own errors."""

    code = "error"


class ConfigError(ChatappError):
    """A setting is missing or malformed."""

    code = "config"


class Forbidden(ChatappError):
    """The caller is logged in but may not do this (admin use cases for a non-admin)."""

    code = "forbidden"


class NotFound(ChatappError):
    """The requested thing does not exist or does not belong to the caller."""

    code = "not_found"


class InvalidInput(ChatappError):
    """The user sent something we refuse; `reason` is a short machine code."""

    code = "invalid_input"

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


class BlockedURL(InvalidInput):
    """A user's base URL the server must not call (internal address, userinfo, not http(s)).

    `detail` says why, for logs only. `kind` lets an answer that fails on it record the code.
    """

    kind = "blocked_base_url"

    def __init__(self, detail: str = "") -> None:
        super().__init__(self.kind, detail)


class AuthError(ChatappError):
    """Not logged in, a bad or revoked session, or a locked-out login attempt."""

    code = "auth"

    def __init__(self, reason: str = "unauthenticated") -> None:
        super().__init__(reason)
        self.reason = reason


_USER_TEXT: dict[str, tuple[str, str]] = {
    # code: (中文, English)
    "timeout": ("模型响应超时，请稍后重试。", "The model took too long to answer. Please retry."),
    "connection": (
        "无法连接到模型服务，请检查网络或服务地址。",
        "Could not reach the model service.",
    ),
    "auth": ("模型服务拒绝了 API Key，请检查密钥设置。", "The model service rejected the API key."),
    "rate_limit": (
        "请求太频繁，模型服务限流了，请稍后重试。",
        "Rate limited by the model service; retry shortly.",
    ),
    "bad_request": ("模型服务拒绝了这个请求。", "The model service refused this request."),
    "context_length": (
        "对话太长，超出了模型的上下文长度。请点“清除上下文”后再发，或开一个新对话（也可以减少上下文消息数）。",
        "The conversation is too long for the model. Click “Clear context” and send again, or "
        "start a new conversation (or lower the context window).",
    ),
    "content_policy": (
        "图片模型拒绝了这个描述（内容政策），请换一种说法再试。",
        "The image model refused this prompt (its content policy). Try describing it differently.",
    ),
    "image_fetch": (
        "无法取回生成的图片，请重试。",
        "The generated image could not be fetched. Please retry.",
    ),
    "image_blocked": (
        "模型服务给出的图片地址指向内部网络，已拒绝下载。",
        "The image address the model service gave points into an internal network; not fetched.",
    ),
    "image_too_large": (
        "生成的图片太大，没有保存。",
        "The generated image is too large to keep.",
    ),
    "server": ("模型服务出错了，请稍后重试。", "The model service failed. Please retry."),
    "truncated": (
        "回答中途断开了，已保留收到的部分。",
        "The answer was cut off; what arrived is kept.",
    ),
    "malformed": (
        "模型服务返回了无法解析的数据。",
        "The model service sent data we could not read.",
    ),
    "connection_lost": (
        "与模型服务的连接中途断开了，已保留收到的部分。",
        "The connection to the model dropped mid-answer; what arrived is kept.",
    ),
    "stalled": (
        "模型长时间没有继续输出，已保留收到的部分。",
        "The model stopped sending for too long; what arrived is kept.",
    ),
    "blocked_base_url": (
        "你设置的 API 地址指向内网或本机地址（或无法解析），服务器不会访问它。请在设置页更换。",
        "Your API base URL points at an internal address (or does not resolve), so the server "
        "will not call it. Change it in Settings.",
    ),
    "stopped": ("已停止生成。", "Stopped."),
    "interrupted": (
        "服务重启，回答被中断，已保留到最后的检查点。",
        "Interrupted by a server restart.",
    ),
    "empty_message": ("消息不能为空。", "The message is empty."),
    "message_too_long": ("消息太长了。", "The message is too long."),
    "not_found": ("对话不存在或已被删除。", "This conversation does not exist."),
    "database": (
        "数据库暂时不可用，请稍后重试（你输入的内容已保留）。",
        "The database is unavailable right now; please retry (your text is kept).",
    ),
    "internal": ("出错了，请稍后重试。", "Something went wrong. Please retry."),
}


# Message.error_code holds at most this many characters.
MAX_CODE_CHARS = 64


def error_code(exc: BaseException) -> str:
    """The code a failed answer records for `exc`: its `kind`, and for a redirect the host it
    pointed at (`"redirect:api.example.com"`, cut to MAX_CODE_CHARS), shown by `user_message`."""
    kind = getattr(exc, "kind", None) or "internal"
    host = getattr(exc, "location_host", None)
    if kind == "redirect" and isinstance(host, str) and host:
        code = f"{kind}:{host}"
        return code if len(code) <= MAX_CODE_CHARS else code[: MAX_CODE_CHARS - 1] + "…"
    return kind


def user_message(code: str | None, lang: str = "zh") -> str:
    """The text a user reads for an error code (from `LLMError.kind` or our own errors).

    The only place error text is made: raw exception text never reaches the chat. A code may
    carry one argument after a colon (`error_code`), e.g. the host a redirect pointed at.
    """
    base, _, arg = (code or "internal").partition(":")
    if base == "redirect":
        from chatapp.i18n import translate

        if arg:
            return translate("answer.error.redirect", lang).format(host=arg)
        return translate("answer.error.redirect_nowhere", lang)
    # The base only: "rate_limit:30" carries the wait for the bubble's countdown (chat/items.py).
    zh, en = _USER_TEXT.get(base, _USER_TEXT["internal"])
    return en if lang == "en" else zh
