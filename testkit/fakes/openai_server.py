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

Run it as its own process for benchmarks:

    python -m testkit.fakes.openai_server --port 8900 --chunks-per-s 95
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import itertools
import json
import logging
import socket
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

Fault = Literal["drop", "truncate", "stall", "malformed", "error_in_stream"]

# A 1x1 transparent PNG, for b64_json image replies.
_PNG = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
    )
).decode()

_ERRORS: dict[int, tuple[str, str | None, str]] = {
    400: ("invalid_request_error", None, "Bad request."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
    403: ("permission_error", None, "You are not allowed to do this."),
    404: ("invalid_request_error", "model_not_found", "The model does not exist."),
    422: ("invalid_request_error", None, "Unprocessable request."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached. Please try again later."),
}


@dataclass
class Reply:
    """What the fake answers to one request.

    Attributes:
        text: The answer; None echoes the last user message.
        chunk_chars: Characters (not bytes) per streamed content chunk.
        chunks_per_s: Pace of content chunks; 0 sends them as fast as possible.
        finish_reason: Sent on the final chunk (None: no finish_reason, but still [DONE]).
        usage: Send a usage chunk (`choices: []`) before [DONE], and usage when not streaming.
        fault: A stream fault, see the module docstring.
        fault_after: Content chunks sent before the fault strikes.
        stall_s: How long a "stall" lasts before the stream carries on.
        status: HTTP status; >= 400 answers with an error body instead of a completion.
        headers: Extra response headers (e.g. {"retry-after": "1"}).
        error: The error object (or a plain text body) for `status` and "error_in_stream".
        first_byte_delay_s: Wait this long before answering at all.
        model: The model named in the reply (default: the requested one).
        ensure_ascii: JSON-escape non-ASCII (emoji become \\ud83d\\ude00 surrogate pairs).
    """

    text: str | None = None
    chunk_chars: int = 4
    chunks_per_s: float = 0
    finish_reason: str | None = "stop"
    usage: bool = True
    fault: Fault | None = None
    fault_after: int = 1
    stall_s: float = 30.0
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    error: dict[str, Any] | str | None = None
    first_byte_delay_s: float = 0.0
    model: str | None = None
    ensure_ascii: bool = False


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the fake received it (headers lower-cased)."""

    method: str
    path: str
    headers: dict[str, str]
    json: Any
    at: float


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
                return Reply(), body, _error_response(401, error, {"x-request-id": rid})
        with self._lock:
            reply = self._queue.popleft() if self._queue else self.default
        if reply.first_byte_delay_s:
            await self._stall(reply.first_byte_delay_s)
        headers = {"x-request-id": rid, **reply.headers}
        if reply.status >= 400:
            return reply, body, _error_response(reply.status, reply.error, headers)
        return reply, body, None

    async def _chat(self, request: Request) -> Response:
        reply, body, early = await self._begin(request)
        if early is not None:
            return early
        body = body if isinstance(body, dict) else {}
        text = reply.text if reply.text is not None else _echo(body.get("messages"))
        model = reply.model or str(body.get("model") or "fake-gpt")
        headers = {"x-request-id": f"req_fake_{next(self._ids)}", **reply.headers}
        if body.get("stream"):
            events = self._stream(reply, text, model, body)
            return StreamingResponse(events, media_type="text/event-stream", headers=headers)
        if reply.fault == "drop":
            raise _Drop
        pieces = _pieces(text, reply.chunk_chars)
        data: dict[str, Any] = {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": reply.finish_reason,
                }
            ],
        }
        if reply.usage:
            data["usage"] = _usage(body, len(pieces))
        return _json(data, headers, reply.ensure_ascii)

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
            return _sse(obj, reply.ensure_ascii)

        pieces = _pieces(text, reply.chunk_chars)
        try:
            yield chunk([{"index": 0, "delta": {"role": "assistant", "content": ""}}])
            for sent in range(len(pieces) + 1):
                if reply.fault is not None and sent == min(reply.fault_after, len(pieces)):
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
                        yield _sse({"error": error}, reply.ensure_ascii)
                        return
                    elif reply.fault == "stall":
                        await self._stall(reply.stall_s)
                if sent == len(pieces):
                    break
                if sent and reply.chunks_per_s > 0:
                    await asyncio.sleep(1 / reply.chunks_per_s)
                delta = {"index": 0, "delta": {"content": pieces[sent]}, "finish_reason": None}
                data = chunk([delta])
                if sent == 0:
                    with self._lock:
                        self._first_chunks.append(time.time())
                yield data
            yield chunk([{"index": 0, "delta": {}, "finish_reason": reply.finish_reason}])
            if reply.usage:
                yield chunk([], usage=_usage(body, len(pieces)))
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
        return _json({"object": "list", "data": data}, reply.headers)

    async def _embeddings(self, request: Request) -> Response:
        reply, body, early = await self._begin(request)
        if early is not None:
            return early
        body = body if isinstance(body, dict) else {}
        inputs = body.get("input")
        texts = [inputs] if isinstance(inputs, str) else list(inputs or [])
        data = [
            {"object": "embedding", "index": i, "embedding": _vector(str(t))}
            for i, t in enumerate(texts)
        ]
        # Reversed on purpose: the API does not promise order, `index` does.
        result = {"object": "list", "data": data[::-1], "model": body.get("model")}
        result["usage"] = {"prompt_tokens": len(texts), "total_tokens": len(texts)}
        return _json(result, reply.headers)

    async def _images(self, request: Request) -> Response:
        reply, body, early = await self._begin(request)
        if early is not None:
            return early
        body = body if isinstance(body, dict) else {}
        n = int(body.get("n") or 1)
        if body.get("response_format") == "b64_json":
            data = [{"b64_json": _PNG} for _ in range(n)]
        else:
            data = [{"url": f"{self.url}/files/fake-image-{i}.png"} for i in range(n)]
        return _json({"created": int(time.time()), "data": data}, reply.headers)


# -- helpers ---------------------------------------------------------------------------------


def _sse(obj: Any, ensure_ascii: bool = False) -> bytes:
    return f"data: {json.dumps(obj, ensure_ascii=ensure_ascii)}\n\n".encode()


def _json(obj: Any, headers: dict[str, str], ensure_ascii: bool = False) -> Response:
    content = json.dumps(obj, ensure_ascii=ensure_ascii)
    return Response(content, media_type="application/json", headers=headers)


def _error_response(
    status: int, error: dict[str, Any] | str | None, headers: dict[str, str]
) -> Response:
    if isinstance(error, str):
        return PlainTextResponse(error, status_code=status, headers=headers)
    if error is None:
        default = ("server_error", None, "The server had an error processing your request.")
        kind, code, message = _ERRORS.get(status, default)
        error = {"message": message, "type": kind, "param": None, "code": code}
    return JSONResponse({"error": error}, status_code=status, headers=headers)


def _echo(messages: Any) -> str:
    """A deterministic answer that mentions the last user message."""
    for message in reversed(messages if isinstance(messages, list) else []):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, list):
                content = " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
            return f"You said: {content}"
    return "Hello from FakeOpenAI."


def _pieces(text: str, size: int) -> list[str]:
    size = max(1, size)
    return [text[i : i + size] for i in range(0, len(text), size)]


def _usage(body: dict[str, Any], completion_tokens: int) -> dict[str, int]:
    messages = body.get("messages") or []
    prompt = sum(len(str(m.get("content", ""))) for m in messages if isinstance(m, dict)) // 4
    prompt += 1
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt + completion_tokens,
    }


def _vector(text: str, dims: int = 8) -> list[float]:
    digest = hashlib.sha256(text.encode()).digest()
    return [round(b / 127.5 - 1.0, 6) for b in digest[:dims]]


def run_forever(
    host: str = "127.0.0.1",
    port: int = 8900,
    *,
    chunks_per_s: float = 95,
    chunk_chars: int = 4,
    api_key: str | None = None,
) -> None:
    """Serve in the foreground until interrupted (for benchmarks and manual runs)."""
    server = FakeOpenAI(
        api_key=api_key,
        host=host,
        port=port,
        default=Reply(chunks_per_s=chunks_per_s, chunk_chars=chunk_chars),
    )
    uvicorn.run(server.app, host=host, port=port, log_level="warning", lifespan="off")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Fake OpenAI-compatible server.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8900)
    parser.add_argument("--chunks-per-s", type=float, default=95)
    parser.add_argument("--chunk-chars", type=int, default=4)
    parser.add_argument("--api-key", default=None)
    args = parser.parse_args(argv)
    run_forever(
        args.host,
        args.port,
        chunks_per_s=args.chunks_per_s,
        chunk_chars=args.chunk_chars,
        api_key=args.api_key,
    )


if __name__ == "__main__":
    main()
