"""The open API: an OpenAI-compatible `/v1` on the app's own port, for editor plugins, scripts
and other chat clients, under the user's own key.

    GET  /v1/models             the models this user may call (the chat page's list)
    POST /v1/chat/completions   streamed (SSE, as OpenAI frames it) or whole; see
                                `openai_request` for the fields and `openai_frames` for the answers

Every call carries `Authorization: Bearer ck-…` (`chatapp.auth.api_keys`); a missing, unknown or
revoked key is 401 in OpenAI's error shape. Then, in order: the key's own rate limit
(`API_KEY_REQUESTS_PER_MINUTE`), the body cap (`API_MAX_BODY_BYTES`, 413), the fields (400 naming
`param`), the model (404 when it is not this user's), and the web app's limits (`admission`).
Messages are in the caller's `Accept-Language` (中文 unless it asks for English). Calls are not
stored as conversations; each answered call is counted on its key (requests, tokens, last used).
CORS headers are sent only for `API_CORS_ORIGINS` (`open_api_cors`).
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse
from limits.storage import storage_from_string
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from chatapp.api import api_charging, model_call
from chatapp.api.admission import Refused, admit
from chatapp.api.forms import TooLarge, read_capped
from chatapp.api.open_api_settings import OpenApiSettings
from chatapp.api.openai_frames import (
    DONE,
    ChunkWriter,
    api_text,
    completion,
    completion_id,
    error_body,
    sse,
    upstream_error,
    usage_dict,
)
from chatapp.api.openai_request import ApiInvalid, ChatCompletionRequest, parse_request
from chatapp.auth.ratelimit import storage_uri
from chatapp.chat import send_gate
from chatapp.chat.spend import SendLimited, SendRateGuard
from chatapp.core.config import Settings
from chatapp.i18n import normalise_language

log = logging.getLogger(__name__)

STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def caller_language(request: Request) -> str:
    """zh or en, from the first language of `Accept-Language` (zh when absent)."""
    first = request.headers.get("accept-language", "").split(",")[0]
    return normalise_language(first.split(";")[0])


def error_response(
    status: int,
    message: str,
    *,
    type_: str,
    code: str | None = None,
    param: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """An OpenAI-shaped error."""
    body = error_body(message, type_=type_, param=param, code=code)
    return JSONResponse(body, status_code=status, headers=headers)


class _Denied(Exception):
    """The request stops here, answered with `response`."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


class CallEnd:
    """What ends with a call, however it ends: the upstream request, the user's answer slot and
    the usage ledger. `close` runs once, from whichever path gets there first (the answer ended,
    failed, or the client went away before its first byte and the stream never started)."""

    def __init__(
        self,
        answer: model_call.Answer,
        slot: contextlib.AsyncExitStack,
        key_id: int | None,
        hold: Any = None,
    ) -> None:
        self.answer = answer
        self.slot = slot
        self.key_id = key_id
        # The call's reservation in the usage ledger (api/api_charging.py).
        self.hold = hold
        self.usage: dict[str, int] | None = None
        self._closed = False

    async def close(self) -> None:
        """Ends the call (once)."""
        if self._closed:
            return
        self._closed = True
        await self.answer.aclose()
        await self.slot.aclose()
        await model_call.record_usage(self.key_id, self.usage)
        answer = self.answer
        # A call that ended without the provider's usage (failed, or the caller left) is booked
        # at our count of what it sent; one that brought no text at all is refunded.
        usage = self.usage or usage_dict(
            None, prompt_chars=answer.prompt_chars, completion_chars=answer.completion_chars
        )
        await api_charging.settle(
            self.hold,
            {**usage, "estimated": int(answer.usage is None)},
            failed=self.usage is None and answer.completion_chars == 0,
        )


class ClosingStream(StreamingResponse):
    """A streamed answer that ends its call even when the body never started."""

    def __init__(self, content: AsyncIterator[bytes], call: CallEnd, **kwargs: Any) -> None:
        super().__init__(content, **kwargs)
        self._call = call

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self._call.close()


