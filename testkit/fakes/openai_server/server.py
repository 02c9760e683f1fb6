"""`FakeOpenAI`: the fake OpenAI-compatible server itself (routes, queue, recording, lifecycle)."""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import logging
import socket
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from types import TracebackType
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from . import shapes
from .reply import RecordedRequest, Reply
from .wire import PNG_B64, echo, error_object, error_response, json_response, sse, vector


class _Drop(Exception):
    """Raised inside a response to make uvicorn drop the connection."""


class _QuietDrops(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], _Drop))


class FakeOpenAI:
    """A fake OpenAI-compatible server on 127.0.0.1, run in a background thread."""

    def __init__(
        self,
        *,
        api_key: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        default: Reply | None = None,
        models: list[str] | None = None,
    ) -> None:
        """Create (but do not start) the server.

        Args:
            api_key: When set, requests must send `Authorization: Bearer <api_key>`.
            host: Interface to bind.
            port: Port to bind; 0 picks a free one.
            default: The reply used when the queue is empty.
            models: Ids listed by GET /v1/models.
        """
        self.api_key = api_key
        self.default = default or Reply()
        self.models = models or ["fake-gpt", "fake-gpt-mini"]
        self._host = host
        self._port = port
        self._lock = threading.Lock()
        self._queue: deque[Reply] = deque()
        self._requests: list[RecordedRequest] = []
        self._disconnects = 0
        self._completed = 0
        self._first_chunks: list[float] = []
        self._ids = itertools.count(1)
        self._closing = False
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self.app = Starlette(
            routes=[
                Route("/v1/chat/completions", self._chat, methods=["POST"]),
                Route("/v1/models", self._models, methods=["GET"]),
                Route("/v1/embeddings", self._embeddings, methods=["POST"]),
                Route("/v1/images/generations", self._images, methods=["POST"]),
                # Where a URL result points (providers host generated images for an hour or so).
                Route("/files/{name}", self._image_file, methods=["GET"]),
            ]
        )
        error_log = logging.getLogger("uvicorn.error")
        if not any(isinstance(f, _QuietDrops) for f in error_log.filters):
            error_log.addFilter(_QuietDrops())

    # -- control ---------------------------------------------------------------------------

    def queue(self, *replies: Reply) -> None:
        """Queue replies; each /v1/* request takes the next one."""
        with self._lock:
            self._queue.extend(replies)

    @property
    def requests(self) -> list[RecordedRequest]:
        """A copy of every request received so far, in order."""
        with self._lock:
            return list(self._requests)

    @property
    def disconnects(self) -> int:
        """Streams whose client went away before the end."""
        with self._lock:
            return self._disconnects

    @property
    def completed(self) -> int:
        """Streams sent to the end."""
        with self._lock:
            return self._completed

    @property
    def first_chunk_times(self) -> list[float]:
        """Wall-clock time (`time.time()`) each stream's first content chunk was handed to the
        server, in order (benchmarks compare it with when the browser showed the first token)."""
        with self._lock:
            return list(self._first_chunks)

    def reset(self) -> None:
        """Forget queued replies, recorded requests and counters."""
        with self._lock:
            self._queue.clear()
            self._requests.clear()
            self._first_chunks.clear()
            self._disconnects = self._completed = 0

    def wait_for(self, condition: Callable[[], bool], timeout: float = 5.0) -> bool:
        """Poll `condition` until it holds or `timeout` passes; returns its last value."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        """Root URL, e.g. http://127.0.0.1:PORT."""
        return f"http://{self._host}:{self._port}"

    @property
    def base_url(self) -> str:
        """The base URL to give an OpenAI client."""
        return self.url + "/v1"

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeOpenAI:
        """Bind the socket (so the port is known at once) and serve in a daemon thread."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self._host, self._port))
        self._socket = sock
        self._port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app, log_level="warning", lifespan="off", timeout_graceful_shutdown=2
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True, name="fake-openai"
        )
        self._thread.start()
        if not self.wait_for(lambda: self._server is not None and self._server.started, 10):
            raise RuntimeError("FakeOpenAI did not start")
        return self

    def stop(self) -> None:
        """Stop serving; stalled streams end at once."""
        self._closing = True
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._socket is not None:
            self._socket.close()

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- handlers --------------------------------------------------------------------------

    async def _begin(self, request: Request) -> tuple[Reply, Any, Response | None]:
        """Record the request, check auth, take a reply, apply its delay and status."""
        try:
            body = await request.json() if request.method == "POST" else None
        except ValueError:
            body = None
        with self._lock:
            self._requests.append(
                RecordedRequest(
                    request.method,
                    request.url.path,
                    {k.lower(): v for k, v in request.headers.items()},
                    body,
                    time.monotonic(),
                )
            )
        rid = f"req_fake_{next(self._ids)}"
        if self.api_key is not None:
            auth = request.headers.get("authorization", "")
            if auth != f"Bearer {self.api_key}":
                # Real providers echo (part of) the wrong key back: clients must scrub it.
                given = auth.removeprefix("Bearer ")
                error = {
                    "message": f"Incorrect API key provided: {given}.",
                    "type": "invalid_request_error",
                    "code": "invalid_api_key",
                }
                return Reply(), body, error_response(401, error, {"x-request-id": rid})
        with self._lock:
            reply = self._queue.popleft() if self._queue else self.default
        if reply.first_byte_delay_s:
            await self._stall(reply.first_byte_delay_s)
        headers = {"x-request-id": rid, **reply.headers}
        if reply.status >= 400:
            return reply, body, error_response(reply.status, reply.error, headers)
        return reply, body, None

    async def _chat(self, request: Request) -> Response:
        reply, body, early = await self._begin(request)
        if early is not None:
            return early
        body = body if isinstance(body, dict) else {}
        text = reply.text if reply.text is not None else echo(body.get("messages"))
        model = reply.model or str(body.get("model") or "fake-gpt")
        headers = {"x-request-id": f"req_fake_{next(self._ids)}", **reply.headers}
        if reply.fault == "drop" and not body.get("stream"):
            raise _Drop
        if not body.get("stream") or reply.body == "json":
            return json_response(
                shapes.completion(reply, text, model, body), headers, reply.ensure_ascii
            )
        if reply.body == "empty":
            return Response(b"", media_type="text/event-stream", headers=headers)
        if reply.body == "json_in_sse":
            error = reply.error or error_object(500)
            data = json.dumps(error if isinstance(error, str) else {"error": error})
            return Response(data.encode(), media_type="text/event-stream", headers=headers)
        events = self._stream(reply, text, model, body)
        return StreamingResponse(events, media_type="text/event-stream", headers=headers)

    async def _stream(
        self, reply: Reply, text: str, model: str, body: dict[str, Any]
    ) -> AsyncIterator[bytes]:
        created = int(time.time())

        def chunk(choices: list[dict[str, Any]], **extra: Any) -> bytes:
            obj = {
                "id": "chatcmpl-fake",
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": choices,
                **extra,
            }
            return sse(obj, reply.ensure_ascii)

        deltas = shapes.deltas(reply, text)
        try:
            yield chunk([{"index": 0, "delta": {"role": "assistant", "content": ""}}])
            for sent in range(len(deltas) + 1):
                if reply.fault is not None and sent == min(reply.fault_after, len(deltas)):
                    if reply.fault == "drop":
                        raise _Drop
                    if reply.fault == "truncate":
                        return
                    if reply.fault == "malformed":
                        yield b'data: {"id": "chatcmpl-fake", "choices": [{"delta": {"cont\n\n'
                    elif reply.fault == "error_in_stream":
                        error = reply.error or {
                            "message": "The server had an error while processing your request.",
                            "type": "server_error",
                            "code": None,
                        }
                        yield sse({"error": error}, reply.ensure_ascii)
                        return
                    elif reply.fault == "stall":
                        await self._stall(reply.stall_s)
                if sent == len(deltas):
                    break
                if sent and reply.chunks_per_s > 0:
                    await asyncio.sleep(1 / reply.chunks_per_s)
                data = chunk([{"index": 0, "delta": deltas[sent], "finish_reason": None}])
                if sent == 0:
                    with self._lock:
                        self._first_chunks.append(time.time())
                yield data
            yield chunk([{"index": 0, "delta": {}, "finish_reason": shapes.finish_reason(reply)}])
            if reply.usage:
                yield chunk([], usage=shapes.completion_usage(reply, body, text))
            yield b"data: [DONE]\n\n"
            with self._lock:
                self._completed += 1
        except asyncio.CancelledError:
            # Starlette cancels the body iterator when the client disconnects.
            with self._lock:
                self._disconnects += 1
            raise

    async def _stall(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not self._closing:
            await asyncio.sleep(0.02)

    async def _models(self, request: Request) -> Response:
        reply, _, early = await self._begin(request)
        if early is not None:
            return early
        data = [{"id": m, "object": "model", "created": 0, "owned_by": "fake"} for m in self.models]
        return json_response({"object": "list", "data": data}, reply.headers)

    async def _embeddings(self, request: Request) -> Response:
        reply, body, early = await self._begin(request)
        if early is not None:
            return early
        body = body if isinstance(body, dict) else {}
        inputs = body.get("input")
        texts = [inputs] if isinstance(inputs, str) else list(inputs or [])
        data = [
            {"object": "embedding", "index": i, "embedding": vector(str(t))}
            for i, t in enumerate(texts)
        ]
        # Reversed on purpose: the API does not promise order, `index` does.
        result = {"object": "list", "data": data[::-1], "model": body.get("model")}
        result["usage"] = {"prompt_tokens": len(texts), "total_tokens": len(texts)}
        return json_response(result, reply.headers)

    async def _images(self, request: Request) -> Response:
        reply, body, early = await self._begin(request)
        if early is not None:
            return early
        body = body if isinstance(body, dict) else {}
        n = int(body.get("n") or 1)
        if body.get("response_format") == "b64_json" and not reply.image_url:
            data = [{"b64_json": PNG_B64} for _ in range(n)]
        else:
            data = [{"url": f"{self.url}/files/fake-image-{i}.png"} for i in range(n)]
        return json_response({"created": int(time.time()), "data": data}, reply.headers)

    async def _image_file(self, request: Request) -> Response:
        """The picture a URL result names: a real PNG, so clients can check its magic number."""
        with self._lock:
            self._requests.append(
                RecordedRequest(
                    "GET", request.url.path, dict(request.headers), None, time.monotonic()
                )
            )
        return Response(base64.b64decode(PNG_B64), media_type="image/png")
