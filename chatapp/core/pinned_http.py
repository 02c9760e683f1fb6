"""An httpx transport that connects only to addresses `url_guard` checked (no DNS rebinding).

Checking a URL and then letting the HTTP client connect resolves the host twice: a name can answer
a public address to the check and 127.0.0.1 to the connection (DNS rebinding). `PinnedTransport`
resolves inside the connection instead: for each new connection its network backend resolves the
host once, refuses it unless every address is public or allow-listed (`url_guard`), and opens the
TCP connection to one of those very addresses. The request keeps the name: the `Host` header, the
TLS SNI and the certificate check are for the host name, as with any other client.

Every connection goes through the check, so a redirect (were a caller to follow one) or a
pooled keep-alive connection to another host cannot skip it. Host names in the operator's
allow-list (`USER_BASE_URL_ALLOW`) are resolved with the same resolver and not checked.

A refused host raises `chatapp.errors.BlockedURL` out of the request (not an httpx error: nothing
should retry it); a name that does not resolve is an `httpx.ConnectError`. Environment proxies are
not used (a proxy would resolve the name again, unchecked).
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterable
from typing import Any, cast

import httpcore
import httpx

from chatapp.core import url_guard


class PinnedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, but TCP goes only to resolved-and-checked addresses."""

    def __init__(
        self,
        *,
        allow: Iterable[str] = (),
        resolver: url_guard.Resolver = url_guard.resolve,
        inner: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self._names, self._networks = url_guard.parse_allow(allow)
        self._resolver = resolver
        # httpx's own default backend (pyright sees httpcore's stand-in for a missing anyio).
        self._inner = inner or cast(httpcore.AsyncNetworkBackend, httpcore.AnyIOBackend())

    async def addresses(self, host: str, port: int, budget: float | None = None) -> list[str]:
        """The addresses a connection to `host` may use (resolved once, in a thread).

        Raises:
            BlockedURL: an address is internal and not allow-listed.
            httpcore.ConnectError: the name does not resolve.
            httpcore.ConnectTimeout: resolving took longer than `budget` seconds.
        """
        host = host.lower()
        if host.rstrip(".") in self._names:
            check: Any = _resolve_unchecked
        else:
            check = url_guard.checked_addresses
        try:
            async with asyncio.timeout(budget):
                return await asyncio.to_thread(
                    check, host, port, networks=self._networks, resolver=self._resolver
                )
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"resolving {host!r} timed out") from None
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host!r}: {exc}") from None

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Connects to the first checked address of `host` that accepts (each in turn)."""
        failure: Exception | None = None
        for address in await self.addresses(host, port, timeout):
            try:
                return await self._inner.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None  # `addresses` never returns an empty list
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Refused: a user's URL never names a local socket."""
        raise httpcore.ConnectError("unix sockets are not allowed")

    async def sleep(self, seconds: float) -> None:
        """httpcore's connect retries wait through the backend."""
        await self._inner.sleep(seconds)


def _resolve_unchecked(
    host: str, port: int, *, networks: Any, resolver: url_guard.Resolver
) -> list[str]:
    # An allow-listed name: the operator vouches for wherever it points.
    found = list(dict.fromkeys(resolver(host, port)))
    if not found:
        raise OSError(f"{host!r} resolves to no address")
    return found


class PinnedTransport(httpx.AsyncHTTPTransport):
    """`httpx.AsyncHTTPTransport` whose connections go through `PinnedBackend`."""

    def __init__(
        self,
        *,
        allow: Iterable[str] = (),
        resolver: url_guard.Resolver = url_guard.resolve,
        verify: ssl.SSLContext | bool = True,
        limits: httpx.Limits = httpx.Limits(max_connections=100, max_keepalive_connections=20),
    ) -> None:
        """Args:
        allow: the operator's allow-list (`Settings.user_base_url_allow`).
        resolver: resolves a host name (blocking; run in a thread); tests pass their own.
        verify: TLS verification, as httpx takes it (tests pass a context trusting their CA).
        limits: connection pool limits.
        """
        super().__init__(verify=verify, limits=limits, trust_env=False)
        # httpx builds its pool with no way to choose the network backend: build the same pool
        # with ours (tests/settings/test_pinned_http.py fails if httpx stops using `_pool`).
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=verify, trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            http1=True,
            http2=False,
            network_backend=PinnedBackend(allow=allow, resolver=resolver),
        )
