"""Headers for shared caches, and token-protected reads (api.md "HTTP caching", "Shared caches
and CDNs"; issue 12 items 1 and 5).

Each answer is asked for twice: first the handler answers, then the fast path in front of the
framework; a 304 must carry the headers of the 200 (RFC 9110 §15.4.5).
"""

from __future__ import annotations

import asyncio
from datetime import datetime

import httpx
import pytest
import sqlalchemy as sa
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncEngine

from app.identity import tokens
from app.store.tables import api_token
from tests.api.test_caching import SAME_ON_304
from tests.conftest import ZONE, AppClient, FixedClock, app_client

OPTIONS = "/v1/codelists/fravaer/options"
# Each cacheable read and the Surrogate-Key it must carry: answers about every list name each
# (the seed has four) and "index".
EVERY = "codelists list:fravaer list:kontaktgruppe list:slettepolitik list:tilmeldekategori index"
KEYS = {
    "/v1/codelists": EVERY,
    "/v1/codelists?at=2025-06-30": EVERY,
    "/v1/codelists/fravaer": "codelists list:fravaer",
    OPTIONS: "codelists list:fravaer",
    "/v1/codelists/kontaktgruppe/options?include=26": "codelists list:kontaktgruppe",
    "/v1/codelists/fravaer/values/59": "codelists list:fravaer",
    "/v1/codelists/fravaer/validate?code=59": "codelists list:fravaer",
    "/v1/codelists/fravaer/versions": "codelists list:fravaer",
    "/v1/codelists/fravaer/diff?from=1&to=3": "codelists list:fravaer",
    "/v1/codelists/fravaer/fhir": "codelists list:fravaer",
    "/v1/codelists/fravaer?version=2&at=2025-06-30": "codelists list:fravaer",
    "/v1/export": EVERY,
    "/v1/export?format=csv": EVERY,
}


def cache_directives(response: httpx.Response) -> dict[str, str]:
    parts = (part.strip().partition("=") for part in response.headers["cache-control"].split(","))
    return {name: value for name, _, value in parts}


def answered_from_cache() -> float:
    return REGISTRY.get_sample_value("codelists_answers_total", {"source": "cached"}) or 0.0


async def reads_twice_alike(client: AppClient, path: str) -> httpx.Response:
    """GET ``path`` through the handler and the fast path, then revalidate; all headers alike."""
    first = await client.get(path, headers={"Accept-Encoding": "identity"})
    assert first.status_code == 200, path
    before = answered_from_cache()
    again = await client.get(path, headers={"Accept-Encoding": "identity"})
    assert answered_from_cache() == before + 1, f"{path} was not answered by the fast path"
    assert again.headers == first.headers
    for condition in ({"If-None-Match": first.headers["etag"]},):
        not_modified = await client.get(path, headers={**condition, "Accept-Encoding": "identity"})
        assert not_modified.status_code == 304
        assert {h: not_modified.headers.get(h) for h in SAME_ON_304} == {
            h: first.headers.get(h) for h in SAME_ON_304
        }
    head = await client.head(path, headers={"Accept-Encoding": "identity"})
    assert {h: head.headers.get(h) for h in SAME_ON_304} == {
        h: first.headers.get(h) for h in SAME_ON_304
    }
    return first


async def test_surrogate_keys_and_no_s_maxage_by_default(client: AppClient) -> None:
    for path, keys in KEYS.items():
        response = await reads_twice_alike(client, path)
        assert response.headers["surrogate-key"] == keys, path
        assert "s-maxage" not in cache_directives(response), path


async def test_errors_and_the_feed_carry_no_surrogate_key(client: AppClient) -> None:
    for path in ("/v1/codelists/nosuch", "/v1/codelists/fravaer?at=x", "/v1/changes"):
        response = await client.get(path)
        assert "surrogate-key" not in response.headers
        assert response.headers["cache-control"] == "no-store"


