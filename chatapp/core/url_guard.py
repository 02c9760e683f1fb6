"""Decides whether a user-supplied base URL may be called by the server (SSRF guard).

A user may save their own OpenAI-compatible base URL on the settings page; the server then sends
requests there. Without a guard a user could make the server call its own internal network:
loopback, private ranges, cloud metadata (169.254.169.254), link-local, and so on.

`check_base_url` allows only http(s) URLs without userinfo whose host is, or resolves to, public
addresses only (every address `getaddrinfo` returns: the same resolver the HTTP client connects
with, so decimal or hex forms like `http://2130706433/` are judged by the address they mean).
IPv4 addresses embedded in IPv6 (mapped `::ffff:a.b.c.d`, 6to4, Teredo, NAT64) are judged as IPv4.
A host that does not resolve is refused too (fail closed).

The operator setting `USER_BASE_URL_ALLOW` (`Settings.user_base_url_allow`) lists host names and
IP addresses or CIDR ranges users may use even though they are internal, e.g. a vLLM box at
10.0.0.5. A listed host name is trusted as it is, without resolving it.

It is checked when the URL is saved (`preferences`) and again before every request
(`providers.UserKeyedModel`), because what a name resolves to can change after saving. Neither
check alone stops DNS rebinding (a name that answers a public address to the check and 127.0.0.1
to the connection): requests to users' base URLs go through `pinned_http.PinnedTransport`, which
resolves once per connection with `checked_addresses` and connects to an address it checked.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable, Sequence

import httpx

from chatapp.errors import BlockedURL

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# (host, port) -> the addresses a connection to it could use. Raises OSError when it cannot say.
Resolver = Callable[[str, int], Sequence[str]]

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (blocking: DNS may be asked)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def parse_allow(entries: Iterable[str]) -> tuple[list[str], list[IPNetwork]]:
    """Splits allow-list entries into (host names, networks); an IP address is a /32 or /128.

    Raises:
        ValueError: an entry is neither an IP address, a CIDR range nor a host name.
    """
    names: list[str] = []
    networks: list[IPNetwork] = []
    for raw in entries:
        entry = raw.strip().lower().rstrip(".")
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
            continue
        except ValueError:
            pass
        labels = entry.split(".")
        if "/" in entry or not all(
            label and len(label) <= 63 and all(c.isalnum() or c in "-_" for c in label)
            for label in labels
        ):
            raise ValueError(f"not a host name, IP address or CIDR range: {raw!r}")
        names.append(entry)
    return names, networks


def _embedded_ipv4(address: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 address stands for (mapped, 6to4, Teredo, NAT64), else itself."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.sixtofour is not None:
            return address.sixtofour
        if address.teredo is not None:
            return address.teredo[1]  # the client's address
        if address in _NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def is_public(address: IPAddress) -> bool:
    """True when `address` is a routable public unicast address."""
    address = _embedded_ipv4(address)
    return not (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or (isinstance(address, ipaddress.IPv6Address) and address.is_site_local)
        or not address.is_global
    )


def _allowed(address: IPAddress, networks: Sequence[IPNetwork]) -> bool:
    candidates = {address, _embedded_ipv4(address)}
    return any(a in net for a in candidates for net in networks if a.version == net.version)


def parse_base_url(url: str) -> tuple[str, int]:
    """The (host, port) a base URL connects to, refusing what no check could make safe.

    The host is the raw host the HTTP client connects to (IDNA-encoded, lower case, no brackets
    around IPv6); the port is the URL's or the scheme's default.

    Raises:
        BlockedURL: unparsable, not http(s), userinfo in the URL, or no host.
    """
    try:
        parsed = httpx.URL(url)
        port = parsed.port
    except (httpx.InvalidURL, ValueError) as exc:
        raise BlockedURL("unparsable URL") from exc
    if parsed.scheme not in _DEFAULT_PORTS:
        raise BlockedURL("scheme is not http(s)")
    if parsed.userinfo:
        raise BlockedURL("userinfo in the URL")
    host = parsed.raw_host.decode("ascii").lower()
    if not host:
        raise BlockedURL("no host")
    return host, port or _DEFAULT_PORTS[parsed.scheme]


def checked_addresses(
    host: str, port: int, *, networks: Sequence[IPNetwork] = (), resolver: Resolver = resolve
) -> list[str]:
    """Resolves `host` once and returns its addresses, every one of them public or allowed.

    An IP literal is its own only address (never resolved). Blocking when `host` is a name.

    Raises:
        BlockedURL: one of the addresses is internal and not in `networks`.
        OSError: the name does not resolve (or resolves to nothing usable).
    """
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            addresses = [ipaddress.ip_address(a) for a in resolver(host, port)]
        except (UnicodeError, ValueError) as exc:
            raise OSError(f"unusable answer for {host!r}: {type(exc).__name__}") from exc
    if not addresses:
        raise OSError(f"{host!r} resolves to no address")
    for address in addresses:
        if not is_public(address) and not _allowed(address, networks):
            raise BlockedURL(f"internal address {address}")
    return list(dict.fromkeys(str(a) for a in addresses))


def check_base_url(url: str, *, allow: Iterable[str] = (), resolver: Resolver = resolve) -> None:
    """Refuses a base URL the server must not call; returns None when it may.

    Blocking when the host is a name (it is resolved): call it in a thread from async code.

    Args:
        url: the user's base URL.
        allow: the operator's allow-list (`Settings.user_base_url_allow`).
        resolver: resolves a host name; tests pass a fake.

    Raises:
        BlockedURL: not http(s), userinfo in the URL, a host that is or resolves to an internal
            address (and is not allow-listed), or a host that does not resolve.
    """
    host, port = parse_base_url(url)
    names, networks = parse_allow(allow)
    if host.rstrip(".") in names:
        return
    try:
        checked_addresses(host, port, networks=networks, resolver=resolver)
    except OSError as exc:
        raise BlockedURL(f"host does not resolve: {type(exc).__name__}") from exc
