"""HTTP caching exactly as api.md says, through the app: handlers and the fast path alike."""

from __future__ import annotations

from datetime import date, datetime, time
from email.utils import parsedate_to_datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import ZONE, AppClient, FixedClock, app_client, publish_seed

OPTIONS = "/v1/codelists/fravaer/options"
CACHEABLE = [
    "/v1/codelists",
    "/v1/codelists/fravaer",
    OPTIONS,
    "/v1/codelists/fravaer/values/59",
    "/v1/codelists/fravaer/validate?code=59",
    "/v1/codelists/fravaer/versions",
    "/v1/codelists/fravaer/diff?from=1&to=3",
]
SAME_ON_304 = ("etag", "cache-control", "vary", "last-modified")


def max_age(cache_control: str) -> int:
    parts = dict(p.strip().partition("=")[::2] for p in cache_control.split(","))
    return int(parts["max-age"])


@pytest.mark.parametrize("path", CACHEABLE)
async def test_every_read_revalidates_with_its_etag(client: AppClient, path: str) -> None:
    first = await client.get(path, headers={"Accept-Encoding": "identity"})
    assert first.status_code == 200
    etag = first.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"')
    assert first.headers["vary"] == "Accept-Encoding"
    assert first.headers["cache-control"].startswith("public, max-age=")
    for header in [etag, f'"nope", {etag}', f"W/{etag}", "*"]:
        again = await client.get(
            path, headers={"If-None-Match": header, "Accept-Encoding": "identity"}
        )
        assert again.status_code == 304, header
        assert again.content == b""
        assert {h: again.headers[h] for h in SAME_ON_304} == {
            h: first.headers[h] for h in SAME_ON_304
        }
    changed = await client.get(
        path, headers={"If-None-Match": '"other"', "Accept-Encoding": "identity"}
    )
    assert changed.status_code == 200
    assert changed.content == first.content


async def test_etag_is_computed_from_the_body(client: AppClient) -> None:
    import hashlib

    response = await client.get(OPTIONS, headers={"Accept-Encoding": "identity"})
    digest = hashlib.blake2b(response.content, digest_size=16).hexdigest()
    assert response.headers["etag"] == f'"{digest}"'


async def test_if_modified_since(client: AppClient) -> None:
    first = await client.get(OPTIONS)
    last_modified = first.headers["last-modified"]
    assert (
        await client.get(OPTIONS, headers={"If-Modified-Since": last_modified})
    ).status_code == 304
    older = "Mon, 01 Jan 2024 00:00:00 GMT"
    assert (await client.get(OPTIONS, headers={"If-Modified-Since": older})).status_code == 200
    both = {"If-Modified-Since": last_modified, "If-None-Match": '"other"'}
    assert (await client.get(OPTIONS, headers=both)).status_code == 200


async def test_head_has_the_headers_of_get_and_no_body(client: AppClient) -> None:
    for _ in range(2):  # first through the handler, then from the cached answer
        get = await client.get("/v1/codelists/fravaer", headers={"Accept-Encoding": "identity"})
        head = await client.head("/v1/codelists/fravaer", headers={"Accept-Encoding": "identity"})
        assert head.status_code == 200
        assert head.content == b""
        for name in ("etag", "cache-control", "content-length", "content-type", "last-modified"):
            assert head.headers[name] == get.headers[name]


