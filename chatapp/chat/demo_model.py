"""The built-in offline demo model: answers without any API key, so every feature can be tried.

It streams a short reasoning (so the 「思考过程」 block can be tried), then a deterministic,
markdown-rich answer (headings, lists, a table, code, KaTeX in all the delimiters models emit) at
a realistic pace, in Chinese when the question is Chinese. It speaks the
same event types as `chatapp.llm.ChatClient.stream_chat`, so the app cannot tell the difference.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from chatapp.chat.prompts import estimate_tokens
from chatapp.llm.types import ReasoningDelta, StreamDone, TextDelta, Usage

DEMO_MODEL_ID = "demo"
_CJK = re.compile(r"[\u4e00-\u9fff]")

_ZH = """你好！我是 **离线演示模型**（没有配置 API Key 时由 chatapp 内置提供）。你刚才说：

> {question}

下面演示 chatapp 能渲染的内容：

## 1. 列表与强调
- 支持 *斜体*、**粗体** 和 `行内代码`
- 有序与无序列表、引用、链接：[Reflex](https://reflex.dev)

## 2. 代码（带复制按钮）
```python
def fib(n: int) -> int:
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a
```

## 3. 表格
| 功能 | 状态 |
| --- | --- |
| 流式输出 | ✅ |
| 停止生成 | ✅ |
| 数学公式 | ✅ |

## 4. 数学公式
行内公式 \\(e^{{i\\pi}} + 1 = 0\\)，也支持 $a^2 + b^2 = c^2$。块级公式：

\\[
\\int_0^1 x^2\\,dx = \\frac{{1}}{{3}}
\\]

配置 `OPENAI_API_KEY` 后即可连接真实模型。
"""

_EN = """Hello! I am the **offline demo model** (built into chatapp, used when no API key is set).
You said:

> {question}

Here is what chatapp renders:

## 1. Lists and emphasis
- *italic*, **bold** and `inline code`
- ordered and unordered lists, quotes, links: [Reflex](https://reflex.dev)

## 2. Code (with a copy button)
```python
def fib(n: int) -> int:
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a
```

## 3. A table
| Feature | Status |
| --- | --- |
| Streaming | ✅ |
| Stop | ✅ |
| Math | ✅ |

## 4. Math
Inline \\(e^{{i\\pi}} + 1 = 0\\), also $a^2 + b^2 = c^2$. Display:

\\[
\\int_0^1 x^2\\,dx = \\frac{{1}}{{3}}
\\]

Set `OPENAI_API_KEY` to talk to a real model.
"""


# One sentence: enough to show the reasoning block, cheap to stream.
_REASONING_ZH = "用户在试用离线演示模型。我来展示 chatapp 能渲染的内容：列表、代码、表格和公式。"
_REASONING_EN = (
    "The user is trying the offline demo model. I will show what chatapp renders: "
    "lists, code, a table and math."
)


def demo_reasoning(question: str) -> str:
    """The demo model's reasoning before its answer to `question`."""
    return _REASONING_ZH if _CJK.search(question) or not question.strip() else _REASONING_EN


def demo_answer(question: str) -> str:
    """The demo model's full answer to `question` (deterministic)."""
    quoted = " ".join(question.split())[:200] or "…"
    template = _ZH if _CJK.search(question) or not question.strip() else _EN
    return template.format(question=quoted)


class DemoModel:
    """An offline model with `stream_chat` like `ChatClient`'s."""

    def __init__(
        self,
        *,
        chunk_chars: int = 3,
        chunks_per_s: float = 60.0,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.chunk_chars = chunk_chars
        self.interval = 1.0 / chunks_per_s if chunks_per_s > 0 else 0.0
        self._sleep = sleep

    async def stream_chat(
        self, messages: list[dict[str, str]], model: str = DEMO_MODEL_ID, **_params: Any
    ) -> AsyncIterator[ReasoningDelta | TextDelta | StreamDone]:
        """Streams the demo reasoning, then the demo answer to the last user message."""
        question = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
        answer = demo_answer(question)
        await self._sleep(min(0.3, self.interval * 10))  # a believable time to first token
        reasoning = demo_reasoning(question)
        for start in range(0, len(reasoning), self.chunk_chars):
            yield ReasoningDelta(reasoning[start : start + self.chunk_chars])
            await self._sleep(self.interval)
        for start in range(0, len(answer), self.chunk_chars):
            yield TextDelta(answer[start : start + self.chunk_chars])
            await self._sleep(self.interval)
        prompt_tokens = sum(estimate_tokens(m["content"]) for m in messages)
        yield StreamDone(
            finish_reason="stop",
            usage=Usage(
                prompt_tokens, estimate_tokens(answer), prompt_tokens + estimate_tokens(answer)
            ),
            model=DEMO_MODEL_ID,
        )
