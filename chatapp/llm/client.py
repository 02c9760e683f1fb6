"""`ChatClient`: a small async client for OpenAI-compatible HTTP APIs, on httpx.

It streams chat completions (SSE, decoded by `sse.SSEDecoder`), and also does non-streamed
chat, model listing, embeddings and image generation. Every failure is raised as a typed
`LLMError` (see `errors.py`).

Failed attempts are retried as `retry.RetryPolicy` says: connection errors, timeouts, 429 and
5xx, and streams cut short, but only while nothing of the answer has been yielded; a
`Retry-After` / `retry-after-ms` is waited in full, and one longer than `max_retry_wait` seconds
is not retried at all (the error carries the wait for the caller to show). Redirects are never followed: a
3xx is an `LLMRedirectError` naming the `Location` host.

The client holds the HTTP calls and the retry loops; `request.py` builds what is sent,
`stream.py` runs one streamed attempt and `replies.py` reads what comes back (no I/O).

Deadlines of a stream: `connect_timeout` (TCP/TLS), `first_byte_timeout` (from sending the request
to the first byte of the body) and `idle_timeout` (between two body chunks). A non-streamed call
uses the httpx `timeout` instead.

A 200 reply to a streaming request that is JSON rather than an event stream (some proxies ignore
`stream: true`) is parsed as a normal completion and yielded as its deltas + `StreamDone`.
Reasoning (`reasoning_content`, `reasoning`, a leading `<think>` block) comes as
`ReasoningDelta`s, apart from the answer's `TextDelta`s.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping, Sequence
from types import TracebackType
from typing import Any

import httpx

from .errors import LLMError, LLMMalformedError
from .replies import (
    body_error,
    http_error,
    list_field,
    parse_completion,
    redirect_error,
    transport_error,
)
from .request import Call, chat_body
from .retry import RetryPolicy
from .stream import StreamState, stream_attempt
from .types import ChatResult, StreamEvent

# Simultaneous requests to one provider (answers streaming at once, per process).
MAX_CONNECTIONS = 2000


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
            max_retries: Extra attempts after the first, for retryable failures (see `retry.py`).
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
            max_retry_wait: The longest Retry-After worth waiting for inside one call; a longer
                one is not retried (the error's `retry_after` says how long to wait).
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
        self.retry = RetryPolicy(max_retries, backoff_base, backoff_max, max_retry_wait, rng)
        self.first_byte_timeout = first_byte_timeout
        self.idle_timeout = idle_timeout
        self.read_pace = read_pace
        self._sleep = sleep
        self._clock = clock

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
            temperature: Sampling parameters, as are `top_p`, `max_tokens`, `presence_penalty`,
                `frequency_penalty`, `stop`, `user` and `seed`; those left as None are not sent.
            api_key: Overrides the client's key for this request.
            base_url: Overrides the client's base URL for this request.

        Yields:
            `ReasoningDelta`s, `RefusalDelta`s and `TextDelta`s in order, then exactly one
            `StreamDone`.

        Raises:
            LLMError: A subclass saying what went wrong; `.partial_text` holds text already
                yielded when the failure came mid-stream.
        """
        body = chat_body(
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
        call = self._call("/chat/completions", api_key, base_url, stream=True)
        attempt = 0
        while True:
            state = StreamState()
            attempt_events = stream_attempt(
                self._http,
                call,
                body,
                state,
                http_timeout=self._stream_timeout,
                first_byte_timeout=self.first_byte_timeout,
                idle_timeout=self.idle_timeout,
                read_pace=self.read_pace,
                clock=self._clock,
            )
            try:
                async with contextlib.aclosing(attempt_events) as events:
                    async for event in events:
                        yield event
                return
            except LLMError as exc:
                delay = None if state.yielded else self.retry.delay(exc, attempt)
                if delay is None:
                    raise
                attempt += 1
                self.retry.log_retry(call.path, exc, attempt, delay)
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
        body = chat_body(
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
        call = self._call("/chat/completions", api_key, base_url)
        data, headers = await self._json_call(call, "POST", body)
        return parse_completion(data, headers.get("x-request-id"), call.secrets)

    # -- other endpoints ---------------------------------------------------------------------

    async def list_models(
        self, *, api_key: str | None = None, base_url: str | None = None
    ) -> list[str]:
        """List the ids of the models the endpoint offers.

        Raises:
            LLMError: A subclass saying what went wrong.
        """
        call = self._call("/models", api_key, base_url)
        data, _ = await self._json_call(call, "GET", None)
        items = list_field(data, call.path, call.secrets)
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
        call = self._call("/embeddings", api_key, base_url)
        data, _ = await self._json_call(call, "POST", body)
        items = [i for i in list_field(data, call.path, call.secrets) if isinstance(i, dict)]
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
        call = self._call("/images/generations", api_key, base_url)
        data, _ = await self._json_call(call, "POST", body)
        out: list[str] = []
        for item in list_field(data, call.path, call.secrets):
            if isinstance(item, dict):
                value = item.get("url") or item.get("b64_json")
                if isinstance(value, str):
                    out.append(value)
        return out

    # -- machinery ---------------------------------------------------------------------------

    def _call(
        self, path: str, api_key: str | None, base_url: str | None, *, stream: bool = False
    ) -> Call:
        return Call(
            path,
            base_url=self.base_url,
            api_key=self._api_key,
            override_url=base_url,
            override_key=api_key,
            stream=stream,
        )

    async def _json_call(
        self, call: Call, method: str, body: Mapping[str, Any] | None
    ) -> tuple[Any, httpx.Headers]:
        attempt = 0
        while True:
            try:
                return await self._json_attempt(call, method, body)
            except LLMError as exc:
                delay = self.retry.delay(exc, attempt)
                if delay is None:
                    raise
                attempt += 1
                self.retry.log_retry(call.path, exc, attempt, delay)
                await self._sleep(delay)

    async def _json_attempt(
        self, call: Call, method: str, body: Mapping[str, Any] | None
    ) -> tuple[Any, httpx.Headers]:
        try:
            response = await self._http.request(
                method, call.url, json=body, headers=call.headers, timeout=self._timeout
            )
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise transport_error(exc, call.secrets, got_bytes=False) from None
        if response.is_redirect:
            raise redirect_error(response, call.url, call.secrets)
        if response.status_code >= 400:
            raise http_error(response.status_code, response.headers, response.text, call.secrets)
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
            raise body_error(data, None, response.headers, call.secrets)
        return data, response.headers