async def test_large_bodies_are_compressed_with_their_own_etag(client: AppClient) -> None:
    plain = await client.get("/v1/codelists/fravaer", headers={"Accept-Encoding": "identity"})
    assert len(plain.content) > 1024
    zipped = await client.get("/v1/codelists/fravaer", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.content == plain.content  # httpx decodes it
    assert zipped.headers["etag"] != plain.headers["etag"]
    brotli = await client.get("/v1/codelists/fravaer", headers={"Accept-Encoding": "br, gzip"})
    assert brotli.headers["content-encoding"] == "br"
    small = await client.get(
        "/v1/codelists/fravaer/validate?code=1", headers={"Accept-Encoding": "gzip"}
    )
    assert "content-encoding" not in small.headers


async def test_version_and_at_make_an_answer_immutable(client: AppClient) -> None:
    fixed = await client.get("/v1/codelists/fravaer?version=2&at=2025-06-30")
    assert fixed.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert (
        "immutable"
        not in (await client.get("/v1/codelists/fravaer?version=2")).headers["cache-control"]
    )
    assert (
        "immutable"
        not in (await client.get("/v1/codelists/fravaer?at=2025-06-30")).headers["cache-control"]
    )


async def test_versioned_answer_is_byte_identical_after_later_publishes(client: AppClient) -> None:
    path = "/v1/codelists/fravaer?version=2&at=2025-06-30"
    before = await client.get(path, headers={"Accept-Encoding": "identity"})
    await client.publish(
        "later", {"op": "set", "list": "fravaer", "codes": ["1"], "fields": {"name": "Ny"}}
    )
    after = await client.get(path, headers={"Accept-Encoding": "identity"})
    assert after.content == before.content
    assert after.headers["etag"] == before.headers["etag"]


async def test_publish_changes_the_latest_answer_at_once(client: AppClient) -> None:
    before = await client.get(OPTIONS)
    await client.publish(
        "rename",
        {
            "op": "set",
            "list": "fravaer",
            "codes": ["1"],
            "fields": {"name": "Uddannelse og kurser"},
        },
    )
    after = await client.get(OPTIONS, headers={"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200
    assert after.json()["version"] == 4
    assert after.json()["options"][0]["name"] == "Uddannelse og kurser"


async def test_max_age_ends_at_the_next_midnight_a_value_changes_state(
    client: AppClient, clock: FixedClock
) -> None:
    await client.publish(
        "expires-tonight",
        {"op": "set", "list": "fravaer", "codes": ["1"], "fields": {"valid_to": "2026-11-28"}},
    )
    clock.moment = datetime(2026, 11, 27, 23, 58, 30, tzinfo=ZONE)
    tonight = await client.get(OPTIONS)
    assert max_age(tonight.headers["cache-control"]) == 90
    assert "1" in {o["code"] for o in tonight.json()["options"]}
    # Same request again, now from the cached answer: max-age counts down.
    clock.moment = datetime(2026, 11, 27, 23, 59, 50, tzinfo=ZONE)
    assert max_age((await client.get(OPTIONS)).headers["cache-control"]) == 10
    # A list without that value is not limited by it; an explicit date is never limited.
    assert (
        max_age((await client.get("/v1/codelists/kontaktgruppe/options")).headers["cache-control"])
        == 300
    )
    assert max_age((await client.get(f"{OPTIONS}?at=2026-11-27")).headers["cache-control"]) == 300
    # After midnight the value is gone and Last-Modified is that midnight.
    clock.set(date(2026, 11, 28), time(0, 0, 5))
    after = await client.get(OPTIONS)
    assert "1" not in {o["code"] for o in after.json()["options"]}
    midnight = datetime(2026, 11, 28, tzinfo=ZONE)
    assert parsedate_to_datetime(after.headers["last-modified"]) == midnight


async def test_last_modified_is_the_later_of_publish_and_last_state_change(
    engine: AsyncEngine, clock: FixedClock
) -> None:
    clock.set(date(2026, 11, 1))
    await publish_seed(engine, clock)
    async with app_client(engine, clock) as client:
        await client.publish(
            "starts-25th",
            {
                "op": "upsert",
                "list": "fravaer",
                "values": [{"code": "99", "name": "Ny", "valid_from": "2026-11-25"}],
            },
        )
        published = datetime.combine(date(2026, 11, 1), time(12), ZONE)
        clock.set(date(2026, 11, 27))
        latest = await client.get(OPTIONS)
        assert parsedate_to_datetime(latest.headers["last-modified"]) == datetime(
            2026, 11, 25, tzinfo=ZONE
        )
        pinned = await client.get(f"{OPTIONS}?at=2026-11-27")
        assert parsedate_to_datetime(pinned.headers["last-modified"]) == published


async def test_tomorrow_is_a_new_answer(client: AppClient, clock: FixedClock) -> None:
    today = await client.get(OPTIONS)
    clock.set(date(2026, 11, 28))
    tomorrow = await client.get(OPTIONS, headers={"If-None-Match": today.headers["etag"]})
    assert tomorrow.status_code == 200
    assert tomorrow.json()["at"] == "2026-11-28"


async def test_cors_exposes_etag_to_any_origin(client: AppClient) -> None:
    response = await client.get(OPTIONS, headers={"Origin": "https://sagsbehandler.example"})
    assert response.headers["access-control-allow-origin"] == "*"
    assert "ETag" in response.headers["access-control-expose-headers"]
    not_modified = await client.get(
        OPTIONS, headers={"Origin": "https://x.example", "If-None-Match": response.headers["etag"]}
    )
    assert not_modified.status_code == 304
    assert not_modified.headers["access-control-allow-origin"] == "*"
    preflight = await client.options(
        OPTIONS,
        headers={
            "Origin": "https://x.example",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "If-None-Match",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "GET" in preflight.headers["access-control-allow-methods"]
    assert "HEAD" in preflight.headers["access-control-allow-methods"]


async def test_cors_allow_list(seeded: AsyncEngine, clock: FixedClock) -> None:
    async with app_client(seeded, clock, cors_origins=("https://ok.example",)) as client:
        allowed = await client.get(OPTIONS, headers={"Origin": "https://ok.example"})
        assert allowed.headers["access-control-allow-origin"] == "https://ok.example"
        assert allowed.headers["vary"] == "Accept-Encoding, Origin"
        refused = await client.get(OPTIONS, headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in refused.headers
        assert refused.status_code == 200
