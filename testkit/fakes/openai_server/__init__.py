"""A fake OpenAI-compatible HTTP server for tests and benchmarks: real sockets, real pacing.

    with FakeOpenAI() as srv:                       # srv.base_url == "http://127.0.0.1:PORT/v1"
        srv.queue(Reply(text="hello world", chunk_chars=4, chunks_per_s=95))
        ...                                         # point any client at srv.base_url
        srv.requests[-1].json["messages"]           # what the client sent
        srv.wait_for(lambda: srv.disconnects == 1)  # the client went away mid-stream

Each request to /v1/* takes the next queued `Reply` (any endpoint), else `srv.default`, whose
default text echoes the last user message. Faults: "drop" (close the connection after
`fault_after` content chunks), "truncate" (end cleanly with no finish_reason and no [DONE]),
"stall" (stop sending for `stall_s`, connection kept open), "malformed" (a chunk that is not
JSON), "error_in_stream" (an `{"error": ...}` event, then the end); `status=` answers with an
OpenAI-style error body and `headers=` (e.g. retry-after); `first_byte_delay_s` delays the reply.

What today's models send, for the endings a client must name: `reasoning=` (in
`reasoning_content`, `reasoning` or `<think>` tags, `reasoning_field=`), `refusal=`,
`tool_call=True`, `finish_reason="length"` / `"content_filter"`, `text=""`; and bodies that are
not an event stream (`body=`: "empty", "json_in_sse", "json"). Images: /v1/images/generations
answers `b64_json` (a real 1×1 PNG) when asked, else a URL under /files/ that it serves too;
`Reply(status=400, error=CONTENT_POLICY_ERROR)` is OpenAI's content-policy refusal.

Modules: `reply` (what to answer), `shapes` (deltas and completions), `wire` (SSE, JSON, errors),
`server` (the server), `cli` (run it as its own process for benchmarks):

    python -m testkit.fakes.openai_server --port 8900 --chunks-per-s 95
"""

from __future__ import annotations

from .cli import main, run_forever
from .reply import Body, Fault, ReasoningField, RecordedRequest, Reply
from .server import FakeOpenAI
from .wire import CONTENT_POLICY_ERROR

__all__ = [
    "CONTENT_POLICY_ERROR",
    "Body",
    "FakeOpenAI",
    "Fault",
    "ReasoningField",
    "RecordedRequest",
    "Reply",
    "main",
    "run_forever",
]