class OpenApi:
    """The `/v1` handlers and what they share: settings and the per-key rate limiter."""

    def __init__(
        self,
        settings: Settings,
        open_api: OpenApiSettings,
        send_guard: SendRateGuard | None = None,
    ) -> None:
        self.settings = settings
        self.send_guard = send_guard
        self.open_api = open_api
        self.key_guard: SendRateGuard | None = None
        if open_api.key_requests_per_minute:
            uri = storage_uri(settings)
            options = (
                {"implementation": "redispy", "key_prefix": "APIKEY"}
                if uri.startswith("async+redis")
                else {}
            )
            storage = storage_from_string(uri, **options)
            self.key_guard = SendRateGuard(storage, open_api.key_requests_per_minute)  # type: ignore[arg-type]

    async def owner(self, request: Request, lang: str) -> model_call.Caller:
        """The caller's key, counted against its rate limit.

        Raises:
            _Denied: 401 (missing, unknown or revoked key) or 429 (the key's rate limit).
        """
        auth = request.headers.get("authorization", "")
        secret = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
        if not secret:
            raise _Denied(
                error_response(401, api_text("missing_key", lang), type_="invalid_request_error")
            )
        owner = await model_call.caller_by_key(self.settings, secret)
        if owner is None or owner.key_id is None:
            raise _Denied(
                error_response(
                    401,
                    api_text("invalid_key", lang),
                    type_="invalid_request_error",
                    code="invalid_api_key",
                )
            )
        if self.key_guard is not None:
            try:
                await self.key_guard.hit(owner.key_id)
            except SendLimited as exc:
                seconds = str(exc.retry_after_s or 1)
                message = api_text("key_rate", lang, n=str(exc.limit), s=seconds)
                raise _Denied(
                    error_response(
                        429,
                        message,
                        type_="requests",
                        code="rate_limit_exceeded",
                        headers={"Retry-After": seconds},
                    )
                ) from exc
        return owner

    async def read_request(self, request: Request, lang: str) -> ChatCompletionRequest:
        """The checked body.

        Raises:
            _Denied: 413 over the cap, 400 for JSON that is not an object or a bad field.
        """
        try:
            raw = await read_capped(request, self.open_api.max_body_bytes)
        except TooLarge:
            message = api_text("too_large", lang, n=str(self.open_api.max_body_bytes))
            raise _Denied(
                error_response(
                    413, message, type_="invalid_request_error", code="request_too_large"
                )
            ) from None
        try:
            return parse_request(json.loads(raw.decode("utf-8") or "null"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            message = api_text("bad_json", lang)
            raise _Denied(
                error_response(400, message, type_="invalid_request_error", code="invalid_json")
            ) from None
        except ApiInvalid as exc:
            values = {k: str(v) for k, v in exc.values.items()}
            message = api_text(exc.reason, lang, param=exc.param or "", **values)
            raise _Denied(
                error_response(
                    400,
                    message,
                    type_="invalid_request_error",
                    code="invalid_value",
                    param=exc.param,
                )
            ) from None

    async def models(self, request: Request) -> Response:
        lang = caller_language(request)
        try:
            owner = await self.owner(request, lang)
        except _Denied as denied:
            return denied.response
        ids = await model_call.offered_models(owner)
        await model_call.record_usage(owner.key_id, None, answered=False)
        data = [{"id": m, "object": "model", "created": 0, "owned_by": "chatapp"} for m in ids]
        return JSONResponse({"object": "list", "data": data})

    async def chat_completions(self, request: Request) -> Response:
        lang = caller_language(request)
        # Checking a call is a send's own work, behind the page's send gate (chatapp.chat.send_gate):
        # when hundreds of calls arrive together, the answers already streaming keep their pace.
        # The model call itself is not inside it.
        async with send_gate.gate():
            started = await self._admitted(request, lang)
        if isinstance(started, Response):
            return started
        answer, body, call = started
        if body.stream:
            return await self._stream(answer, body, call, lang)
        return await self._whole(answer, body, call, lang)

    async def _admitted(
        self, request: Request, lang: str
    ) -> tuple[model_call.Answer, ChatCompletionRequest, CallEnd] | Response:
        """The key, the body, the model and the limits: a call ready to ask the model, or the
        refusal."""
        try:
            owner = await self.owner(request, lang)
            body = await self.read_request(request, lang)
        except _Denied as denied:
            return denied.response
        client = await model_call.client_for(owner, body.model)
        if client is None:
            return error_response(
                404,
                api_text("model_not_found", lang, model=body.model[:128]),
                type_="invalid_request_error",
                code="model_not_found",
                param="model",
            )
        # The admission spans the whole answer (a streamed one outlives this handler).
        slot = contextlib.AsyncExitStack()
        try:
            params = await slot.enter_async_context(
                admit(
                    self.settings,
                    user_id=owner.user_id,
                    params=body.params,
                    lang=lang,
                    send_guard=self.send_guard,
                )
            )
        except Refused as refused:
            headers = {"Retry-After": str(refused.retry_after_s)} if refused.retry_after_s else None
            return error_response(
                refused.status,
                refused.message,
                type_=refused.type_,
                code=refused.code,
                param=refused.param,
                headers=headers,
            )
        charged = await api_charging.admit(
            self.settings,
            user_id=owner.user_id,
            messages=body.messages,
            model=body.model,
            params=params,
            own_key=owner.own_api_key is not None,
            lang=lang,
        )
        if isinstance(charged, api_charging.Refusal):  # the rule chain: plan, 敏感词, quota…
            await slot.aclose()
            return error_response(
                charged.status,
                charged.message,
                type_=charged.type_,
                code=charged.code,
                headers={"Retry-After": str(charged.retry_after_s)}
                if charged.retry_after_s
                else None,
            )
        hold, params = charged
        answer = model_call.Answer(client, body.messages, body.model, params)
        return answer, body, CallEnd(answer, slot, owner.key_id, hold)

    async def _whole(
        self,
        answer: model_call.Answer,
        body: ChatCompletionRequest,
        call: CallEnd,
        lang: str,
    ) -> Response:
        texts: list[str] = []
        reasoning: list[str] = []
        try:
            async for piece in answer.pieces():
                (reasoning if piece.reasoning else texts).append(piece.text)
            call.usage = self._usage(answer)
        except Exception as exc:  # every upstream failure is answered in OpenAI's shape
            return self._failed(exc, lang)
        finally:
            await call.close()
        return JSONResponse(
            completion(
                id_=completion_id(),
                model=body.model,
                text="".join(texts),
                reasoning="".join(reasoning),
                finish_reason=answer.finish_reason,
                usage=call.usage,
            )
        )

    async def _stream(
        self,
        answer: model_call.Answer,
        body: ChatCompletionRequest,
        call: CallEnd,
        lang: str,
    ) -> Response:
        pieces = answer.pieces()
        # The first piece is awaited before answering, so a call that fails before any text
        # gets its real status (429, 400, 502 …) instead of a 200 with an error event.
        try:
            first = await anext(pieces, None)
        except Exception as exc:  # every upstream failure is answered in OpenAI's shape
            await call.close()
            return self._failed(exc, lang)
        writer = ChunkWriter(model=body.model, include_usage=body.include_usage)

        def frame(piece: model_call.Piece) -> bytes:
            if piece.reasoning:
                return writer.delta(reasoning_content=piece.text)
            return writer.delta(content=piece.text)

        async def events() -> AsyncIterator[bytes]:
            try:
                yield writer.delta(role="assistant", content="", refusal=None)
                if first is not None:
                    yield frame(first)
                async for piece in pieces:
                    yield frame(piece)
                call.usage = self._usage(answer)
                yield writer.finish(answer.finish_reason)
                if body.include_usage:
                    yield writer.usage(call.usage)
                yield DONE
            except Exception as exc:  # mid-stream: one error event, and no [DONE]
                _status, error, _headers = upstream_error(exc, lang, mid_stream=True)
                log.warning("api stream failed: %s", error["error"]["code"])
                yield sse(error)
            finally:
                await call.close()

        return ClosingStream(
            events(),
            call,
            media_type="text/event-stream; charset=utf-8",
            headers=STREAM_HEADERS,
        )

    @staticmethod
    def _usage(answer: model_call.Answer) -> dict[str, int]:
        return usage_dict(
            answer.usage,
            prompt_chars=answer.prompt_chars,
            completion_chars=answer.completion_chars,
        )

    @staticmethod
    def _failed(exc: Exception, lang: str) -> Response:
        status, error, headers = upstream_error(exc, lang)
        if error["error"]["code"] == "upstream_error":
            log.warning("api call failed upstream: %s", type(exc).__name__)
        return JSONResponse(error, status_code=status, headers=headers)


def add_open_api_routes(
    app: FastAPI,
    settings: Settings,
    open_api: OpenApiSettings,
    send_guard: SendRateGuard | None = None,
) -> OpenApi:
    """Adds `/v1/models` and `/v1/chat/completions` to `app` (`send_guard`: see `admit`)."""
    api = OpenApi(settings, open_api, send_guard)
    app.add_api_route("/v1/models", api.models, methods=["GET"], include_in_schema=False)
    app.add_api_route(
        "/v1/chat/completions", api.chat_completions, methods=["POST"], include_in_schema=False
    )
    return api
