"""Answer texts of a given length: English and Chinese markdown with paragraphs (so the client's
block-split rendering is exercised), a heading, a list and a code fence now and then."""

from __future__ import annotations

_EN = (
    "Streaming keeps the user reading while the model thinks. Each batch carries only new text, "
    "so the cost stays flat as the answer grows. "
)
_ZH = "流式输出让用户在模型思考时就能阅读。每一批只发送新增的文字，所以答案越长，每个字的代价也不会增加。"


def answer(lang: str, chars: int) -> str:
    """Markdown of exactly `chars` characters (code points) in `lang` ("en" or "zh")."""
    unit = _EN if lang == "en" else _ZH
    parts: list[str] = []
    n = 0
    i = 0
    while n < chars:
        if i % 12 == 0:
            block = f"## {'Part' if lang == 'en' else '第'} {i // 12 + 1}\n\n"
        elif i % 12 == 7:
            block = "```python\nfor i in range(3):\n    print(i)\n```\n\n"
        elif i % 12 == 9:
            block = f"- {unit[:30]}\n- {unit[30:60]}\n\n"
        else:
            block = unit * 2 + "\n\n"
        parts.append(block)
        n += len(block)
        i += 1
    return "".join(parts)[:chars]
