"""The original project's chat endpoint, so its Next.js page can point at chatapp:

    POST /api/v1/chatgpt/chat/completions
    Authorization: <session JWT>          (raw, no "Bearer ")
    {"model": "...", "messages": [{"role": "user", "content": "..."}]}

answers `text/event-stream` whose body is the answer's raw text, chunk after chunk (no SSE
framing: the page appends what its fetch reader gets), as the original's `ResponseBodyEmitter`
did. A bad, expired or revoked token answers the body `0003` (status 200, as the original: the
page compares the text with "0003" and sends the user to log in). A bad body is 400 with the
reason as text; a model this deployment does not serve is answered by its default model (the
original page's model list is fixed in its code). A failure mid-answer appends the reason
(in the caller's `Accept-Language`) to what arrived. The web app's limits apply (`admission`);
nothing is stored as a conversation.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse
from starlette.responses import Response

from chatapp.api import api_charging, model_call
from chatapp.api.admission import Refused, admit
from chatapp.api.forms import TooLarge, read_capped
from chatapp.api.open_api_settings import OpenApiSettings
from chatapp.api.openai_compat import STREAM_HEADERS, CallEnd, ClosingStream, caller_language
from chatapp.api.openai_frames import api_text, upstream_error
from chatapp.api.openai_request import ApiInvalid, ChatCompletionRequest, parse_request
from chatapp.billing.wallet import Hold
from chatapp.chat import send_gate
from chatapp.chat.providers import ChatModel
from chatapp.core.config import Settings
from chatapp.errors import AuthError

PATH = "/api/v1/chatgpt/chat/completions"
# The original's "bad token" code (not a secret).
TOKEN_ERROR = "0003"  # noqa: S105  # nosec B105
MEDIA_TYPE = "text/event-stream; charset=utf-8"


def add_legacy_chat_route(app: FastAPI, settings: Settings, open_api: OpenApiSettings) -> None:
    """Adds the route in the module docstring."""

    async def admitted(
        request: Request, lang: str
    ) -> (
        tuple[ChatModel, ChatCompletionRequest, str, contextlib.AsyncExitStack, dict, Hold]
        | Response
    ):
        try:
            caller = await model_call.caller_by_session(
                settings, request.headers.get("authorization", "")
            )
        except AuthError:
            return PlainTextResponse(TOKEN_ERROR, media_type=MEDIA_TYPE)
        try:
            raw = await read_capped(request, open_api.max_body_bytes)
            body = parse_request(json.loads(raw.decode("utf-8") or "null"))
        except TooLarge:
            text = api_text("too_large", lang, n=str(open_api.max_body_bytes))
            return PlainTextResponse(text, status_code=413)
        except (UnicodeDecodeError, json.JSONDecodeError):
            return PlainTextResponse(api_text("bad_json", lang), status_code=400)
        except ApiInvalid as exc:
            values = {k: str(v) for k, v in exc.values.items()}
            text = api_text(exc.reason, lang, param=exc.param or "", **values)
            return PlainTextResponse(text, status_code=400)
        offered = await model_call.offered_models(caller)
        model = body.model if body.model in offered else offered[0]
        client = await model_call.client_for(caller, model)
        assert client is not None  # `model` is one of the offered ones
        slot = contextlib.AsyncExitStack()
        try:
            params = await slot.enter_async_context(
                admit(settings, user_id=caller.user_id, params=body.params, lang=lang)
            )
        except Refused as refused:
            return PlainTextResponse(refused.message, status_code=refused.status)
        charged = await api_charging.admit(
            settings,
            user_id=caller.user_id,
            messages=body.messages,
            model=model,
            params=params,
            own_key=caller.own_api_key is not None,
            lang=lang,
        )
        if isinstance(charged, api_charging.Refusal):  # the rule chain: plan, 敏感词, quota…
            await slot.aclose()
            return PlainTextResponse(charged.message, status_code=charged.status)
        hold, params = charged
        return client, body, model, slot, params, hold

    @app.post(PATH)
    async def legacy_completions(request: Request) -> Response:
        lang = caller_language(request)
        # As for /v1 (openai_compat): checking a call waits behind the page's send gate.
        async with send_gate.gate():
            started = await admitted(request, lang)
        if isinstance(started, Response):
            return started
        client, body, model, slot, params, hold = started
        answer = model_call.Answer(client, body.messages, model, params)
        call = CallEnd(answer, slot, None, hold)

        async def chunks() -> AsyncIterator[bytes]:
            try:
                async for piece in answer.pieces():
                    if not piece.reasoning:
                        yield piece.text.encode()
            except Exception as exc:  # the page shows text only: the reason, after what arrived
                _status, error, _headers = upstream_error(exc, lang, mid_stream=True)
                yield ("\n\n" + error["error"]["message"]).encode()
            finally:
                await call.close()

        return ClosingStream(chunks(), call, media_type=MEDIA_TYPE, headers=STREAM_HEADERS)
