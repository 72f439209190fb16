"""Checking a webhook URL's destination, resolving its host name (api.md "Sync endpoints").

Checked when a subscription is made and again before each delivery, after the name is
resolved, since what a name points to can change. A delivery then connects to the very address
that was checked (``Destination``): the name is resolved once, here, never again by the HTTP
client, so a DNS answer that changes between the check and the connection (rebinding) cannot
send it elsewhere. The resolver is a parameter so tests can answer names without a network.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from app.domain.destinations import (
    Address,
    Network,
    address_allowed,
    host_and_port,
    literal_address,
    url_problem,
)

Resolver = Callable[[str, int], Awaitable[list[str]]]


async def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (the system resolver, off the event loop)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


@dataclass(frozen=True)
class Destination:
    """A webhook URL whose host was checked: ``address`` is the one to connect to."""

    url: str
    host: str  # as written in the URL, lower case
    address: Address


async def check_destination(
    url: str, allowed: Sequence[Network], resolver: Resolver = resolve
) -> Destination | str:
    """The checked destination of ``url``, or why webhooks may not be sent to it.

    Every address the host resolves to must be allowed (``address_allowed``); the first is
    the one to connect to.
    """
    problem = url_problem(url)
    if problem:
        return problem
    host, port = host_and_port(url)
    literal = literal_address(host)
    addresses: list[Address]
    if literal is not None:
        addresses = [literal]
    else:
        try:
            addresses = [literal_address(a) or _unparsable(a) for a in await resolver(host, port)]
        except (OSError, UnicodeError, ValueError):
            return "its host name does not resolve"
    if not addresses:
        return "its host name does not resolve"
    if not all(address_allowed(address, allowed) for address in addresses):
        return "its host is not a public address (and not in CODELISTS_WEBHOOK_ALLOWED_NETWORKS)"
    return Destination(url, host, addresses[0])


async def destination_problem(
    url: str, allowed: Sequence[Network], resolver: Resolver = resolve
) -> str | None:
    """Why webhooks may not be sent to ``url``, or None when they may."""
    checked = await check_destination(url, allowed, resolver)
    return checked if isinstance(checked, str) else None


def _unparsable(address: str) -> Address:
    raise ValueError(f"resolver answered {address!r}")
