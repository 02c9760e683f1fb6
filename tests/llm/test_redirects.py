"""A 3xx from an endpoint is a typed, unretried error naming where it pointed; never followed."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from chatapp.llm import ChatClient, LLMRedirectError

from .conftest import MSGS, Recorder, RecordingSleep

MakeClient = Callable[..., ChatClient]


@pytest.mark.parametrize(
    ("status", "location", "host"),
    [
        (301, "https://api.example.com/v1/chat/completions", "api.example.com"),
        (302, "http://login.example.net:8443/sso?token=abc", "login.example.net:8443"),
        (307, "/elsewhere", "llm.invalid"),  # relative: the same host
        (308, "", None),
    ],
)
async def test_a_redirect_is_an_error_naming_the_location_host(
    make_client: MakeClient, sleeps: RecordingSleep, status, location, host
) -> None:
    headers = {"location": location} if location else {}
    rec = Recorder(httpx.Response(status, headers=headers, text="<html>moved</html>"))
    client = make_client(rec)
    with pytest.raises(LLMRedirectError) as stream_err:
        async for _ in client.stream_chat(MSGS, "m"):
            pass
    with pytest.raises(LLMRedirectError) as json_err:
        await client.list_models()
    for err in (stream_err.value, json_err.value):
        assert err.kind == "redirect" and err.status == status
        assert err.location_host == host
        assert "token=abc" not in str(err)
    # Not followed and not retried: one request per call.
    assert [r.url.path for r in rec.requests] == ["/v1/chat/completions", "/v1/models"]
    assert sleeps.delays == []
