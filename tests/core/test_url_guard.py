"""SSRF guard: a user's own base URL never makes the server call an internal address, whether it is
checked on save or again before a request (after DNS may have changed).

No network beyond 127.0.0.1: IP literals are only parsed, `localhost` comes from /etc/hosts, and
other host names go through fake resolvers.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from chatapp import preferences
from chatapp.chat import answers, conversations, store
from chatapp.chat.items import message_item
from chatapp.chat.providers import ModelRouter, UserKeyedModel
from chatapp.core import metrics, url_guard
from chatapp.core.config import load_settings
from chatapp.core.crypto import SecretBox
from chatapp.core.db import session_scope
from chatapp.errors import BlockedURL, ConfigError, InvalidInput, user_message
from chatapp.i18n import translate
from chatapp.llm.types import StreamDone, TextDelta
from chatapp.models import Message, User, UserSettings
from testkit.fakes.openai_server import FakeOpenAI
from testkit.fakes.recording_http import Canned, RecordingServer

BOX = SecretBox("x" * 40)
USER_KEY = "sk-user-own-key-4242"


def no_dns(host: str, port: int) -> Sequence[str]:
    raise AssertionError(f"resolved {host!r}: an IP literal or allow-listed name must not be")


def fake_dns(table: dict[str, list[str]]) -> url_guard.Resolver:
    def resolve(host: str, port: int) -> Sequence[str]:
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return table[host]

    return resolve


BLOCKED = [
    "http://127.0.0.1:8000/v1",
    "http://127.8.9.10/v1",
    "http://10.1.2.3/v1",
    "http://172.16.0.1/v1",
    "http://172.31.255.254/v1",
    "http://192.168.1.1/v1",
    "http://169.254.169.254/latest/meta-data",
    "http://100.64.0.1/v1",  # carrier-grade NAT (shared address space)
    "http://0.0.0.0:8000/v1",
    "http://224.0.0.1/v1",  # multicast
    "http://240.0.0.1/v1",  # reserved
    "http://[::1]:8000/v1",
    "http://[::]/v1",
    "http://[::ffff:127.0.0.1]/v1",  # IPv4-mapped IPv6
    "http://[::ffff:169.254.169.254]/v1",
    "http://[::ffff:a9fe:a9fe]/v1",  # the same, in hex
    "http://[fc00::1]/v1",
    "http://[fd12:3456::1]/v1",
    "http://[fe80::1]/v1",
    "http://[2002:7f00:1::]/v1",  # 6to4 of 127.0.0.1
    "http://[64:ff9b::a9fe:a9fe]/v1",  # NAT64 of 169.254.169.254
    "http://2130706433/v1",  # 127.0.0.1 as one decimal number
    "http://0x7f000001/v1",  # ... in hex
    "http://0177.0.0.1/v1",  # ... in octal
    "http://127.1/v1",  # ... shortened
    "http://localhost:11434/v1",  # a name that resolves to 127.0.0.1
    "http://LOCALHOST./v1",
    "https://user:secret@8.8.8.8/v1",  # userinfo
    "https://user@8.8.8.8/v1",
    "ftp://8.8.8.8/v1",
    "file:///etc/passwd",
]


@pytest.mark.parametrize("url", BLOCKED)
def test_internal_addresses_and_bad_urls_are_refused(url):
    # The real resolver: every host here is an IP literal in some form, or localhost.
    with pytest.raises(BlockedURL) as err:
        url_guard.check_base_url(url)
    assert err.value.kind == err.value.reason == "blocked_base_url"


@pytest.mark.parametrize(
    "url",
    ["https://8.8.8.8/v1", "http://1.1.1.1:8080/v1", "https://[2001:4860:4860::8888]/v1"],
)
def test_public_ip_literals_pass_without_resolving(url):
    url_guard.check_base_url(url, resolver=no_dns)


def test_names_are_judged_by_every_address_they_resolve_to():
    dns = fake_dns(
        {
            "api.example.com": ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"],
            "rebind.example.com": ["93.184.215.14", "10.0.0.1"],  # one internal is enough
            "meta.example.com": ["::ffff:169.254.169.254"],
        }
    )
    url_guard.check_base_url("https://api.example.com/v1", resolver=dns)
    for url in (
        "https://rebind.example.com/v1",
        "https://meta.example.com/v1",
        "https://nxdomain.example.com/v1",  # does not resolve: refused, not let through
    ):
        with pytest.raises(BlockedURL):
            url_guard.check_base_url(url, resolver=dns)


def test_allow_list_from_the_environment_lets_chosen_internal_hosts_through(tmp_path):
    settings = load_settings(
        {
            "CHATAPP_DATA_DIR": str(tmp_path),
            "USER_BASE_URL_ALLOW": " 127.0.0.1, 10.0.0.0/8 ,vLLM.internal,",
        }
    )
    allow = settings.user_base_url_allow
    assert allow == ("127.0.0.1", "10.0.0.0/8", "vLLM.internal")
    url_guard.check_base_url("http://127.0.0.1:8000/v1", allow=allow)  # host
    url_guard.check_base_url("http://10.20.30.40/v1", allow=allow)  # CIDR
    url_guard.check_base_url("http://[::ffff:10.0.0.5]/v1", allow=allow)  # mapped, in the CIDR
    url_guard.check_base_url("http://vllm.internal:8000/v1", allow=allow, resolver=no_dns)
    dns = fake_dns({"box.internal": ["10.0.0.7"]})
    url_guard.check_base_url("http://box.internal/v1", allow=allow, resolver=dns)
    # Anything not listed stays refused, and the list does not excuse userinfo.
    for url in (
        "http://127.0.0.2/v1",
        "http://192.168.1.1/v1",
        "http://169.254.169.254/v1",
        "http://[::1]/v1",
        "http://u:p@127.0.0.1/v1",
    ):
        with pytest.raises(BlockedURL):
            url_guard.check_base_url(url, allow=allow)
    assert load_settings({"CHATAPP_DATA_DIR": str(tmp_path)}).user_base_url_allow == ()


@pytest.mark.parametrize("value", ["10.0.0.0/33", "http://10.0.0.1", "a b", "host/8"])
def test_a_malformed_allow_list_fails_at_start_up(tmp_path, value):
    with pytest.raises(ConfigError, match="USER_BASE_URL_ALLOW"):
        load_settings({"CHATAPP_DATA_DIR": str(tmp_path), "USER_BASE_URL_ALLOW": value})


def test_the_refusal_has_its_own_text_in_both_languages():
    for lang in ("zh", "en"):
        saved = translate("settings.error.blocked_base_url", lang)
        assert saved and saved != "settings.error.blocked_base_url"
        assert saved != translate("settings.error.bad_base_url", lang)
        assert user_message("blocked_base_url", lang) != user_message("internal", lang)


def _user(session, openid: str = "alice") -> int:
    user = User(openid=openid)
    session.add(user)
    session.flush()
    assert user.id is not None
    return user.id


@pytest.mark.parametrize(
    "base_url",
    ["http://169.254.169.254/latest", "http://127.0.0.1:11434/v1", "http://[::1]/v1"],
)
def test_saving_an_internal_base_url_is_refused_and_nothing_is_stored(session, base_url):
    alice = _user(session)
    with pytest.raises(InvalidInput) as err:
        preferences.set_api_credentials(
            session, user_id=alice, box=BOX, api_key=USER_KEY, base_url=base_url
        )
    assert err.value.reason == "blocked_base_url"
    assert preferences.user_credentials(session, user_id=alice, box=BOX) == (None, None)


def test_saving_an_allow_listed_internal_base_url_works(session):
    alice = _user(session)
    preferences.set_api_credentials(
        session,
        user_id=alice,
        box=BOX,
        api_key=USER_KEY,
        base_url="http://127.0.0.1:11434/v1",
        allow=("127.0.0.1",),
    )
    assert preferences.user_credentials(session, user_id=alice, box=BOX) == (
        USER_KEY,
        "http://127.0.0.1:11434/v1",
    )


class RecordingModel:
    """Records every request it is asked to make."""

    def __init__(self) -> None:
        self.calls: list[dict] = []

    async def stream_chat(
        self, messages: list[dict[str, str]], model: str, **params: Any
    ) -> AsyncIterator[TextDelta | StreamDone]:
        self.calls.append(params)
        yield StreamDone("stop", None)


async def test_a_name_that_turns_internal_after_saving_is_refused_at_call_time(session):
    """DNS rebinding: public when saved, 127.0.0.1 when the answer starts."""
    dns = {"llm.example.com": ["93.184.215.14"]}
    alice = _user(session)
    preferences.set_api_credentials(
        session,
        user_id=alice,
        box=BOX,
        api_key=USER_KEY,
        base_url="https://llm.example.com/v1",
        resolver=fake_dns(dns),
    )
    key, base_url = preferences.user_credentials(session, user_id=alice, box=BOX)
    assert key == USER_KEY and base_url == "https://llm.example.com/v1"
    dns["llm.example.com"] = ["127.0.0.1"]
    inner = RecordingModel()
    keyed = UserKeyedModel(inner, api_key=key, base_url=base_url, resolver=fake_dns(dns))
    with pytest.raises(BlockedURL):
        async for _ in keyed.stream_chat([{"role": "user", "content": "hi"}], "m"):
            pass
    assert inner.calls == []  # the shared client was never asked


async def _answer_with_saved_url(session, env: dict[str, str], base_url: str) -> Message:
    """Stores the user's key and base URL *directly* (no save-time check), then answers one
    message the way the chat page does: credentials → router.client_for → answer job."""
    alice = _user(session)
    session.add(
        UserSettings(
            user_id=alice,
            api_key_enc=BOX.encrypt(USER_KEY),
            api_key_last4=USER_KEY[-4:],
            api_base_url=base_url,
        )
    )
    session.commit()
    router = ModelRouter(load_settings(env))
    with session_scope() as s:
        conv = store.create_conversation(s, user_id=alice, model="m")
        turn = conversations.send_message(s, user_id=alice, conversation_id=conv.id, text="hi")
        request = conversations.build_request(s, user_id=alice, turn=turn)
        api_key, url = preferences.user_credentials(s, user_id=alice, box=BOX)
    job = answers.start_answer(
        user_id=alice,
        message_id=turn.assistant_message_id,
        request=request,
        client=router.client_for(request.model, api_key=api_key, base_url=url),
    )
    await asyncio.wait_for(job.done.wait(), 10)
    with session_scope() as s:
        msg = store.get_message(s, user_id=alice, message_id=turn.assistant_message_id)
    assert msg is not None
    return msg


@pytest.fixture
def internal_llm():
    """An 'internal' model server on 127.0.0.1 that records whether anyone called it."""
    with FakeOpenAI() as srv:
        yield srv


async def test_a_saved_internal_url_fails_the_answer_and_is_never_called(
    session, tmp_path, internal_llm
):
    env = {
        "CHATAPP_DATA_DIR": str(tmp_path),
        "OPENAI_API_KEY": "sk-deployment",
        "OPENAI_BASE_URL": "https://8.8.8.8/v1",  # never reached either
        "CHATAPP_MODELS": "m",
    }
    msg = await _answer_with_saved_url(session, env, internal_llm.base_url)
    assert (msg.status, msg.error_code) == ("error", "blocked_base_url")
    assert internal_llm.requests == []


async def test_an_allow_listed_internal_url_is_called_with_the_users_key(
    session, tmp_path, internal_llm
):
    env = {
        "CHATAPP_DATA_DIR": str(tmp_path),
        "OPENAI_API_KEY": "sk-deployment",
        "OPENAI_BASE_URL": "https://8.8.8.8/v1",
        "CHATAPP_MODELS": "m",
        "USER_BASE_URL_ALLOW": "127.0.0.1",
    }
    msg = await _answer_with_saved_url(session, env, internal_llm.base_url)
    assert (msg.status, msg.error_code) == ("done", None) and msg.content
    assert internal_llm.requests[-1].headers["authorization"] == f"Bearer {USER_KEY}"


async def test_dns_rebinding_between_the_check_and_the_connection_never_reaches_the_server(
    session, tmp_path, internal_llm, monkeypatch
):
    """The system resolver answers a public address to the check and 127.0.0.1 after it: the
    answer fails as blocked and the internal server gets no request."""
    real = socket.getaddrinfo
    lookups: list[str] = []

    def rebinding(host, port, *args, **kwargs):
        name = host.decode() if isinstance(host, bytes) else host
        if name != "rebind.example.com":
            return real(host, port, *args, **kwargs)
        lookups.append(name)
        address = "93.184.215.14" if len(lookups) == 1 else "127.0.0.1"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, int(port)))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    env = {
        "CHATAPP_DATA_DIR": str(tmp_path),
        "OPENAI_API_KEY": "sk-deployment",
        "OPENAI_BASE_URL": "https://8.8.8.8/v1",
        "CHATAPP_MODELS": "m",
    }
    port = internal_llm.base_url.split(":")[-1].split("/")[0]
    msg = await _answer_with_saved_url(session, env, f"http://rebind.example.com:{port}/v1")
    assert (msg.status, msg.error_code) == ("error", "blocked_base_url")
    assert internal_llm.requests == []
    assert len(lookups) == 2  # the check, then the connection's own lookup


async def test_a_base_url_that_redirects_fails_the_answer_saying_where_to(session, tmp_path):
    """A 3xx is neither followed nor shown as a broken answer: the message says it redirected."""
    moved = Canned(302, {"location": "https://login.example.net/sso?ticket=t0ken"}, b"moved")
    counted = metrics.UPSTREAM_ERRORS.labels(type="redirect")._value.get()
    with RecordingServer(routes={"/v1/chat/completions": moved}) as srv:
        env = {
            "CHATAPP_DATA_DIR": str(tmp_path),
            "OPENAI_API_KEY": "sk-deployment",
            "OPENAI_BASE_URL": "https://8.8.8.8/v1",
            "CHATAPP_MODELS": "m",
            "USER_BASE_URL_ALLOW": "127.0.0.1",
        }
        msg = await _answer_with_saved_url(session, env, f"http://127.0.0.1:{srv.port}/v1")
    assert (msg.status, msg.error_code) == ("error", "redirect:login.example.net")
    assert srv.paths() == ["/v1/chat/completions"]  # asked once: not retried, not followed
    # The metric counts the kind; a user-chosen host never becomes a label.
    assert metrics.UPSTREAM_ERRORS.labels(type="redirect")._value.get() == counted + 1
    now = datetime.now(UTC)
    zh = message_item(msg, now=now, lang="zh").error_text
    en = message_item(msg, now=now, lang="en").error_text
    assert "重定向" in zh and "login.example.net" in zh and "t0ken" not in zh
    assert "redirect" in en and "login.example.net" in en
