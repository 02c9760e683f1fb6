"""`chat_markdown`: a message's markdown (GFM tables, code with copy, KaTeX, Mermaid diagrams), live
while streaming.

The React side is assets/chat_markdown.jsx; it also holds `window.chatStream`, the client buffer the
server appends new text to. Raw HTML in messages is never rendered (no rehype-raw) and react-markdown
drops `javascript:` links, so message content cannot run script. Images load only from this site
or an allowed host (assets/image_policy.jsx, IMAGE_HOSTS_ALLOW); a message nested too deeply, or
one the renderer fails on, shows its raw text and leaves the rest of the page alone
(assets/message_guard.jsx). A complete ```mermaid block is drawn by assets/mermaid_block.jsx, which
imports `mermaid` dynamically: the package is its own chunk, downloaded only by a page with a diagram.
"""

from __future__ import annotations

import reflex as rx
from reflex.vars import FunctionStringVar, VarData
from reflex_base.utils.imports import ImportVar

# The wrapper of list-row memos (`@rx.memo(wrapper=ROW_MEMO)`): React.memo comparing props one
# level deep (chat_markdown.jsx), so a re-sent list re-renders only rows whose fields changed.
ROW_MEMO = FunctionStringVar.create(
    "rowMemo",
    _var_data=VarData(imports={"$/public/chat_markdown.jsx": [ImportVar(tag="rowMemo")]}),
)


class ChatMarkdown(rx.Component):
    """Wraps the local ChatMarkdown React component."""

    library = "$/public/chat_markdown.jsx"
    tag = "ChatMarkdown"
    lib_dependencies: list[str] = [
        "react-markdown@10.1.0",
        "remark-gfm@4.0.1",
        "remark-math@6.0.0",
        "rehype-katex@7.0.1",
        "katex@0.16.22",
        "react-syntax-highlighter@16.1.2",
        "mermaid@12.3.0",
    ]

    content: rx.Var[str]
    stream_id: rx.Var[int]
    live: rx.Var[bool]
    # Finished, with its text kept in the tab's stream store instead of `content`.
    streamed: rx.Var[bool]


def chat_markdown(content, stream_id=-1, live=False, streamed=False) -> rx.Component:
    """Renders `content` as markdown; while `live` (or once `streamed`), shows the streamed text
    for `stream_id`."""
    return ChatMarkdown.create(content=content, stream_id=stream_id, live=live, streamed=streamed)
