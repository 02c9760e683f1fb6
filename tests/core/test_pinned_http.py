"""DNS rebinding: requests to users' base URLs connect only to an address that was checked.

Each test runs a real server on a loopback address and a resolver the test controls (the
"DNS"). 127.0.0.2 stands for a public provider (allow-listed as a network: the check must let
it through), 127.0.0.1 for the internal service an attacker wants: it must never get a request.
"""

from __future__ import annotations

import socket
from collections.abc import Sequence

import httpx
import pytest

from chatapp.core import url_guard
from chatapp.core.pinned_http import PinnedTransport
from chatapp.errors import BlockedURL
from testkit.fakes.recording_http import Canned, RecordingServer
from testkit.fakes.tls import TestCA

PUBLIC = "93.184.215.14"
PROVIDER_NET = ("127.0.0.2/32",)


class ScriptedDNS:
    """Answers each name from a list of answers, one per lookup (the last one repeats)."""

    def __init__(self, **answers: list[list[str]]) -> None:
        self.answers = {name.replace("_", "."): list(seq) for name, seq in answers.items()}
        self.lookups: list[str] = []

    def __call__(self, host: str, port: int) -> Sequence[str]:
        self.lookups.append(host)
        seq = self.answers.get(host)
        if not seq:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return seq.pop(0) if len(seq) > 1 else seq[0]


@pytest.fixture
def internal():
    """The internal service on 127.0.0.1."""
    with RecordingServer("127.0.0.1") as srv:
        yield srv


@pytest.fixture
def provider():
    """The 'public' provider, on 127.0.0.2."""
    with RecordingServer("127.0.0.2", routes={"/v1/models": Canned(body=b'{"data": []}')}) as srv:
        yield srv


def client(dns, allow=PROVIDER_NET, **kwargs) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=PinnedTransport(allow=allow, resolver=dns, **kwargs))


async def test_a_name_is_resolved_once_and_connected_to_at_the_checked_address(provider):
    dns = ScriptedDNS(llm_test=[["127.0.0.2"]])
    url = f"http://llm.test:{provider.port}/v1/models"
    async with client(dns) as http:
        for _ in range(2):
            assert (await http.get(url)).status_code == 200
    # One lookup for one (kept-alive) connection; the request still names the host.
    assert dns.lookups == ["llm.test"]
    assert [h.headers["host"] for h in provider.hits] == [f"llm.test:{provider.port}"] * 2


async def test_a_name_that_rebinds_to_loopback_after_the_check_never_reaches_it(internal):
    """The check sees a public address; the connection would see 127.0.0.1."""
    dns = ScriptedDNS(rebind_test=[[PUBLIC], ["127.0.0.1"]])
    base = f"http://rebind.test:{internal.port}/v1"
    url_guard.check_base_url(base, resolver=dns)  # what the save and the pre-request check see
    async with client(dns) as http:
        with pytest.raises(BlockedURL):
            await http.post(base + "/chat/completions", json={})
    assert dns.lookups == ["rebind.test", "rebind.test"]
    assert internal.hits == []


@pytest.mark.parametrize(
    "answer", [[PUBLIC, "127.0.0.1"], ["::ffff:127.0.0.1"], ["169.254.169.254"], ["10.0.0.1"]]
)
async def test_one_internal_address_among_the_answers_refuses_the_connection(internal, answer):
    dns = ScriptedDNS(mixed_test=[answer])
    async with client(dns) as http:
        with pytest.raises(BlockedURL):
            await http.get(f"http://mixed.test:{internal.port}/")
    assert internal.hits == []


async def test_a_redirect_to_an_internal_address_is_checked_too(provider, internal):
    """Even a client that follows redirects reaches only checked addresses."""
    provider.routes["/v1/models"] = Canned(
        302, {"location": f"http://127.0.0.1:{internal.port}/admin"}
    )
    provider.routes["/v1/chat/completions"] = Canned(
        307, {"location": f"http://rebind.test:{internal.port}/steal"}
    )
    dns = ScriptedDNS(llm_test=[["127.0.0.2"]], rebind_test=[["127.0.0.1"]])
    async with client(dns) as http:
        with pytest.raises(BlockedURL):
            await http.get(f"http://llm.test:{provider.port}/v1/models", follow_redirects=True)
        with pytest.raises(BlockedURL):
            await http.post(
                f"http://llm.test:{provider.port}/v1/chat/completions",
                json={},
                follow_redirects=True,
            )
    assert len(provider.hits) == 2
    assert internal.hits == []


async def test_tls_keeps_the_name_for_sni_and_certificate_checks():
    ca = TestCA()
    with RecordingServer("127.0.0.2", tls=ca.server_context("llm.test")) as srv:
        dns = ScriptedDNS(llm_test=[["127.0.0.2"]], other_test=[["127.0.0.2"]])
        async with client(dns, verify=ca.client_context()) as http:
            ok = await http.get(f"https://llm.test:{srv.port}/x")
            assert ok.status_code == 200
            # Same address, another name: the certificate is checked for the name, so it fails.
            with pytest.raises(httpx.ConnectError, match=r"certificate|hostname"):
                await http.get(f"https://other.test:{srv.port}/x")
        assert srv.sni[0] == "llm.test"
        assert [h.headers["host"] for h in srv.hits] == [f"llm.test:{srv.port}"]


async def test_allow_listed_names_and_networks_connect_and_nothing_else_does(internal):
    dns = ScriptedDNS(box_internal=[["127.0.0.1"]], nope_test=[])
    async with client(dns, allow=("box.internal",)) as http:
        ok = await http.get(f"http://box.internal:{internal.port}/v1/models")
        assert ok.status_code == 200
        with pytest.raises(BlockedURL):
            await http.get(f"http://127.0.0.1:{internal.port}/v1/models")
        with pytest.raises(httpx.ConnectError, match="cannot resolve"):
            await http.get(f"http://nope.test:{internal.port}/v1/models")
    assert internal.paths() == ["/v1/models"]
