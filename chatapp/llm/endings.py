"""How an answer that streamed to its end ended, named once for every caller (the app's bubble,
the CLI); pure.

    refused          the model sent a refusal (`delta.refusal`) instead of an answer
    content_filter   the provider's filter cut the answer (`finish_reason: content_filter`)
    tool_calls       the model asked to call tools (we offer none)
    length           cut at the length limit (`finish_reason: length`), reasoning-only included
    empty            the model finished without a word
    complete         a normal end

The order is the precedence: a refusal or a filter says more than the finish reason beside it,
and an empty answer cut by the length limit (it spent the budget reasoning) is "length", since
continuing can help.
"""

from __future__ import annotations

ENDINGS = ("complete", "length", "refused", "content_filter", "tool_calls", "empty")


def ending_of(
    finish_reason: str | None, *, text: str, refusal: bool = False, tool_calls: bool = False
) -> str:
    """The ending of a stream that ended well (see the module docstring).

    Args:
        finish_reason: The last finish reason the provider named.
        text: The answer text (reasoning not included).
        refusal: The model sent refusal text.
        tool_calls: The model asked to call tools.
    """
    if refusal:
        return "refused"
    if finish_reason == "content_filter":
        return "content_filter"
    if tool_calls or finish_reason in ("tool_calls", "function_call"):
        return "tool_calls"
    if finish_reason == "length":
        return "length"
    if not text.strip():
        return "empty"
    return "complete"


# The CLI's words (the app's are in chatapp/i18n, in both languages).
CLI_TEXT = {
    "length": "cut at the length limit (max_tokens): ask the model to continue",
    "refused": "the model refused (its refusal is above)",
    "content_filter": "cut by the provider's content filter",
    "tool_calls": "the model asked to call a tool, and this client offers none",
    "empty": "the model finished without a word (an empty answer)",
}
