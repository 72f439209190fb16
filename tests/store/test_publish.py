"""The publish transaction on both databases: versions, revisions never lost, feed gap-free."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from app.domain.documents import convert_document
from app.domain.errors import InvalidDocument
from app.store import queries
from app.store.publish import ChangeSetConflict, publish, submit
from app.store.tables import metadata
from tests.conftest import FixedClock, publish_seed

REFORM = ["59", "60", "62"]


def document(changeset_id: str, *changes: dict[str, object]) -> object:
    return convert_document({"id": changeset_id, "reason": "test", "changes": list(changes)})


async def table_counts(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as connection:
        return {
            table.name: int(await connection.scalar(sa.select(sa.func.count()).select_from(table)))
            for table in metadata.sorted_tables
        }


async def test_seed_publishes_the_reform_as_it_happened(seeded: AsyncEngine) -> None:
    async with seeded.connect() as connection:
        heads = await queries.latest_versions(connection)
        assert {key: head.version for key, head in heads.items()} == {
            "fravaer": 3,
            "kontaktgruppe": 3,
            "slettepolitik": 1,
            "tilmeldekategori": 3,
        }
        fravaer = heads["fravaer"].list_id
        before_2025_4 = {v.code: v for v in await queries.values_at(connection, fravaer, 2)}
        latest = {v.code: v for v in await queries.values_at(connection, fravaer, 3)}
        versions = await queries.versions_of(connection, fravaer, 3)
    for code in REFORM:
        assert before_2025_4[code].state_on(date(2025, 6, 30)) == "selectable"
        assert before_2025_4[code].state_on(date(2025, 7, 1)) == "expired"
        assert latest[code].state_on(date(2025, 6, 30)) == "deactivated"
    assert [v.release for v in versions] == [None, "2025-2", "2025-4"]
    assert [(v.changed, v.deactivated) for v in versions] == [(0, 0), (3, 0), (0, 3)]


async def test_seeding_again_changes_nothing(seeded: AsyncEngine, clock: FixedClock) -> None:
    before = await table_counts(seeded)
    await publish_seed(seeded, clock)
    assert await table_counts(seeded) == before


async def test_history_keeps_every_revision(seeded: AsyncEngine) -> None:
    async with seeded.connect() as connection:
        fravaer = (await queries.latest_versions(connection))["fravaer"].list_id
        history = await queries.value_history(connection, fravaer, "59", 3)
    assert [(h.version, h.value.valid_to, h.value.active) for h in history] == [
        (1, None, True),
        (2, date(2025, 7, 1), True),
        (3, date(2025, 7, 1), False),
    ]
    assert [h.changeset for h in history] == [
        "seed-0001-fravaer",
        "2025-2-kontanthjaelpsreform-gyldighed",
        "2025-4-kontanthjaelpsreform",
    ]


async def test_the_feed_has_one_entry_per_changed_value_without_gaps(seeded: AsyncEngine) -> None:
    async with seeded.connect() as connection:
        rows = (
            await connection.execute(sa.text("SELECT seq, kind, code FROM change ORDER BY seq"))
        ).all()
    assert [row.seq for row in rows] == list(range(1, len(rows) + 1))
    assert len(rows) == 13 + 7 + 8 + 9 + 12 + 12
    assert [row.kind for row in rows[-12:]] == ["deactivated"] * 12


async def test_same_id_other_content_is_a_conflict_and_stores_nothing(
    seeded: AsyncEngine, clock: FixedClock
) -> None:
    before = await table_counts(seeded)
    other = document(
        "2025-4-kontanthjaelpsreform",
        {"op": "set", "list": "fravaer", "codes": ["1"], "fields": {"active": False}},
    )
    with pytest.raises(ChangeSetConflict):
        await submit(seeded, other, author="x", now=clock.now(), publish=True)  # type: ignore[arg-type]
    assert await table_counts(seeded) == before


async def test_a_rejected_change_set_leaves_every_table_unchanged(
    seeded: AsyncEngine, clock: FixedClock
) -> None:
    before = await table_counts(seeded)
    bad = document(
        "bad",
        {"op": "set", "list": "fravaer", "codes": ["1"], "fields": {"name": "Ny"}},
        {"op": "set", "list": "fravaer", "codes": ["999"], "fields": {"active": False}},
    )
    with pytest.raises(InvalidDocument):
        await submit(seeded, bad, author="x", now=clock.now(), publish=True)  # type: ignore[arg-type]
    assert await table_counts(seeded) == before


async def test_a_plan_whose_lists_moved_on_cannot_be_published(
    seeded: AsyncEngine, clock: FixedClock
) -> None:
    first = document("a", {"op": "set", "list": "fravaer", "codes": ["1"], "fields": {"name": "A"}})
    second = document(
        "b", {"op": "set", "list": "fravaer", "codes": ["2"], "fields": {"name": "B"}}
    )
    await submit(seeded, first, author="x", now=clock.now(), publish=False)  # type: ignore[arg-type]
    await submit(seeded, second, author="x", now=clock.now(), publish=False)  # type: ignore[arg-type]
    published = await publish(seeded, "b", now=clock.now())
    assert published.versions == {"fravaer": 4}
    before = await table_counts(seeded)
    with pytest.raises(ChangeSetConflict, match="fravaer"):
        await publish(seeded, "a", now=clock.now())
    assert await table_counts(seeded) == before
    again = await publish(seeded, "b", now=clock.now())  # publishing twice is a no-op
    assert again.versions == {"fravaer": 4}
    assert await table_counts(seeded) == before


async def test_a_change_set_that_changes_nothing_publishes_no_version(
    seeded: AsyncEngine, clock: FixedClock
) -> None:
    noop = document(
        "noop", {"op": "set", "list": "fravaer", "codes": ["1"], "fields": {"active": True}}
    )
    outcome = await submit(seeded, noop, author="x", now=clock.now(), publish=True)  # type: ignore[arg-type]
    assert outcome.record.status == "published"
    assert outcome.record.versions == {}
    async with seeded.connect() as connection:
        assert (await queries.latest_versions(connection))["fravaer"].version == 3


async def test_publish_times_never_go_back(seeded: AsyncEngine, clock: FixedClock) -> None:
    # A publisher reads its clock before waiting for the publish lock (or runs on a machine
    # whose clock is behind): its publish must not carry an earlier time than the last one.
    later = clock.now()
    await submit(
        seeded,
        document(
            "first", {"op": "set", "list": "fravaer", "codes": ["1"], "fields": {"name": "A"}}
        ),
        author="t",
        now=later,
        publish=True,
    )
    earlier = later.replace(hour=later.hour - 1)
    await submit(
        seeded,
        document(
            "second", {"op": "set", "list": "fravaer", "codes": ["1"], "fields": {"name": "B"}}
        ),
        author="t",
        now=earlier,
        publish=True,
    )
    async with seeded.connect() as connection:
        head = (await queries.latest_versions(connection))["fravaer"]
        versions = await queries.versions_of(connection, head.list_id, head.version)
        feed = (
            await connection.execute(sa.text("SELECT published_at FROM change ORDER BY seq"))
        ).all()
    times = [v.published_at for v in versions]
    assert times == sorted(times)
    assert times[-1] == times[-2] == later
    feed_times = [row[0] for row in feed]
    assert feed_times == sorted(feed_times)
