"""Where webhooks may be sent (api.md "Sync endpoints", POST /v1/admin/subscriptions).

A subscription URL is ``http`` or ``https`` without credentials, and every address its host
resolves to must be public (``ipaddress``'s ``is_global``) unless it lies in one of the
operator's allowed networks (CODELISTS_WEBHOOK_ALLOWED_NETWORKS). Pure rules: resolving names
is the caller's (``app/workers/destinations.py``).
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


def address_allowed(address: Address, allowed: Sequence[Network]) -> bool:
    """Public, or inside an allowed network (an IPv4-mapped IPv6 address counts as IPv4)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if any(address in network for network in allowed):
        return True
    return address.is_global and not address.is_multicast
