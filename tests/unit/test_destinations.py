"""Webhook destinations: refused by form, by literal address in every notation, and after
name resolution (names answered by a stub: nothing is sent or resolved on a network)."""

from __future__ import annotations

import pytest

from app.domain.destinations import address_allowed, literal_address, parse_networks, url_problem
from app.workers.destinations import destination_problem

NONE = parse_networks([])
LOOPBACK = parse_networks(["127.0.0.0/8"])

INTERNAL = [
    "http://127.0.0.1/hook",
    "http://127.1/hook",
    "http://2130706433/hook",  # 127.0.0.1 as one number
    "http://0x7f000001/hook",
    "http://0177.0.0.1/hook",  # octal
    "http://0x7f.1/hook",
    "http://[::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://169.254.169.254/latest/meta-data",  # link-local: cloud metadata
    "http://10.1.2.3/hook",
    "http://172.16.0.1/hook",
    "http://192.168.1.1:8080/hook",
    "http://[fe80::1]/hook",
    "http://[fd00::1]/hook",
    "http://0.0.0.0/hook",
    "http://100.64.0.1/hook",  # carrier-grade NAT
    # IPv6 forms carrying an IPv4 address (issue 21, item 6), judged by that address:
    "http://[64:ff9b::a9fe:a9fe]/",  # NAT64 (RFC 6052) of 169.254.169.254
    "http://[64:ff9b::7f00:1]/",
    "http://[64:ff9b::10.0.0.1]/",
    "http://[64:ff9b:1::7f00:1]/",  # NAT64 local-use prefix (RFC 8215)
    "http://[64:ff9b:1:7f00:0:100::]/",  # ... with 127.0.0.1 at the /48 position
    "http://[2002:7f00:1::]/",  # 6to4 (RFC 3056)
    "http://[2002:a9fe:a9fe::1]/",
    "http://[::127.0.0.1]/",  # IPv4-compatible
    "http://[::a9fe:a9fe]/",
    "http://[::ffff:0:7f00:1]/",  # IPv4-translated (RFC 2765)
    "http://[::ffff:0:169.254.169.254]/",
    "http://[::ffff:a9fe:a9fe]/",  # IPv4-mapped
    "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",  # Teredo, client 192.0.2.45 (RFC 4380)
    "http://[2001:0:808:808:0:0:80ff:fffe]/",  # Teredo, public server, client 127.0.0.1
    "http://[2001:0:a9fe:a9fe:0:0:f7f7:f7f7]/",  # Teredo, server 169.254.169.254
]


async def no_network(host: str, port: int) -> list[str]:
    raise AssertionError(f"a literal address must not be resolved: {host}")


@pytest.mark.parametrize("url", INTERNAL)
async def test_internal_addresses_are_refused_in_every_notation(url: str) -> None:
    problem = await destination_problem(url, NONE, no_network)
    assert problem is not None and "public" in problem


async def test_allowed_networks_let_internal_receivers_in() -> None:
    assert await destination_problem("http://127.0.0.1:9/x", LOOPBACK, no_network) is None
    assert await destination_problem("http://2130706433/x", LOOPBACK, no_network) is None
    assert await destination_problem("http://10.0.0.1/x", LOOPBACK, no_network) is not None


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.org/x",
        "not a url",
        "http:///nohost",
        "http://user:pw@example.org/x",
        "http://user@example.org/x",
        "https://example.org:99999/x",
        "http://example.org/\x00x",
    ],
)
def test_malformed_urls_and_credentials_are_refused(url: str) -> None:
    assert url_problem(url) is not None


async def test_names_are_checked_after_resolution() -> None:
    answers = {"hooks.example.org": ["93.184.215.14"], "sneaky.example.org": ["10.0.0.7"]}

    async def stub(host: str, port: int) -> list[str]:
        if host not in answers:
            raise OSError("no such name")
        return answers[host]

    assert await destination_problem("https://hooks.example.org/x", NONE, stub) is None
    problem = await destination_problem("https://sneaky.example.org/x", NONE, stub)
    assert problem is not None and "public" in problem
    assert await destination_problem("https://nowhere.example.org/x", NONE, stub) == (
        "its host name does not resolve"
    )
    # One internal address among public ones is enough to refuse.
    answers["mixed.example.org"] = ["93.184.215.14", "127.0.0.1"]
    assert await destination_problem("https://mixed.example.org/x", NONE, stub) is not None


def test_literal_addresses_and_public_ones() -> None:
    assert str(literal_address("0x7f.1")) == "127.0.0.1"
    assert literal_address("example.org") is None
    public = literal_address("93.184.215.14")
    assert public is not None and address_allowed(public, NONE)
    mapped = literal_address("::ffff:10.0.0.1")
    assert mapped is not None and not address_allowed(mapped, NONE)
    assert address_allowed(mapped, parse_networks(["10.0.0.0/8"]))


@pytest.mark.parametrize(
    "address",
    [
        "64:ff9b::808:808",  # NAT64 of 8.8.8.8
        "2002:808:808::1",  # 6to4 site of 8.8.8.8
        "::ffff:8.8.8.8",
        "::ffff:0:8.8.8.8",
        "2001:0:808:808:0:0:f7f7:f7f7",  # Teredo: server and client 8.8.8.8
        "2606:4700:4700::1111",  # plain public IPv6
    ],
)
def test_embedded_public_ipv4_addresses_stay_allowed(address: str) -> None:
    found = literal_address(f"[{address}]")
    assert found is not None and address_allowed(found, NONE)


def test_an_allowed_network_admits_the_embedded_address_too() -> None:
    found = literal_address("[64:ff9b::7f00:1]")
    assert found is not None and address_allowed(found, LOOPBACK)
    assert not address_allowed(found, parse_networks(["10.0.0.0/8"]))
