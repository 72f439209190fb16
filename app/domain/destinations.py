"""Where webhooks may be sent (api.md "Sync endpoints", POST /v1/admin/subscriptions).

A subscription URL is ``http`` or ``https`` without credentials, and every address its host
resolves to must be public (``ipaddress``'s ``is_global``) unless it lies in one of the
operator's allowed networks (CODELISTS_WEBHOOK_ALLOWED_NETWORKS). Pure rules: resolving names
is the caller's (``app/workers/destinations.py``).

An IPv6 address that carries an IPv4 address is judged by that IPv4 address (every one it may
carry), since a translator or relay delivers it there: ``64:ff9b::a9fe:a9fe`` is
169.254.169.254 to a NAT64 gateway. The forms (``embedded_ipv4``): IPv4-mapped ``::ffff:0:0/96``
and IPv4-compatible ``::/96`` (RFC 4291 section 2.5.5), IPv4-translated ``::ffff:0:0:0/96``
(RFC 2765), NAT64's well-known prefix ``64:ff9b::/96`` (RFC 6052) and local-use prefix
``64:ff9b:1::/48`` (RFC 8215; the IPv4 address may sit at any RFC 6052 position of a prefix
within it, so every position counts), 6to4 ``2002::/16`` (RFC 3056) and Teredo ``2001::/32``
(RFC 4380: the server's address and the client's, stored inverted).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable, Sequence
from urllib.parse import SplitResult, urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(cidrs: Iterable[str]) -> tuple[Network, ...]:
    """CIDR strings as networks; ValueError naming the first that is not one."""
    networks = []
    for cidr in cidrs:
        try:
            networks.append(ipaddress.ip_network(cidr.strip(), strict=False))
        except ValueError:
            raise ValueError(f"not a network in CIDR form: {cidr!r}") from None
    return tuple(networks)


_HEX = "[0-9A-Fa-f]{1,4}"
_IPV6 = "|".join(
    [
        f"({_HEX}:){{7}}{_HEX}",
        f"({_HEX}:){{1,7}}:",
        f"({_HEX}:){{1,6}}:{_HEX}",
        *(f"({_HEX}:){{1,{6 - n}}}(:{_HEX}){{1,{n + 1}}}" for n in range(1, 5)),
        f"{_HEX}:(:{_HEX}){{1,6}}",
        f":((:{_HEX}){{1,7}}|:)",
    ]
)
_PORT = "6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4}"
# The URLs ``url_problem`` accepts, as a pattern that Python and ECMAScript (JSON Schema, the
# OpenAPI document) read alike: http or https in any letter case, a host (a name in ASCII, or an
# IPv4 or bracketed IPv6 address), a port up to 65535, then anything without white space or
# control characters; no credentials. Narrower than ``url_problem`` (no IDN written in Unicode,
# no empty port), never wider.
URL_PATTERN = (
    "^[Hh][Tt][Tt][Pp][Ss]?://"
    f"([A-Za-z0-9._~!$&'()*+,;=%-]+|\\[({_IPV6})\\])"
    f"(:({_PORT}))?"
    "([/?#][^\\x00-\\x20\\x7f]*)?$"
)


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be a webhook URL by its form alone, or None."""
    if any(ord(char) < 0x21 or ord(char) == 0x7F for char in url):
        return "must be an absolute http:// or https:// URL"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not one
    except ValueError:
        return "must be an absolute http:// or https:// URL"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be an absolute http:// or https:// URL"
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        return "must not carry credentials"
    return None


def host_and_port(url: str) -> tuple[str, int]:
    """The host (as written, lower case) and port of a URL that ``url_problem`` accepted."""
    parts: SplitResult = urlsplit(url)
    assert parts.hostname is not None
    return parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)


def literal_address(host: str) -> Address | None:
    """The address ``host`` names by itself, in any form a resolver would accept: dotted,
    IPv6, and the legacy numeric IPv4 forms (``2130706433``, ``0x7f.1``, ``0177.0.0.1``,
    ``127.1``) that ``inet_aton`` takes; None for a name."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


_LOW_32 = 0xFFFF_FFFF
# Forms whose last 32 bits are the IPv4 address.
_LAST_32 = tuple(
    ipaddress.IPv6Network(prefix)
    for prefix in ("::ffff:0:0/96", "::ffff:0:0:0/96", "::/96", "64:ff9b::/96")
)
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")
_SIX_TO_FOUR = ipaddress.IPv6Network("2002::/16")
_TEREDO = ipaddress.IPv6Network("2001::/32")


def embedded_ipv4(address: ipaddress.IPv6Address) -> tuple[ipaddress.IPv4Address, ...]:
    """Every IPv4 address ``address`` may carry (module docstring), or () for none."""
    value = int(address)
    if any(address in network for network in _LAST_32):
        return (ipaddress.IPv4Address(value & _LOW_32),)
    if address in _SIX_TO_FOUR:  # 2002:AABB:CCDD::/48 is the site of A.B.C.D
        return (ipaddress.IPv4Address((value >> 80) & _LOW_32),)
    if address in _TEREDO:
        server, client = address.teredo or (None, None)
        return tuple(found for found in (server, client) if found is not None)
    if address in _NAT64_LOCAL:
        # RFC 6052 section 2.2: with a /48, /56, /64 or /96 prefix the 32 bits are split
        # around bits 64 to 71 (always zero) or come last.
        return tuple(
            ipaddress.IPv4Address(bits)
            for bits in (
                ((value >> 64) & 0xFFFF) << 16 | (value >> 40) & 0xFFFF,  # /48
                ((value >> 64) & 0xFF) << 24 | (value >> 32) & 0xFF_FFFF,  # /56
                (value >> 24) & _LOW_32,  # /64
                value & _LOW_32,  # /96
            )
        )
    return ()


def address_allowed(address: Address, allowed: Sequence[Network]) -> bool:
    """Inside an allowed network, or public; an IPv6 address carrying IPv4 addresses
    (``embedded_ipv4``) only when every one of them is."""
    if any(address in network for network in allowed):
        return True
    if isinstance(address, ipaddress.IPv6Address):
        carried = embedded_ipv4(address)
        if carried:
            return all(address_allowed(inner, allowed) for inner in carried)
    return address.is_global and not address.is_multicast
