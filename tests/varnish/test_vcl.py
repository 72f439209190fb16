"""The shipped VCL in a real Varnish, in front of a recording origin: what it stores, what it
passes, purges by surrogate key, the purge ACL, Accept-Encoding and stale-if-error.

(The service itself behind Varnish is tested in test_shared_cache.py; here the origin sends
exactly the headers each case needs, and counts what reaches it.)
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from tests.varnish.harness import Origin, Varnish, site_vcl, wait_until

PUBLIC = {
    "Cache-Control": "public, max-age=60, s-maxage=600, stale-while-revalidate=60, "
    "stale-if-error=86400",
    "Vary": "Accept-Encoding",
}


@pytest.fixture(scope="module")
def origin() -> Iterator[Origin]:
    origin = Origin()
    yield origin
    origin.close()


@pytest.fixture(scope="module")
def varnish(origin: Origin) -> Iterator[Varnish]:
    cache = Varnish(site_vcl([origin.port]))
    cache.start()
    yield cache
    cache.close()


@pytest.fixture
def get(varnish: Varnish) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=varnish.url, timeout=10) as client:
        yield client


def _unique(name: str) -> str:
    return f"/v1/codelists/{name}-{time.monotonic_ns()}"


def test_public_answers_are_kept_and_indexed_by_surrogate_key(
    origin: Origin, get: httpx.Client
) -> None:
    path = _unique("kept")
    origin.headers[path] = PUBLIC | {"Surrogate-Key": "codelists list:kept"}
    first, second = get.get(path), get.get(path)
    assert (first.headers["x-cache"], second.headers["x-cache"]) == ("MISS", "HIT")
    assert second.text == first.text
    assert len(origin.seen(path)) == 1


@pytest.mark.parametrize(
    ("status", "cache_control"),
    [
        (200, "private, max-age=60, s-maxage=600"),
        (200, "public, no-store"),
        (401, "public, max-age=60, s-maxage=600"),
    ],
)
def test_private_no_store_and_401_are_never_stored(
    origin: Origin, get: httpx.Client, status: int, cache_control: str
) -> None:
    path = _unique("private")
    origin.headers[path] = {"Cache-Control": cache_control, "Surrogate-Key": "codelists"}
    origin.status[path] = status
    for _ in range(3):
        assert get.get(path).status_code == status
    assert len(origin.seen(path)) == 3


@pytest.mark.parametrize("prefix", ["/v1/admin/changesets", "/v1/changes"])
def test_admin_and_feed_requests_pass_through(
    origin: Origin, get: httpx.Client, prefix: str
) -> None:
    path = f"{prefix}?after={time.monotonic_ns()}"
    origin.headers[prefix] = PUBLIC | {"Surrogate-Key": "codelists"}
    for _ in range(3):
        assert get.get(path).headers["x-cache"] == "PASS"
    assert len(origin.seen(path)) == 3


def test_purge_by_surrogate_key_drops_only_those_objects(origin: Origin, get: httpx.Client) -> None:
    a, b, index = _unique("a"), _unique("b"), "/v1/codelists?n=" + str(time.monotonic_ns())
    origin.headers[a] = PUBLIC | {"Surrogate-Key": "codelists list:pa"}
    origin.headers[b] = PUBLIC | {"Surrogate-Key": "codelists list:pb"}
    origin.headers[index] = PUBLIC | {"Surrogate-Key": "codelists index"}
    for path in (a, b, index):
        get.get(path)
    purged = get.request("PURGE", "/", headers={"Surrogate-Key": "list:pa index"})
    assert purged.status_code == 200
    assert get.get(a).headers["x-cache"] == "MISS"
    assert get.get(index).headers["x-cache"] == "MISS"
    assert get.get(b).headers["x-cache"] == "HIT"


def test_purge_from_outside_the_acl_is_403_and_purges_nothing(
    origin: Origin, varnish: Varnish
) -> None:
    path = _unique("acl")
    origin.headers[path] = PUBLIC | {"Surrogate-Key": "codelists list:acl"}
    # Any 127/8 address is this machine; 127.0.0.2 is outside the site's ACL (127.0.0.1).
    outside = httpx.Client(
        base_url=varnish.url, transport=httpx.HTTPTransport(local_address="127.0.0.2")
    )
    with outside:
        assert outside.get(path).headers["x-cache"] == "MISS"
        refused = outside.request("PURGE", "/", headers={"Surrogate-Key": "list:acl codelists"})
        assert refused.status_code == 403
        refused = outside.request("PURGE", path)
        assert refused.status_code == 403
        assert outside.get(path).headers["x-cache"] == "HIT"
    assert len(origin.seen(path)) == 1


@pytest.mark.parametrize(
    ("accept_encoding", "sent"),
    [
        ("gzip, deflate, br", "br"),
        ("br;q=0.5", "br"),
        ("gzip, br;q=0", "gzip"),
        ("GZIP, BR;Q=0", "gzip"),
        ("gzip;q=0, br;q=0", None),
        ("identity", None),
        (None, None),
        ("*", "br"),
        ("*, br;q=0", "gzip"),
        ("deflate", None),
        # The exact values the VCL recognises without its regular expressions (browsers,
        # curl --compressed, HTTP libraries), each as the full parse would decide it.
        ("gzip, deflate, br, zstd", "br"),
        ("deflate, gzip, br, zstd", "br"),
        ("br", "br"),
        ("br, gzip", "br"),
        ("gzip", "gzip"),
        ("gzip, deflate", "gzip"),
        ("deflate, gzip", "gzip"),
        ("gzip,deflate", "gzip"),
        # Near misses of those go through the full parse.
        ("gzip, deflate, br;q=0", "gzip"),
        ("Gzip", "gzip"),
        ("gzip;q=0, deflate", None),
    ],
)
def test_accept_encoding_is_normalised(
    origin: Origin, varnish: Varnish, accept_encoding: str | None, sent: str | None
) -> None:
    path = _unique("ae")
    origin.headers[path] = PUBLIC | {"Surrogate-Key": "codelists"}
    with httpx.Client(base_url=varnish.url) as client:
        del client.headers["accept-encoding"]  # httpx's default
        if accept_encoding is not None:
            client.headers["accept-encoding"] = accept_encoding
        client.get(path)
    (seen,) = origin.seen(path)
    assert {k.lower(): v for k, v in seen.items()}.get("accept-encoding") == sent


def test_equivalent_accept_encodings_share_one_object(origin: Origin, varnish: Varnish) -> None:
    path = _unique("shared")
    origin.headers[path] = PUBLIC | {"Surrogate-Key": "codelists"}
    with httpx.Client(base_url=varnish.url) as client:
        for value in ("gzip, deflate, br", "br", "br, gzip;q=0.8", "gzip", "x-gzip, deflate"):
            client.get(path, headers={"Accept-Encoding": value})
    assert len(origin.seen(path)) == 2  # one br object, one gzip object


def test_stale_answers_only_while_the_origin_fails(origin: Origin, get: httpx.Client) -> None:
    path = _unique("stale")
    origin.headers[path] = {
        "Cache-Control": "public, max-age=1, s-maxage=1, stale-while-revalidate=60, "
        "stale-if-error=86400",
        "Surrogate-Key": "codelists",
    }
    kept = get.get(path).text
    time.sleep(1.5)
    # Reachable: an expired answer is fetched again, not served stale.
    fresh = get.get(path)
    assert fresh.headers["x-cache"] == "MISS" and fresh.text != kept
    time.sleep(1.5)
    origin.failing = True
    try:
        stale = get.get(path)
        assert stale.status_code == 200
        assert stale.text == fresh.text
        assert stale.headers["x-cache"] == "HIT-STALE"
    finally:
        origin.failing = False
    wait_until(lambda: get.get(path).text != fresh.text, 5, "a fresh answer again")


def test_stale_answers_while_the_origin_is_unreachable() -> None:
    origin = Origin()
    cache = Varnish(site_vcl([origin.port]))
    cache.start()
    try:
        path = _unique("down")
        origin.headers[path] = {
            "Cache-Control": "public, max-age=1, s-maxage=1, stale-if-error=86400",
            "Surrogate-Key": "codelists",
        }
        with httpx.Client(base_url=cache.url, timeout=10) as client:
            kept = client.get(path).text
            origin.close()
            time.sleep(1.5)
            for _ in range(3):
                stale = client.get(path)
                assert (stale.status_code, stale.text) == (200, kept)
            assert client.get(_unique("never-seen")).status_code == 503
    finally:
        cache.close()