async def test_shared_max_age(seeded: AsyncEngine, clock: FixedClock) -> None:
    async with app_client(seeded, clock, shared_max_age=3600) as client:
        for path, keys in KEYS.items():
            response = await reads_twice_alike(client, path)
            directives = cache_directives(response)
            assert directives["public"] == "", path
            assert directives["s-maxage"] == "3600", path
            assert response.headers["surrogate-key"] == keys
        immutable = await client.get("/v1/codelists/fravaer?version=2&at=2025-06-30")
        assert immutable.headers["cache-control"] == (
            "public, max-age=31536000, s-maxage=3600, immutable"
        )
        # Never beyond the next midnight on which a value of the answer changes state.
        await client.publish(
            "expires-tonight",
            {"op": "set", "list": "fravaer", "codes": ["1"], "fields": {"valid_to": "2026-11-28"}},
        )
        clock.moment = datetime(2026, 11, 27, 23, 40, tzinfo=ZONE)
        for _ in range(2):
            tonight = cache_directives(await client.get(OPTIONS))
            assert (tonight["max-age"], tonight["s-maxage"]) == ("300", "1200")
        clock.moment = datetime(2026, 11, 27, 23, 59, 30, tzinfo=ZONE)
        last = cache_directives(await client.get(OPTIONS))
        assert (last["max-age"], last["s-maxage"]) == ("30", "30")
        other = cache_directives(await client.get("/v1/codelists/kontaktgruppe/options"))
        assert other["s-maxage"] == "3600"


async def token(engine: AsyncEngine, *scopes: str, name: str = "reader") -> str:
    async with engine.begin() as connection:
        return await tokens.create(
            connection, name=name, scopes=scopes, now=datetime(2026, 11, 1, tzinfo=ZONE)
        )


async def test_token_protected_reads_are_private_and_served_by_the_fast_path(
    seeded: AsyncEngine, clock: FixedClock
) -> None:
    reader = await token(seeded, "read")
    syncer = await token(seeded, "sync", name="syncer")
    settings = {"public_read": False, "shared_max_age": 3600}
    async with app_client(seeded, clock, **settings) as client:
        for path in KEYS:
            client.headers["Authorization"] = f"Bearer {syncer if 'export' in path else reader}"
            response = await reads_twice_alike(client, path)
            control = response.headers["cache-control"]
            assert control.startswith("private, max-age="), path
            assert "public" not in control and "s-maxage" not in control
            assert "surrogate-key" not in response.headers
        assert (await client.get("/v1/codelists/fravaer?version=2&at=2025-06-30")).headers[
            "cache-control"
        ] == "private, max-age=31536000, immutable"

        # The fast path lets through exactly what the guards would.
        for authorization in (None, "Bearer nope", f"Basic {reader}", f"bearer  {reader}x"):
            headers = {"Authorization": authorization} if authorization else {}
            client.headers.pop("Authorization", None)
            refused = await client.get(OPTIONS, headers=headers)
            assert refused.status_code == 401
            assert "surrogate-key" not in refused.headers
            assert refused.headers["access-control-allow-origin"] == "*"
        wrong_scope = await client.get("/v1/export", headers={"Authorization": f"Bearer {reader}"})
        assert wrong_scope.status_code == 403  # cached for the sync token, not for a reader
        assert (
            await client.get(OPTIONS, headers={"Authorization": f"bearer {syncer}"})
        ).status_code == 200


async def test_a_revoked_token_is_refused_within_a_second(
    seeded: AsyncEngine, clock: FixedClock
) -> None:
    reader = await token(seeded, "read")
    async with app_client(seeded, clock, public_read=False) as client:
        client.headers["Authorization"] = f"Bearer {reader}"
        assert (await client.get(OPTIONS)).status_code == 200
        assert (await client.get(OPTIONS)).status_code == 200  # the fast path
        async with seeded.begin() as connection:
            await connection.execute(sa.delete(api_token).where(api_token.c.name == "reader"))
        await asyncio.sleep(1.05)
        for _ in range(2):
            refused = await client.get(OPTIONS)
            assert refused.status_code == 401
            assert "private" not in refused.headers.get("cache-control", "")


@pytest.mark.parametrize("public_read", [True, False])
async def test_concurrent_first_reads_with_one_token(
    seeded: AsyncEngine, clock: FixedClock, public_read: bool
) -> None:
    reader = await token(seeded, "read")
    async with app_client(seeded, clock, public_read=public_read) as client:
        client.headers["Authorization"] = f"Bearer {reader}"
        answers = await asyncio.gather(*(client.get(OPTIONS) for _ in range(20)))
        assert {a.status_code for a in answers} == {200}
        assert len({a.headers["etag"] for a in answers}) == 1
