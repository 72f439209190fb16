"""The change feed under load (api.md "Sync endpoints"), on both databases.

Readers page ``GET /v1/changes`` with small limits while change sets are published, some of
them at the same moment: every reader must see every seq exactly once, in order, with no gaps.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import AppClient, FixedClock, app_client

SEEDED_SEQ = 61
CHANGESETS = 30
READERS = [  # (page size, long-poll seconds)
    (1, 0.0),
    (3, 0.0),
    (7, 2.0),
    (50, 2.0),
]


def changes(index: int) -> list[dict[str, Any]]:
    """Change set ``index``: a few values across two lists, created or updated."""
    return [
        {
            "op": "upsert",
            "list": "kontaktgruppe",
            "values": [
                {"code": f"k{index}", "name": f"Ny gruppe {index}", "valid_from": "2026-01-01"},
                {"code": f"k{index}b", "name": f"Anden gruppe {index}", "valid_from": "2026-01-01"},
            ],
        },
        {
            "op": "set",
            "list": "fravaer",
            "codes": [str(1 + index % 4)],
            "fields": {"name": f"Fravær, udgave {index}"},
        },
    ]


@dataclass
class Reader:
    limit: int
    wait: float
    pages: list[dict[str, Any]] = field(default_factory=list)
    afters: list[int] = field(default_factory=list)

    @property
    def entries(self) -> list[dict[str, Any]]:
        return [entry for page in self.pages for entry in page["changes"]]

    async def follow(self, client: AppClient, final: asyncio.Future[int]) -> None:
        """Page from the start until publishing is over and the final seq is reached."""
        after = 0
        while not (final.done() and after >= final.result()):
            params: dict[str, Any] = {"after": after, "limit": self.limit}
            if self.wait and not final.done():
                params["wait"] = self.wait
            response = await client.get("/v1/changes", params=params)
            assert response.status_code == 200, response.text
            assert response.headers["cache-control"] == "no-store"
            page = response.json()
            self.afters.append(after)
            self.pages.append(page)
            after = page["next_after"]
            if not page["changes"] and not self.wait:
                await asyncio.sleep(0.01)  # caught up: let the publishers go on


async def publish_all(client: AppClient) -> None:
    """30 change sets: one by one, then in groups published at the same moment."""
    numbers = iter(range(CHANGESETS))
    for index in itertools.islice(numbers, 6):
        await client.publish(f"load-{index}", *changes(index))
        await asyncio.sleep(0.02)
    while batch := list(itertools.islice(numbers, 6)):
        await asyncio.gather(*(client.publish(f"load-{i}", *changes(i)) for i in batch))


async def test_concurrent_readers_see_every_change_once_in_order(
    seeded: AsyncEngine, clock: FixedClock
) -> None:
    async with app_client(seeded, clock) as client:
        final: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        readers = [Reader(limit, wait) for limit, wait in READERS]
        tasks = [asyncio.create_task(reader.follow(client, final)) for reader in readers]
        await asyncio.sleep(0.05)  # the readers are paging (and long-polling) already
        await publish_all(client)
        last = (await client.get("/v1/export")).json()["seq"]
        final.set_result(last)
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=60)

    assert last == SEEDED_SEQ + 3 * CHANGESETS
    # The readers really read while publishes ran: some caught up before the end.
    assert any(
        not page["has_more"] and SEEDED_SEQ < page["next_after"] < last
        for reader in readers
        for page in reader.pages
    )
    reference: dict[int, dict[str, Any]] = {}
    for reader in readers:
        seqs = [entry["seq"] for entry in reader.entries]
        assert seqs == list(range(1, last + 1)), f"reader with limit {reader.limit}"
        for after, page in zip(reader.afters, reader.pages, strict=True):
            page_seqs = [entry["seq"] for entry in page["changes"]]
            assert len(page_seqs) <= reader.limit
            assert all(seq > after for seq in page_seqs)
            assert page["next_after"] == (page_seqs[-1] if page_seqs else after)
            if page["has_more"]:
                assert len(page_seqs) == reader.limit  # a short page never claims more
        assert not reader.pages[-1]["has_more"]
        for entry in reader.entries:  # every reader saw the same entries
            assert reference.setdefault(entry["seq"], entry) == entry

    # Feed order is commit order: each list's versions only grow along the feed, and every
    # change set's entries are one run of consecutive numbers.
    entries = [reference[seq] for seq in range(1, last + 1)]
    for key in ("fravaer", "kontaktgruppe"):
        versions = [entry["version"] for entry in entries if entry["list"] == key]
        assert versions == sorted(versions)
    runs = [changeset for changeset, _ in itertools.groupby(e["changeset"] for e in entries)]
    assert len(runs) == len(set(runs))
    load = [entry for entry in entries if entry["changeset"].startswith("load-")]
    assert {entry["kind"] for entry in load} == {"created", "updated"}
    assert len(load) == 3 * CHANGESETS


async def test_wait_returns_as_soon_as_something_is_published(
    seeded: AsyncEngine, clock: FixedClock
) -> None:
    async with app_client(seeded, clock) as client:
        loop = asyncio.get_running_loop()

        async def publish_soon() -> None:
            await asyncio.sleep(0.3)
            await client.publish("late", *changes(0))

        started = loop.time()
        publisher = asyncio.create_task(publish_soon())
        response = await client.get("/v1/changes", params={"after": SEEDED_SEQ, "wait": 10})
        elapsed = loop.time() - started
        await publisher
        body = response.json()
        assert response.status_code == 200
        assert [entry["seq"] for entry in body["changes"]] == [62, 63, 64]
        assert (body["next_after"], body["has_more"]) == (64, False)
        assert 0.25 <= elapsed < 5  # woken by the publish, long before the 10 s were up


async def test_wait_with_nothing_published_answers_an_empty_page_after_the_wait(
    client: AppClient,
) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    response = await client.get("/v1/changes", params={"after": SEEDED_SEQ, "wait": 0.5})
    assert loop.time() - started >= 0.45
    assert response.json() == {"changes": [], "next_after": SEEDED_SEQ, "has_more": False}


async def test_wait_is_ignored_when_there_is_something_to_answer(client: AppClient) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    response = await client.get("/v1/changes", params={"after": 0, "limit": 5, "wait": 10})
    assert loop.time() - started < 5
    assert [entry["seq"] for entry in response.json()["changes"]] == [1, 2, 3, 4, 5]


async def test_one_list_only(client: AppClient) -> None:
    everything = (await client.get("/v1/changes", params={"limit": 5000})).json()["changes"]
    expected = [entry for entry in everything if entry["list"] == "kontaktgruppe"]
    assert expected

    seen: list[dict[str, Any]] = []
    after = 0
    while True:
        params = {"after": after, "limit": 2, "list": "kontaktgruppe"}
        page = (await client.get("/v1/changes", params=params)).json()
        seen += page["changes"]
        after = page["next_after"]
        if not page["has_more"]:
            break
    assert seen == expected
    assert after == expected[-1]["seq"]
    unknown = (await client.get("/v1/changes", params={"list": "nope"})).json()
    assert unknown == {"changes": [], "next_after": 0, "has_more": False}


async def test_entries_have_the_documented_fields(client: AppClient) -> None:
    await client.publish(
        "fields",
        {"op": "set", "list": "fravaer", "codes": ["1"], "fields": {"valid_to": "2027-01-01"}},
    )
    body = (await client.get("/v1/changes", params={"after": SEEDED_SEQ})).json()
    [entry] = body["changes"]
    assert set(entry) == {
        "seq",
        "list",
        "code",
        "kind",
        "version",
        "changeset",
        "published_at",
        "effective_date",
        "value",
        "previous",
    }
    assert (entry["seq"], entry["list"], entry["code"], entry["kind"]) == (
        62,
        "fravaer",
        "1",
        "updated",
    )
    assert (entry["version"], entry["changeset"]) == (4, "fields")
    assert entry["effective_date"] == "2027-01-01"  # the new valid_to is what bites
    assert (entry["previous"]["valid_to"], entry["value"]["valid_to"]) == (None, "2027-01-01")
    first = (await client.get("/v1/changes", params={"limit": 1})).json()["changes"][0]
    assert (first["kind"], first["previous"]) == ("created", None)


@pytest.mark.parametrize("limit", [0, -1, 5001])
async def test_limit_out_of_bounds_is_400(client: AppClient, limit: int) -> None:
    response = await client.get("/v1/changes", params={"limit": limit})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"][0]["path"] == "limit"


@pytest.mark.parametrize("params", [{"after": -1}, {"wait": 31}, {"wait": -1}, {"after": "x"}])
async def test_other_bad_parameters_are_400(client: AppClient, params: dict[str, Any]) -> None:
    assert (await client.get("/v1/changes", params=params)).status_code == 400


async def test_limit_bounds_are_inclusive(client: AppClient) -> None:
    one = (await client.get("/v1/changes", params={"limit": 1})).json()
    assert ([entry["seq"] for entry in one["changes"]], one["next_after"], one["has_more"]) == (
        [1],
        1,
        True,
    )
    most = (await client.get("/v1/changes", params={"limit": 5000})).json()
    assert (len(most["changes"]), most["next_after"], most["has_more"]) == (61, 61, False)
    default = (await client.get("/v1/changes")).json()
    assert len(default["changes"]) == 61  # under the default limit of 500


async def test_after_the_end_is_an_empty_page_at_the_same_position(client: AppClient) -> None:
    for after in (SEEDED_SEQ, SEEDED_SEQ + 1000):
        body = (await client.get("/v1/changes", params={"after": after})).json()
        assert body == {"changes": [], "next_after": after, "has_more": False}
