"""Publishing at the same moment: one winner per base version, a gap-free feed, nothing lost."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from app.domain.documents import ChangeSetDocument, convert_document
from app.store import queries
from app.store.publish import ChangeSetConflict, publish, submit
from app.store.tables import change
from tests.conftest import FixedClock

WRITERS = 8


def rename(index: int) -> ChangeSetDocument:
    return convert_document(
        {
            "id": f"rename-{index}",
            "reason": "concurrency",
            "changes": [
                {
                    "op": "set",
                    "list": "fravaer",
                    "codes": ["1"],
                    "fields": {"name": f"Navn {index}"},
                },
                {
                    "op": "upsert",
                    "list": "kontaktgruppe",
                    "values": [
                        {"code": f"c{index}", "name": f"Ny {index}", "valid_from": "2026-01-01"}
                    ],
                },
            ],
        }
    )


async def feed(engine: AsyncEngine) -> list[sa.Row[tuple[int, str, str, int]]]:
    async with engine.connect() as connection:
        query = sa.select(
            change.c.seq, change.c.list_key, change.c.code, change.c.version
        ).order_by(change.c.seq)
        return list((await connection.execute(query)).all())


async def test_plans_on_the_same_base_have_exactly_one_winner(
    seeded: AsyncEngine, clock: FixedClock
) -> None:
    for index in range(WRITERS):
        await submit(seeded, rename(index), author="admin", now=clock.now(), publish=False)
    before = await feed(seeded)

    results = await asyncio.gather(
        *(publish(seeded, f"rename-{index}", now=clock.now()) for index in range(WRITERS)),
        return_exceptions=True,
    )
    winners = [r for r in results if not isinstance(r, BaseException)]
    losers = [r for r in results if isinstance(r, BaseException)]
    assert len(winners) == 1
    assert all(isinstance(r, ChangeSetConflict) for r in losers)
    assert winners[0].versions == {"fravaer": 4, "kontaktgruppe": 4}

    after = await feed(seeded)
    assert [row.seq for row in after] == list(range(1, len(after) + 1))
    assert len(after) == len(before) + 2
    async with seeded.connect() as connection:
        heads = await queries.latest_versions(connection)
    assert (heads["fravaer"].version, heads["kontaktgruppe"].version) == (4, 4)


async def test_simultaneous_publishes_all_land_in_order_with_no_gaps(
    seeded: AsyncEngine, clock: FixedClock
) -> None:
    before = await feed(seeded)
    outcomes = await asyncio.gather(
        *(
            submit(seeded, rename(index), author="admin", now=clock.now(), publish=True)
            for index in range(WRITERS)
        )
    )
    versions = sorted(outcome.record.versions["kontaktgruppe"] for outcome in outcomes)  # type: ignore[index]
    assert versions == list(range(4, 4 + WRITERS))  # each on the one before: none lost a base

    after = await feed(seeded)
    assert [row.seq for row in after] == list(range(1, len(after) + 1))
    new = after[len(before) :]
    assert len(new) == 2 * WRITERS
    # Feed order is commit order: list versions only ever grow along the feed.
    for key in ("fravaer", "kontaktgruppe"):
        numbers = [row.version for row in new if row.list_key == key]
        assert numbers == sorted(numbers)
    # No value was lost: every new contact group is there, at the latest version.
    async with seeded.connect() as connection:
        head = (await queries.latest_versions(connection))["kontaktgruppe"]
        codes = {
            value.code for value in await queries.values_at(connection, head.list_id, head.version)
        }
    assert {f"c{index}" for index in range(WRITERS)} <= codes
    assert head.version == 3 + WRITERS
