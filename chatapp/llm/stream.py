"""One attempt at a streamed chat completion: send the request, check the reply, decode its
events against the first-byte and idle deadlines, and yield the answer as it comes.

Retries are the caller's (`ChatClient.stream_chat`): an attempt only raises, with what it
gathered so far in `StreamState`, so the caller can tell whether any text was yielded.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, Callable, Mapping
from typing import Any

import httpx

from .deadline import ReadDeadline
from .errors import LLMError, LLMTimeoutError, LLMTruncatedError
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
from .types import StreamDone, StreamEvent, TextDelta, Usage

log = logging.getLogger(__name__)

# A read that took longer than this waited for the network (see `read_pace`).
_WAITED_S = 0.002


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

    @property
    def text(self) -> str:
        """The answer text gathered so far."""
        if len(self._parts) > 1:
            self._parts[:] = ["".join(self._parts)]
        return self._parts[0] if self._parts else ""

    def add(self, chunk: Chunk) -> None:
        """Folds in one chunk: a field the chunk leaves out keeps its earlier value."""
        self.chunks += 1
        if chunk.text:
            self._parts.append(chunk.text)
        if chunk.model is not None:
            self.model = chunk.model
        if chunk.usage is not None:
            self.usage = chunk.usage
        if chunk.finish_reason is not None:
            self.finish_reason = chunk.finish_reason


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
        `TextDelta`s in order, then one `StreamDone`.

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
                state.add(parsed)
                if parsed.text:
                    texts += 1
                    yield TextDelta(parsed.text)
            pace = read_pace() if callable(read_pace) else read_pace
            if texts and pace and not done and loop.time() - asked > _WAITED_S:
                # This read waited for the network: we are level with the model. Let the
                # next chunks gather (chunks already received are handed out at once).
                await asyncio.sleep(pace)
        if not done and state.finish_reason is None:
            what = "the event stream was empty" if not state.chunks else "the stream ended early"
            raise LLMTruncatedError(
                f"{what}: no finish_reason and no [DONE]",
                status=response.status_code,
                request_id=request_id,
                partial_text=state.text,
            )
        yield StreamDone(state.finish_reason, state.usage, state.model, request_id)
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
