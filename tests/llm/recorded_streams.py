"""Event streams as real OpenAI-compatible servers send them, shortened but byte-faithful in their
framing and fields: llama.cpp's server, the LiteLLM proxy, DeepSeek's reasoner, OpenRouter, a
local R1-style model with `<think>` tags, OpenAI's refusal and tool-call streams."""

from __future__ import annotations

import json
from typing import Any


def _frames(*chunks: dict[str, Any], sep: str = "\n\n", done: bool = True) -> bytes:
    body = "".join(f"data: {json.dumps(c, ensure_ascii=False)}{sep}" for c in chunks)
    return (body + (f"data: [DONE]{sep}" if done else "")).encode()


def _chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "chatcmpl-rec",
        "object": "chat.completion.chunk",
        "created": 1764800000,
        "model": extra.pop("model", "rec-model"),
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    base.update(extra)
    return base


# llama.cpp's server (b5xxx): no `role` chunk of its own, `timings` on the last chunk, usage on the
# chunk that carries the finish reason, `\n\n` framing.
LLAMA_CPP = _frames(
    _chunk({"content": "Hel"}, model="gpt-3.5-turbo", system_fingerprint="b5000-abc"),
    _chunk({"content": "lo, 世界"}, model="gpt-3.5-turbo", system_fingerprint="b5000-abc"),
    _chunk(
        {},
        "stop",
        model="gpt-3.5-turbo",
        system_fingerprint="b5000-abc",
        usage={"completion_tokens": 3, "prompt_tokens": 9, "total_tokens": 12},
        timings={"prompt_n": 9, "predicted_n": 3, "predicted_ms": 41.2},
    ),
)

# llama.cpp with `--reasoning-format deepseek`: reasoning in `reasoning_content`.
LLAMA_CPP_REASONING = _frames(
    _chunk({"role": "assistant", "content": None, "reasoning_content": "Let me think"}),
    _chunk({"content": None, "reasoning_content": " about 2+2."}),
    _chunk({"content": "4"}),
    _chunk(
        {},
        "stop",
        usage={"completion_tokens": 12, "prompt_tokens": 5, "total_tokens": 17},
    ),
)

# The LiteLLM proxy: `\r\n\r\n` framing, provider_specific_fields, a separate usage chunk with
# completion_tokens_details.
LITELLM = _frames(
    _chunk(
        {"role": "assistant", "content": "Sure", "provider_specific_fields": None},
        system_fingerprint=None,
    ),
    _chunk({"content": " thing.", "function_call": None, "tool_calls": None, "audio": None}),
    _chunk({}, "stop"),
    {
        "id": "chatcmpl-rec",
        "object": "chat.completion.chunk",
        "created": 1764800000,
        "model": "rec-model",
        "choices": [],
        "usage": {
            "completion_tokens": 20,
            "prompt_tokens": 7,
            "total_tokens": 27,
            "completion_tokens_details": {"reasoning_tokens": 16, "audio_tokens": None},
            "prompt_tokens_details": {"cached_tokens": 0},
        },
    },
    sep="\r\n\r\n",
)

# DeepSeek's deepseek-reasoner: reasoning_content first, content null; then content.
DEEPSEEK = _frames(
    _chunk({"role": "assistant", "content": None, "reasoning_content": ""}),
    _chunk({"content": None, "reasoning_content": "用户问候。"}),
    _chunk({"content": None, "reasoning_content": "回应即可。"}),
    _chunk({"content": "你好！", "reasoning_content": None}),
    _chunk(
        {"content": "", "reasoning_content": None},
        "stop",
        usage={
            "prompt_tokens": 6,
            "completion_tokens": 30,
            "total_tokens": 36,
            "completion_tokens_details": {"reasoning_tokens": 25},
        },
    ),
)

# OpenRouter: `reasoning` (and a keep-alive comment line).
OPENROUTER = b": OPENROUTER PROCESSING\n\n" + _frames(
    _chunk({"role": "assistant", "content": "", "reasoning": "Thinking"}),
    _chunk({"content": "", "reasoning": " hard."}),
    _chunk({"content": "Done."}),
    _chunk({"content": ""}, "length"),
)

# A local R1 distill with no reasoning parser: `<think>` in the content, tags split across chunks.
THINK_TAGS = _frames(
    _chunk({"role": "assistant", "content": "<thi"}),
    _chunk({"content": "nk>\nHmm, 1+1"}),
    _chunk({"content": " is 2.\n</th"}),
    _chunk({"content": "ink>\n\nThe answer is 2."}),
    _chunk({}, "stop"),
)

# OpenAI: a refusal, and an answer that only asks for a tool.
REFUSAL = _frames(
    _chunk({"role": "assistant", "content": None, "refusal": ""}),
    _chunk({"refusal": "I'm sorry, I can't help with that."}),
    _chunk({}, "stop"),
)
TOOL_CALLS = _frames(
    _chunk(
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "index": 0,
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": ""},
                }
            ],
        }
    ),
    _chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"city":"Paris"}'}}]}),
    _chunk({}, "tool_calls"),
)

CONTENT_FILTER = _frames(_chunk({"content": "Part"}), _chunk({}, "content_filter"))

RECORDED: dict[str, bytes] = {
    "llama.cpp": LLAMA_CPP,
    "llama.cpp-reasoning": LLAMA_CPP_REASONING,
    "litellm": LITELLM,
    "deepseek": DEEPSEEK,
    "openrouter": OPENROUTER,
    "think-tags": THINK_TAGS,
    "refusal": REFUSAL,
    "tool-calls": TOOL_CALLS,
    "content-filter": CONTENT_FILTER,
}
