"""One attempt at a streamed chat completion: send the request, check the reply, decode its
events against the first-byte and idle deadlines, and yield the answer as it comes.

Retries are the caller's (`ChatClient.stream_chat`): an attempt only raises, with what it
gathered so far in `StreamState`, so the caller can tell whether anything was yielded.

Replies that are not a well-formed event stream, and what they mean:
- a 200 event stream with an empty body: llama.cpp's answer to a prompt longer than its context
  window (its error goes to its log only), so an `LLMContextLengthError` that is not retried;
- an "event stream" whose body is one JSON object with no `data:` lines (some proxies and
  servers send their error, or a whole completion, that way): read as that JSON;
- a JSON completion answering a streaming request: read as a completion.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, Callable, Mapping
from typing import Any

import httpx

from .deadline import ReadDeadline
from .errors import LLMContextLengthError, LLMError, LLMTimeoutError, LLMTruncatedError
from .replies import (
    Chunk,
    http_error,
    json_reply_as_stream,
    parse_chunk,
    redirect_error,
    transport_error,
)
from .request import Call
from .sse import SSEDecoder
from .think import ThinkSplitter
from .types import ReasoningDelta, RefusalDelta, StreamDone, StreamEvent, TextDelta, Usage

log = logging.getLogger(__name__)

# A read that took longer than this waited for the network (see `read_pace`).
_WAITED_S = 0.002
# The start of a body kept while it holds no event, to read it as JSON if it ends that way.
_RAW_KEPT = 65_536


class StreamState:
    """What one stream attempt has gathered so far."""

    def __init__(self) -> None:
        self.created = time.monotonic()
        # The text so far, as parts joined when read: `text += part` would copy the whole answer
        # on every chunk (O(answer^2) for a long answer).
        self._parts: list[str] = []
        self.chunks = 0
        self.finish_reason: str | None = None
        self.usage: Usage | None = None
        self.model: str | None = None
        self.tool_calls = False
        # Reasoning or a refusal was yielded: like text, it must not be yielded twice by a retry.
        self.yielded_other = False
        self._think = ThinkSplitter()

    @property
    def text(self) -> str:
        """The answer text gathered so far."""
        if len(self._parts) > 1:
            self._parts[:] = ["".join(self._parts)]
        return self._parts[0] if self._parts else ""

    @property
    def yielded(self) -> bool:
        """Whether anything of the answer (text, reasoning, refusal) was handed out."""
        return self.yielded_other or bool(self._parts)

    def add(self, chunk: Chunk) -> list[StreamEvent]:
        """Folds in one chunk (a field the chunk leaves out keeps its earlier value); returns the
        events it brings, reasoning first."""
        self.chunks += 1
        events: list[StreamEvent] = []
        reasoning, text = chunk.reasoning, chunk.text
        if text:
            think, text = self._think.feed(text)
            reasoning += think
        if reasoning:
            events.append(ReasoningDelta(reasoning))
        if chunk.refusal:
            events.append(RefusalDelta(chunk.refusal))
        if text:
            self._parts.append(text)
            events.append(TextDelta(text))
        if chunk.model is not None:
            self.model = chunk.model
        if chunk.usage is not None:
            self.usage = chunk.usage
        if chunk.finish_reason is not None:
            self.finish_reason = chunk.finish_reason
        self.tool_calls = self.tool_calls or chunk.tool_calls
        self.yielded_other = self.yielded_other or bool(reasoning or chunk.refusal)
        return events

    def finish(self) -> list[StreamEvent]:
        """What the `<think>` splitter still held when the content ended."""
        reasoning, text = self._think.finish()
        events: list[StreamEvent] = []
        if reasoning:
            self.yielded_other = True
            events.append(ReasoningDelta(reasoning))
        if text:
            self._parts.append(text)
            events.append(TextDelta(text))
        return events

    def done(self, request_id: str | None) -> StreamDone:
        """The closing event of a stream that ended well."""
        return StreamDone(
            self.finish_reason, self.usage, self.model, request_id, tool_calls=self.tool_calls
        )


async def stream_attempt(
    http: httpx.AsyncClient,
    call: Call,
    body: Mapping[str, Any],
    state: StreamState,
    *,
    http_timeout: httpx.Timeout,
    first_byte_timeout: float | None,
    idle_timeout: float | None,
    read_pace: float | Callable[[], float],
    clock: Callable[[], float],
) -> AsyncGenerator[StreamEvent, None]:
    """Sends one streamed request and yields its answer.

    Args:
        http: The httpx client to send with.
        call: URL, headers and secrets of the call.
        body: The JSON body.
        state: Filled as the stream goes; read it after a failure.
        http_timeout: httpx timeout of the request (connect, write, pool; no read timeout).
        first_byte_timeout: Seconds from sending to the first body byte.
        idle_timeout: Seconds allowed between two chunks.
        read_pace: See `ChatClient`; a function is asked before each pause.
        clock: Monotonic clock, for the timing log.

    Yields:
        `ReasoningDelta`s, `RefusalDelta`s and `TextDelta`s in order, then one `StreamDone`.

    Raises:
        LLMError: A subclass saying what went wrong, with `.partial_text` set mid-stream.
    """
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        request = http.build_request(
            "POST", call.url, json=body, headers=call.headers, timeout=http_timeout
        )
        async with asyncio.timeout(first_byte_timeout):
            response = await http.send(request, stream=True)
    except TimeoutError:
        raise LLMTimeoutError("no response before first_byte_timeout", phase="first_byte") from None
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise transport_error(exc, call.secrets, got_bytes=False) from None
    chunks = response.aiter_bytes()
    deadline: ReadDeadline | None = None
    try:
        request_id = response.headers.get("x-request-id")
        if response.is_redirect:
            raise redirect_error(response, call.url, call.secrets)
        if response.status_code >= 400:
            text = await _read_error_body(response, idle_timeout)
            raise http_error(response.status_code, response.headers, text, call.secrets)
        content_type = response.headers.get("content-type", "")
        if "json" in content_type and "event-stream" not in content_type:
            async with asyncio.timeout(first_byte_timeout):
                raw = await response.aread()
            for event in json_reply_as_stream(raw, request_id, response, call.secrets):
                yield event
            return
        decoder = SSEDecoder()
        # One timer for the whole stream, not one per chunk (see chatapp/llm/deadline.py).
        deadline = ReadDeadline()
        got_bytes = done = False
        raw = bytearray()  # the body while it holds no event (see the module docstring)
        while not done:
            if got_bytes:
                budget = idle_timeout
            elif first_byte_timeout is None:
                budget = None
            else:
                budget = max(0.0, first_byte_timeout - (loop.time() - started))
            asked = loop.time()
            deadline.start(budget)
            try:
                chunk = await anext(chunks, None)
            except asyncio.CancelledError:
                if not deadline.expired():
                    raise  # a stop, not a timeout
                phase = "idle" if got_bytes else "first_byte"
                raise LLMTimeoutError(
                    f"no data within the {phase} timeout",
                    phase=phase,
                    request_id=request_id,
                    partial_text=state.text,
                ) from None
            except httpx.HTTPError as exc:
                raise transport_error(
                    exc, call.secrets, got_bytes=got_bytes, partial_text=state.text
                ) from None
            finally:
                deadline.stop()
            if chunk is None:
                break
            if not got_bytes:
                got_bytes = True
                log.debug("first byte after %.3fs", clock() - state.created)
            if not state.chunks and len(raw) < _RAW_KEPT:
                raw += chunk[: _RAW_KEPT - len(raw)]
            texts = 0
            for sse in decoder.feed(chunk):
                if sse.data == "[DONE]":
                    done = True
                    break
                try:
                    parsed = parse_chunk(
                        sse, request_id=request_id, headers=response.headers, secrets=call.secrets
                    )
                except LLMError as exc:
                    exc.partial_text = state.text
                    raise
                for event in state.add(parsed):
                    texts += 1
                    yield event
            pace = read_pace() if callable(read_pace) else read_pace
            if texts and pace and not done and loop.time() - asked > _WAITED_S:
                # This read waited for the network: we are level with the model. Let the
                # next chunks gather (chunks already received are handed out at once).
                await asyncio.sleep(pace)
        if not state.chunks and not done:
            if not got_bytes:
                raise LLMContextLengthError(
                    "the event stream was empty (llama.cpp's answer to a prompt over its context)",
                    status=response.status_code,
                    provider_code="empty_stream",
                    request_id=request_id,
                )
            if raw.lstrip().startswith(b"{"):
                # One JSON object and no event: an error (or a completion) sent as the body.
                for event in json_reply_as_stream(bytes(raw), request_id, response, call.secrets):
                    yield event
                return
        for event in state.finish():
            yield event
        if not done and state.finish_reason is None:
            what = (
                "the event stream held no event" if not state.chunks else "the stream ended early"
            )
            raise LLMTruncatedError(
                f"{what}: no finish_reason and no [DONE]",
                status=response.status_code,
                request_id=request_id,
                partial_text=state.text,
            )
        yield state.done(request_id)
    finally:
        if deadline is not None:
            deadline.close()
        aclose = getattr(chunks, "aclose", None)
        if aclose is not None:
            await aclose()
        await response.aclose()


async def _read_error_body(response: httpx.Response, budget: float | None) -> str:
    try:
        async with asyncio.timeout(budget if budget is not None else 30.0):
            await response.aread()
    except (TimeoutError, httpx.HTTPError):
        return ""
    return response.text
