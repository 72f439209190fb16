"""HTTP caching exactly as api.md says, through the app: handlers and the fast path alike."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
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
SAME_ON_304 = (
    "etag",
    "cache-control",
    "vary",
    "last-modified",
    "surrogate-key",
    "access-control-allow-origin",
    "access-control-expose-headers",
)


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
    # The same instant in the other two forms of RFC 9110 §5.6.7 (obsolete, but to be read).
    moment = parsedate_to_datetime(last_modified)
    for form in (
        moment.strftime("%A, %d-%b-%y %H:%M:%S GMT"),  # RFC 850
        moment.strftime("%a %b ") + f"{moment.day:>2}" + moment.strftime(" %H:%M:%S %Y"),
    ):
        not_modified = await client.get(OPTIONS, headers={"If-Modified-Since": form})
        assert not_modified.status_code == 304, form
        assert {h: not_modified.headers[h] for h in SAME_ON_304} == {
            h: first.headers[h] for h in SAME_ON_304
        }
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


@pytest.mark.parametrize(
    ("today", "change", "field", "moments"),
    [
        # Spring: 29 March 2026, 02:00 CET -> 03:00 CEST; a value becomes valid on 30 March.
        (
            date(2026, 3, 28),
            date(2026, 3, 30),
            "valid_from",
            [
                (datetime(2026, 3, 28, 12, tzinfo=ZONE), 35 * 3600),  # not 36 h
                (datetime(2026, 3, 29, 0, 30, tzinfo=ZONE), 22 * 3600 + 1800),
                (datetime(2026, 3, 29, 3, 30, tzinfo=ZONE), 20 * 3600 + 1800),  # after it
            ],
        ),
        # Autumn: 25 October 2026, 03:00 CEST -> 02:00 CET; a value expires on 26 October.
        (
            date(2026, 10, 24),
            date(2026, 10, 26),
            "valid_to",
            [
                (datetime(2026, 10, 24, 12, tzinfo=ZONE), 37 * 3600),  # not 36 h
                (datetime(2026, 10, 25, 0, 30, tzinfo=ZONE), 24 * 3600 + 1800),
                (datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=ZONE), 21 * 3600 + 1800),
            ],
        ),
    ],
)
async def test_max_age_counts_elapsed_seconds_across_daylight_saving_changes(
    engine: AsyncEngine,
    clock: FixedClock,
    today: date,
    change: date,
    field: str,
    moments: list[tuple[datetime, int]],
) -> None:
    clock.set(today - timedelta(days=30))
    value = {"code": "1", "name": "Ny", "valid_from": "2014-01-01"}
    value[field] = change.isoformat()
    settings = {"max_age": 31536000, "shared_max_age": 31536000}
    async with app_client(engine, clock, **settings) as client:
        await client.publish(
            "dst",
            {"op": "create_list", "list": "dst", "name": "Sommertid"},
            {"op": "upsert", "list": "dst", "values": [value]},
        )
        for moment, elapsed in moments:
            clock.moment = moment
            for _ in range(2):  # through the handler, then the fast path
                response = await client.get("/v1/codelists/dst/options")
                control = response.headers["cache-control"]
                assert f"max-age={elapsed}," in control, (moment, control)
                assert f"s-maxage={elapsed}," in control, (moment, control)
        # At that midnight the answer changes, and Last-Modified says so.
        clock.moment = datetime.combine(change, time(0, 0, 1), ZONE)
        after = await client.get("/v1/codelists/dst/options")
        assert parsedate_to_datetime(after.headers["last-modified"]) == datetime.combine(
            change, time(), ZONE
        )
