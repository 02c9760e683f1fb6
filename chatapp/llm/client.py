"""`ChatClient`: a small async client for OpenAI-compatible HTTP APIs, on httpx.

It streams chat completions (SSE, decoded by `sse.SSEDecoder`), and also does non-streamed
chat, model listing, embeddings and image generation. Every failure is raised as a typed
`LLMError` (see `errors.py`); safe failures are retried with exponential backoff and full jitter.

Retry policy: connection errors, 429 and 5xx, timeouts and streams cut short, but only while
no answer text has been yielded (a retry after text would duplicate it). 400/401/403/404/422
are never retried. Redirects are never followed: a 3xx is an `LLMRedirectError` naming the
`Location` host.
`Retry-After` / `retry-after-ms` are honoured up to `max_retry_wait` seconds.

Deadlines of a stream: `connect_timeout` (TCP/TLS), `first_byte_timeout` (from sending the request
to the first byte of the body) and `idle_timeout` (between two body chunks). A non-streamed call
uses the httpx `timeout` instead.

A 200 reply to a streaming request that is JSON rather than an event stream (some proxies ignore
`stream: true`) is parsed as a normal completion and yielded as one `TextDelta` + `StreamDone`.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import json
import logging
import math
import random
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

import httpx

from .deadline import ReadDeadline
from .errors import (
    LLMAuthError,
    LLMBadRequestError,
    LLMConnectionError,
    LLMContextLengthError,
    LLMError,
    LLMMalformedError,
    LLMRateLimitError,
    LLMRedirectError,
    LLMServerError,
    LLMTimeoutError,
    LLMTruncatedError,
)
from .sse import ServerSentEvent, SSEDecoder
from .types import ChatResult, StreamDone, StreamEvent, TextDelta, Usage

log = logging.getLogger(__name__)

USER_AGENT = "chatapp-llm/0.1"
# A read that took longer than this waited for the network (see `read_pace`).
_WAITED_S = 0.002
# Simultaneous requests to one provider (answers streaming at once, per process).
MAX_CONNECTIONS = 2000

# Phrases providers use for an over-long prompt when they send no `context_length_exceeded` code
# (vLLM, llama.cpp, Ollama, Azure...).
_CONTEXT_HINTS = (
    "context length",
    "context_length",
    "maximum context",
    "context window",
    "reduce the length",
    "too many tokens",
    "prompt is too long",
)
_AUTH_CODES = frozenset(
    {"invalid_api_key", "authentication_error", "permission_error", "unauthorized", "forbidden"}
)
_RATE_CODES = frozenset({"rate_limit_exceeded", "rate_limit_error", "insufficient_quota"})
_BAD_REQUEST_CODES = frozenset(
    {"invalid_request_error", "bad_request", "not_found_error", "model_not_found"}
)
_SUMMARY = {
    "auth": "the provider refused the API key",
    "rate_limit": "rate limited by the provider",
    "bad_request": "the provider rejected the request",
    "context_length": "the prompt does not fit the model's context window",
    "server": "the provider failed",
}


class ChatClient:
    """Async client for one OpenAI-compatible endpoint.

    Use it as an async context manager, or call `aclose()` when done.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        *,
        http: httpx.AsyncClient | None = None,
        timeout: float | httpx.Timeout = 60.0,
        max_retries: int = 2,
        first_byte_timeout: float | None = 60.0,
        idle_timeout: float | None = 60.0,
        connect_timeout: float | None = None,
        read_pace: float | Callable[[], float] = 0.0,
        backoff_base: float = 0.5,
        backoff_max: float = 8.0,
        max_retry_wait: float = 20.0,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: Callable[[], float] = random.random,
    ) -> None:
        """Create a client.

        Args:
            base_url: The API root, e.g. "https://api.openai.com/v1".
            api_key: The bearer key; None sends no Authorization header (local servers).
            http: An httpx client to use; it is then not closed by `aclose()`.
            timeout: httpx timeout of non-streamed calls (a float is the read/write budget).
            max_retries: Extra attempts after the first, for retryable failures.
            first_byte_timeout: Seconds from sending a streamed request to its first body byte.
            idle_timeout: Seconds allowed between two chunks of a stream.
            connect_timeout: Seconds to connect; defaults to the httpx timeout's connect value.
            read_pace: Once text flows, wait this long after handing out what one network read
                brought before reading again: what arrived meanwhile comes in one read. A reader
                that shows text in batches anyway loses nothing and spends far less CPU per
                stream than one socket read per tiny chunk (0 reads as soon as bytes arrive). A
                function is asked before each pause (the app stretches it under load).
            backoff_base: First backoff ceiling in seconds; doubles with each retry.
            backoff_max: Largest backoff ceiling in seconds.
            max_retry_wait: Cap on a provider's Retry-After.
            sleep: Awaitable sleep, injected so tests can record delays instead of waiting.
            clock: Monotonic clock, used for timing logs.
            rng: Returns a float in [0, 1) for jitter.
        """
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        if isinstance(timeout, httpx.Timeout):
            self._timeout = timeout
        else:
            self._timeout = httpx.Timeout(timeout, connect=min(timeout, 10.0))
        connect = connect_timeout if connect_timeout is not None else self._timeout.connect
        self._timeout = httpx.Timeout(
            connect=connect,
            read=self._timeout.read,
            write=self._timeout.write,
            pool=self._timeout.pool,
        )
        # Streams have no httpx read timeout: first-byte and idle deadlines are ours.
        self._stream_timeout = httpx.Timeout(
            connect=connect, read=None, write=self._timeout.write, pool=self._timeout.pool
        )
        self._owns_http = http is None
        # Each streaming answer holds a connection for its whole length: httpx's default pool of
        # 100 makes the 101st simultaneous answer wait for one to finish (bench/README.md,
        # "concurrency"). Keep-alive stays bounded.
        self._http = (
            http
            if http is not None
            else httpx.AsyncClient(
                timeout=self._timeout,
                limits=httpx.Limits(max_connections=MAX_CONNECTIONS, max_keepalive_connections=100),
            )
        )
        self.max_retries = max_retries
        self.first_byte_timeout = first_byte_timeout
        self.idle_timeout = idle_timeout
        self.read_pace = read_pace
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.max_retry_wait = max_retry_wait
        self._sleep = sleep
        self._clock = clock
        self._rng = rng

    async def __aenter__(self) -> ChatClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the httpx client, but only if this `ChatClient` created it."""
        if self._owns_http:
            await self._http.aclose()

    # -- chat ------------------------------------------------------------------------------

    async def stream_chat(
        self,
        messages: Sequence[Mapping[str, Any]],
        model: str,
        *,
        temperature: float | None = None,
        top_p: float | None = None,
        max_tokens: int | None = None,
        presence_penalty: float | None = None,
        frequency_penalty: float | None = None,
        stop: str | Sequence[str] | None = None,
        user: str | None = None,
        seed: int | None = None,
        api_key: str | None = None,
        base_url: str | None = None,
    ) -> AsyncGenerator[StreamEvent, None]:
        """Stream a chat completion.

        Leaving the loop early (`break`, `aclose()`, cancellation) closes the HTTP response, which
        cancels the upstream generation.

        Args:
            messages: `{"role": ..., "content": ...}` dicts, oldest first.
            model: The model name.
            temperature: Sampling parameters; those left as None are not sent.
            top_p: See `temperature`.
            max_tokens: See `temperature`.
            presence_penalty: See `temperature`.
            frequency_penalty: See `temperature`.
            stop: See `temperature`.
            user: See `temperature`.
            seed: See `temperature`.
            api_key: Overrides the client's key for this request.
            base_url: Overrides the client's base URL for this request.

        Yields:
            `TextDelta`s in order, then exactly one `StreamDone`.

        Raises:
            LLMError: A subclass saying what went wrong; `.partial_text` holds text already
                yielded when the failure came mid-stream.
        """
        body = _chat_body(
            messages,
            model,
            stream=True,
            temperature=temperature,
            top_p=top_p,
            max_tokens=max_tokens,
            presence_penalty=presence_penalty,
            frequency_penalty=frequency_penalty,
            stop=stop,
            user=user,
            seed=seed,
        )
        call = _Call(self, "/chat/completions", api_key, base_url, stream=True)
        attempt = 0
        while True:
            state = _StreamState()
            try:
                async with contextlib.aclosing(self._stream_attempt(call, body, state)) as events:
                    async for event in events:
                        yield event
                return
            except LLMError as exc:
                delay = None if state.text else self._retry_delay(exc, attempt)
                if delay is None:
                    raise
                attempt += 1
                self._log_retry(call.path, exc, attempt, delay)
                await self._sleep(delay)

    async def chat(
        self,
        messages: Sequence[Mapping[str, Any]],
        model: str,
        *,
        temperature: float | None = None,
        top_p: float | None = None,
        max_tokens: int | None = None,
        presence_penalty: float | None = None,
        frequency_penalty: float | None = None,
        stop: str | Sequence[str] | None = None,
        user: str | None = None,
        seed: int | None = None,
        api_key: str | None = None,
        base_url: str | None = None,
    ) -> ChatResult:
        """Get a whole chat completion in one non-streamed request.

        Args: as `stream_chat`.

        Returns:
            The answer text, finish reason, usage, model and request id.

        Raises:
            LLMError: A subclass saying what went wrong.
        """
        body = _chat_body(
            messages,
            model,
            stream=False,
            temperature=temperature,
            top_p=top_p,
            max_tokens=max_tokens,
            presence_penalty=presence_penalty,
            frequency_penalty=frequency_penalty,
            stop=stop,
            user=user,
            seed=seed,
        )
        call = _Call(self, "/chat/completions", api_key, base_url)
        data, headers = await self._json_call(call, "POST", body)
        return _completion(data, headers.get("x-request-id"), call.secrets)

    # -- other endpoints ---------------------------------------------------------------------

    async def list_models(
        self, *, api_key: str | None = None, base_url: str | None = None
    ) -> list[str]:
        """List the ids of the models the endpoint offers.

        Raises:
            LLMError: A subclass saying what went wrong.
        """
        call = _Call(self, "/models", api_key, base_url)
        data, _ = await self._json_call(call, "GET", None)
        items = _list_field(data, call)
        ids = [item.get("id") for item in items if isinstance(item, dict)]
        return [i for i in ids if isinstance(i, str)]

    async def embeddings(
        self,
        input: str | Sequence[str],
        model: str,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
    ) -> list[list[float]]:
        """Embed one text or several; one vector per input, in input order.

        Raises:
            LLMError: A subclass saying what went wrong.
        """
        body = {"input": input if isinstance(input, str) else list(input), "model": model}
        call = _Call(self, "/embeddings", api_key, base_url)
        data, _ = await self._json_call(call, "POST", body)
        items = [i for i in _list_field(data, call) if isinstance(i, dict)]
        items.sort(key=lambda item: item.get("index", 0))
        vectors: list[list[float]] = []
        for item in items:
            vector = item.get("embedding")
            if not isinstance(vector, list):
                raise LLMMalformedError("an embedding is not a list of numbers")
            vectors.append([float(x) for x in vector])
        return vectors

    async def images(
        self,
        prompt: str,
        model: str | None = None,
        n: int = 1,
        size: str = "1024x1024",
        *,
        response_format: str | None = None,
        api_key: str | None = None,
        base_url: str | None = None,
    ) -> list[str]:
        """Generate images; returns a URL or base64 data per image, as the provider answers.

        Raises:
            LLMError: A subclass saying what went wrong.
        """
        body: dict[str, Any] = {"prompt": prompt, "n": n, "size": size}
        if model is not None:
            body["model"] = model
        if response_format is not None:
            body["response_format"] = response_format
        call = _Call(self, "/images/generations", api_key, base_url)
        data, _ = await self._json_call(call, "POST", body)
        out: list[str] = []
        for item in _list_field(data, call):
            if isinstance(item, dict):
                value = item.get("url") or item.get("b64_json")
                if isinstance(value, str):
                    out.append(value)
        return out

    # -- machinery ---------------------------------------------------------------------------

    def _retry_delay(self, exc: LLMError, attempt: int) -> float | None:
        """Seconds to wait before retrying after `exc`, or None when it must not be retried."""
        if attempt >= self.max_retries:
            return None
        if isinstance(exc, LLMRateLimitError):
            if exc.provider_code == "insufficient_quota":
                return None  # an empty balance does not refill in seconds
        elif not isinstance(
            exc, LLMConnectionError | LLMServerError | LLMTimeoutError | LLMTruncatedError
        ):
            # Truncated is retryable here only because callers never retry once text was
            # yielded: a stream cut before any text is a dropped connection in disguise.
            return None
        if exc.retry_after is not None:
            return min(exc.retry_after, self.max_retry_wait)
        # Full jitter: spreads out clients that failed together (AWS architecture blog).
        return self._rng() * min(self.backoff_max, self.backoff_base * 2**attempt)

    def _log_retry(self, path: str, exc: LLMError, attempt: int, delay: float) -> None:
        # Only kind and status: the message is scrubbed, but logs need no provider text.
        log.warning(
            "LLM %s failed (%s, status %s); retry %d/%d in %.2fs",
            path,
            exc.kind,
            exc.status,
            attempt,
            self.max_retries,
            delay,
        )

    async def _json_call(
        self, call: _Call, method: str, body: Mapping[str, Any] | None
    ) -> tuple[Any, httpx.Headers]:
        attempt = 0
        while True:
            try:
                return await self._json_attempt(call, method, body)
            except LLMError as exc:
                delay = self._retry_delay(exc, attempt)
                if delay is None:
                    raise
                attempt += 1
                self._log_retry(call.path, exc, attempt, delay)
                await self._sleep(delay)

    async def _json_attempt(
        self, call: _Call, method: str, body: Mapping[str, Any] | None
    ) -> tuple[Any, httpx.Headers]:
        try:
            response = await self._http.request(
                method, call.url, json=body, headers=call.headers, timeout=self._timeout
            )
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise _transport_error(exc, call.secrets, got_bytes=False) from None
        if response.is_redirect:
            raise _redirect_error(response, call)
        if response.status_code >= 400:
            raise _http_error(response.status_code, response.headers, response.text, call.secrets)
        try:
            data = response.json()
        except ValueError:
            raise LLMMalformedError(
                "the reply is not JSON",
                status=response.status_code,
                request_id=response.headers.get("x-request-id"),
                secrets=call.secrets,
            ) from None
        if isinstance(data, dict) and data.get("error"):
            raise _body_error(data, None, response.headers, call.secrets)
        return data, response.headers

    async def _stream_attempt(
        self, call: _Call, body: Mapping[str, Any], state: _StreamState
    ) -> AsyncGenerator[StreamEvent, None]:
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            request = self._http.build_request(
                "POST", call.url, json=body, headers=call.headers, timeout=self._stream_timeout
            )
            async with asyncio.timeout(self.first_byte_timeout):
                response = await self._http.send(request, stream=True)
        except TimeoutError:
            raise LLMTimeoutError(
                "no response before first_byte_timeout", phase="first_byte"
            ) from None
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise _transport_error(exc, call.secrets, got_bytes=False) from None
        chunks = response.aiter_bytes()
        deadline: ReadDeadline | None = None
        try:
            request_id = response.headers.get("x-request-id")
            if response.is_redirect:
                raise _redirect_error(response, call)
            if response.status_code >= 400:
                text = await _read_error_body(response, self.idle_timeout)
                raise _http_error(response.status_code, response.headers, text, call.secrets)
            content_type = response.headers.get("content-type", "")
            if "json" in content_type and "event-stream" not in content_type:
                async with asyncio.timeout(self.first_byte_timeout):
                    raw = await response.aread()
                for event in _json_reply_as_stream(raw, request_id, response, call.secrets):
                    yield event
                return
            decoder = SSEDecoder()
            # One timer for the whole stream, not one per chunk (see chatapp/llm/deadline.py).
            deadline = ReadDeadline()
            got_bytes = done = False
            while not done:
                if got_bytes:
                    budget = self.idle_timeout
                elif self.first_byte_timeout is None:
                    budget = None
                else:
                    budget = max(0.0, self.first_byte_timeout - (loop.time() - started))
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
                    raise _transport_error(
                        exc, call.secrets, got_bytes=got_bytes, partial_text=state.text
                    ) from None
                finally:
                    deadline.stop()
                if chunk is None:
                    break
                if not got_bytes:
                    got_bytes = True
                    log.debug("first byte after %.3fs", self._clock() - state.created)
                texts = 0
                for sse in decoder.feed(chunk):
                    if sse.data == "[DONE]":
                        done = True
                        break
                    text = _apply_chunk(sse, state, request_id, response.headers, call.secrets)
                    if text:
                        state.add_text(text)
                        texts += 1
                        yield TextDelta(text)
                pace = self.read_pace() if callable(self.read_pace) else self.read_pace
                if texts and pace and not done and loop.time() - asked > _WAITED_S:
                    # This read waited for the network: we are level with the model. Let the
                    # next chunks gather (chunks already received are handed out at once).
                    await asyncio.sleep(pace)
            if not done and state.finish_reason is None:
                what = (
                    "the event stream was empty" if not state.chunks else "the stream ended early"
                )
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


class _Call:
    """URL, headers and secrets of one logical call (with its per-request overrides)."""

    def __init__(
        self,
        client: ChatClient,
        path: str,
        api_key: str | None,
        base_url: str | None,
        *,
        stream: bool = False,
    ) -> None:
        key = api_key if api_key is not None else client._api_key
        self.path = path
        self.url = (base_url.rstrip("/") if base_url else client.base_url) + path
        self.secrets = (client._api_key, api_key)
        self.headers = {
            "Accept": "text/event-stream" if stream else "application/json",
            "User-Agent": USER_AGENT,
        }
        if key:
            self.headers["Authorization"] = f"Bearer {key}"


class _StreamState:
    """What one stream attempt has gathered so far."""

    def __init__(self) -> None:
        self.created = time.monotonic()
        # The text so far, as parts joined when read: `text += part` copied the whole answer on
        # every chunk (O(answer^2) for a long answer).
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

    def add_text(self, text: str) -> None:
        """Appends text the model sent."""
        self._parts.append(text)


# -- pure helpers ----------------------------------------------------------------------------


def _chat_body(
    messages: Sequence[Mapping[str, Any]], model: str, *, stream: bool, **params: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {"model": model, "messages": [dict(m) for m in messages]}
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    for name, value in params.items():
        if value is not None:
            body[name] = list(value) if name == "stop" and not isinstance(value, str) else value
    return body


def _usage(raw: Any) -> Usage | None:
    if not isinstance(raw, dict):
        return None

    def number(key: str) -> int:
        value = raw.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else 0

    prompt, completion = number("prompt_tokens"), number("completion_tokens")
    return Usage(prompt, completion, number("total_tokens") or prompt + completion)


def _apply_chunk(
    sse: ServerSentEvent,
    state: _StreamState,
    request_id: str | None,
    headers: httpx.Headers,
    secrets: tuple[str | None, ...],
) -> str:
    """Fold one stream event into `state`; returns the answer text it carries."""
    try:
        obj = json.loads(sse.data)
    except ValueError:
        if sse.event == "error":
            raise LLMServerError(
                "the provider sent an error event",
                provider_message=sse.data,
                request_id=request_id,
                partial_text=state.text,
                secrets=secrets,
            ) from None
        raise LLMMalformedError(
            "a stream chunk is not JSON",
            request_id=request_id,
            partial_text=state.text,
            secrets=secrets,
        ) from None
    if not isinstance(obj, dict):
        raise LLMMalformedError(
            "a stream chunk is not a JSON object", request_id=request_id, partial_text=state.text
        )
    if obj.get("error") or sse.event == "error":
        raise _body_error(obj, None, headers, secrets, partial_text=state.text)
    state.chunks += 1
    if isinstance(obj.get("model"), str):
        state.model = obj["model"]
    usage = _usage(obj.get("usage"))
    if usage is not None:
        state.usage = usage
    choices = obj.get("choices") or []
    if not isinstance(choices, list):
        raise LLMMalformedError(
            "`choices` is not a list", request_id=request_id, partial_text=state.text
        )
    text = ""
    for choice in choices:
        # n=1 is all we ask for; other indexes would interleave unrelated answers.
        if not isinstance(choice, dict) or choice.get("index", 0) != 0:
            continue
        delta = choice.get("delta")
        content = delta.get("content") if isinstance(delta, dict) else None
        if isinstance(content, str):
            text += content
        reason = choice.get("finish_reason")
        if isinstance(reason, str) and reason:
            state.finish_reason = reason
    return text


def _completion(data: Any, request_id: str | None, secrets: tuple[str | None, ...]) -> ChatResult:
    choices = data.get("choices") if isinstance(data, dict) else None
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise LLMMalformedError("the reply has no choices", request_id=request_id, secrets=secrets)
    message = choices[0].get("message")
    content = message.get("content") if isinstance(message, dict) else None
    reason = choices[0].get("finish_reason")
    model = data.get("model")
    return ChatResult(
        text=content if isinstance(content, str) else "",
        finish_reason=reason if isinstance(reason, str) else None,
        usage=_usage(data.get("usage")),
        model=model if isinstance(model, str) else None,
        request_id=request_id,
    )


def _json_reply_as_stream(
    raw: bytes, request_id: str | None, response: httpx.Response, secrets: tuple[str | None, ...]
) -> list[StreamEvent]:
    try:
        data = json.loads(raw)
    except ValueError:
        raise LLMMalformedError(
            "the reply is neither an event stream nor JSON",
            status=response.status_code,
            request_id=request_id,
            secrets=secrets,
        ) from None
    if isinstance(data, dict) and data.get("error"):
        raise _body_error(data, None, response.headers, secrets)
    result = _completion(data, request_id, secrets)
    events: list[StreamEvent] = [TextDelta(result.text)] if result.text else []
    events.append(StreamDone(result.finish_reason, result.usage, result.model, request_id))
    return events


def _list_field(data: Any, call: _Call) -> list[Any]:
    items = data.get("data") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise LLMMalformedError(f"the {call.path} reply has no `data` list", secrets=call.secrets)
    return items


async def _read_error_body(response: httpx.Response, budget: float | None) -> str:
    try:
        async with asyncio.timeout(budget if budget is not None else 30.0):
            await response.aread()
    except (TimeoutError, httpx.HTTPError):
        return ""
    return response.text


def _error_fields(body: Any, text: str) -> tuple[str | None, str | None, int | None]:
    """(code, message, status) from an OpenAI-style error body, else the plain text."""
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, str):
            return None, err, None
        if isinstance(err, dict):
            raw_code = err.get("code")
            code = err.get("type") if raw_code is None else raw_code
            message = err.get("message")
            status = None
            for candidate in (err.get("status"), body.get("status"), raw_code):
                if isinstance(candidate, int) and not isinstance(candidate, bool):
                    status = candidate
                elif isinstance(candidate, str) and candidate.isdigit():
                    status = int(candidate)
                if status is not None and 400 <= status <= 599:
                    break
                status = None
            types = " ".join(str(x) for x in (raw_code, err.get("type")) if x is not None)
            return (
                str(code) if code is not None else None,
                message if isinstance(message, str) else types or None,
                status,
            )
    return None, text.strip() or None, None


def _error_class(status: int | None, codes: set[str], message: str | None) -> type[LLMError]:
    lowered = (message or "").lower()
    in_4xx = status is None or 400 <= status < 500
    if in_4xx and ("context_length_exceeded" in codes or any(h in lowered for h in _CONTEXT_HINTS)):
        return LLMContextLengthError
    if status in (401, 403) or (status is None and codes & _AUTH_CODES):
        return LLMAuthError
    if status == 429 or (status is None and codes & _RATE_CODES):
        return LLMRateLimitError
    if status is not None and 400 <= status < 500:
        return LLMBadRequestError
    if status is None and codes & _BAD_REQUEST_CODES:
        return LLMBadRequestError
    return LLMServerError


def _body_error(
    body: Any,
    status: int | None,
    headers: httpx.Headers,
    secrets: tuple[str | None, ...],
    *,
    text: str = "",
    partial_text: str = "",
) -> LLMError:
    code, message, body_status = _error_fields(body, text)
    status = status if status is not None else body_status
    codes: set[str] = set()
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        codes = {
            str(body["error"].get(k)).lower() for k in ("code", "type") if body["error"].get(k)
        }
    cls = _error_class(status, codes, message)
    return cls(
        _SUMMARY[cls.kind],
        status=status,
        provider_code=code,
        provider_message=message,
        request_id=headers.get("x-request-id"),
        # 503s carry Retry-After too (maintenance, overload): honour it for any status.
        retry_after=_retry_after(headers),
        partial_text=partial_text,
        secrets=secrets,
    )


def _http_error(
    status: int, headers: httpx.Headers, text: str, secrets: tuple[str | None, ...]
) -> LLMError:
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    return _body_error(body, status, headers, secrets, text=text)


def _redirect_error(response: httpx.Response, call: _Call) -> LLMRedirectError:
    """A 3xx reply: where it pointed (host only; a Location may carry tokens in its query)."""
    host: str | None = None
    location = response.headers.get("location", "")
    try:
        target = httpx.URL(call.url).join(location) if location else None
        if target is not None and target.host:
            host = target.host if target.port is None else f"{target.host}:{target.port}"
    except (httpx.InvalidURL, ValueError):
        host = None
    return LLMRedirectError(
        f"the endpoint redirected ({response.status_code}) instead of answering",
        status=response.status_code,
        location_host=host,
        request_id=response.headers.get("x-request-id"),
        secrets=call.secrets,
    )


def _retry_after(headers: httpx.Headers) -> float | None:
    """Seconds from `retry-after-ms`, or `retry-after` (seconds or an HTTP date)."""
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        with contextlib.suppress(ValueError):
            value = float(raw_ms) / 1000
            if math.isfinite(value):
                return max(0.0, value)
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(raw)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return max(0.0, (when - datetime.now(UTC)).total_seconds())
    return max(0.0, value) if math.isfinite(value) else None


def _transport_error(
    exc: Exception, secrets: tuple[str | None, ...], *, got_bytes: bool, partial_text: str = ""
) -> LLMError:
    detail = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
        return LLMTimeoutError(
            f"could not connect in time ({detail})", phase="connect", secrets=secrets
        )
    if isinstance(exc, httpx.TimeoutException):
        phase = "idle" if got_bytes else "first_byte"
        return LLMTimeoutError(
            f"timed out ({detail})", phase=phase, partial_text=partial_text, secrets=secrets
        )
    if isinstance(exc, httpx.DecodingError):
        return LLMMalformedError(
            f"could not decode the reply ({detail})", partial_text=partial_text, secrets=secrets
        )
    return LLMConnectionError(
        f"connection failed ({detail})", partial_text=partial_text, secrets=secrets
    )
