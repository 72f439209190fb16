"""The purge outbox (api.md "Shared caches and CDNs"), on both databases: written by the
publish itself, leased to one process per cache, retried, and held back until every live
service process has reached the publish."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from app.domain.documents import convert_document
from app.store import purges
from app.store.publish import submit
from app.store.tables import purge
from app.workers.purge import key_headers, retry_delay

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)
LEASE = timedelta(seconds=30)
CACHE = "http://cache.example:6081"


async def _publish(engine: AsyncEngine, changeset_id: str, *lists: str) -> None:
    changes = []
    for key in lists:
        changes.append({"op": "create_list", "list": key, "name": key})
        changes.append(
            {
                "op": "upsert",
                "list": key,
                "values": [{"code": "1", "name": "A", "valid_from": "2020-01-01"}],
            }
        )
    document = convert_document({"id": changeset_id, "reason": "test", "changes": changes})
    await submit(engine, document, author="test", now=NOW, publish=True)


async def test_a_publish_writes_one_purge_naming_its_lists_and_the_index(
    engine: AsyncEngine,
) -> None:
    await _publish(engine, "one", "b-list", "a-list")
    async with engine.connect() as connection:
        rows = (await connection.execute(sa.select(purge.c.generation, purge.c["keys"]))).all()
    assert [(row[0] > 0, row[1]) for row in rows] == [
        (True, ["list:a-list", "list:b-list", "index"])
    ]


async def test_one_process_at_a_time_sends_a_cache_its_purges(engine: AsyncEngine) -> None:
    await _publish(engine, "one", "a")
    await _publish(engine, "two", "b")
    async with engine.begin() as connection:
        await purges.ensure_cursor(connection, CACHE, NOW)
        await purges.ensure_cursor(connection, CACHE, NOW)  # a second process: a no-op
    async with engine.begin() as connection:
        pending = await purges.claim(connection, CACHE, NOW, LEASE)
    assert pending is not None
    assert pending.keys == ("index", "list:a", "list:b")  # both publishes in one purge
    async with engine.begin() as connection:
        assert await purges.claim(connection, CACHE, NOW, LEASE) is None  # leased
    # The cache is down: retried later, and by anyone once the lease is released.
    later = NOW + timedelta(seconds=1)
    async with engine.begin() as connection:
        await purges.finish(connection, CACHE, pending, error="refused", retry_at=later)
        assert await purges.claim(connection, CACHE, NOW, LEASE) is None  # not due yet
        assert await purges.next_due(connection, [CACHE]) == later
    async with engine.begin() as connection:
        again = await purges.claim(connection, CACHE, later, LEASE)
    assert again is not None and again.keys == pending.keys and again.attempts == 1
    async with engine.begin() as connection:
        await purges.finish(connection, CACHE, again, error=None, retry_at=later)
        assert await purges.claim(connection, CACHE, later, LEASE) is None  # all taken
        assert await purges.next_due(connection, [CACHE]) is None
    await _publish(engine, "three", "c")
    async with engine.begin() as connection:
        third = await purges.claim(connection, CACHE, later, LEASE)
    assert third is not None and third.keys == ("index", "list:c")


async def test_a_lease_of_a_crashed_process_runs_out(engine: AsyncEngine) -> None:
    await _publish(engine, "one", "a")
    async with engine.begin() as connection:
        await purges.ensure_cursor(connection, CACHE, NOW)
        assert await purges.claim(connection, CACHE, NOW, LEASE) is not None
    async with engine.begin() as connection:
        assert await purges.claim(connection, CACHE, NOW + LEASE / 2, LEASE) is None
        assert await purges.claim(connection, CACHE, NOW + LEASE * 2, LEASE) is not None


async def test_a_new_cache_gets_the_purges_of_the_last_day_only(engine: AsyncEngine) -> None:
    await _publish(engine, "old", "old")
    async with engine.begin() as connection:
        await purges.ensure_cursor(connection, CACHE, NOW + timedelta(days=2))
        assert await purges.claim(connection, CACHE, NOW + timedelta(days=2), LEASE) is None
        await purges.ensure_cursor(connection, "http://other", NOW)
        found = await purges.claim(connection, "http://other", NOW, LEASE)
    assert found is not None and found.keys == ("index", "list:old")


async def test_purges_wait_for_live_processes_behind_the_publish(engine: AsyncEngine) -> None:
    alive_since = NOW - timedelta(seconds=3)
    async with engine.begin() as connection:
        await purges.report_generation(connection, "p1", 4, NOW)
        await purges.report_generation(connection, "p2", 3, NOW)
        await purges.report_generation(connection, "gone", 1, NOW - timedelta(seconds=10))
        assert await purges.processes_behind(connection, 4, alive_since) == 1
        await purges.report_generation(connection, "p2", 4, NOW)  # it caught up
        assert await purges.processes_behind(connection, 4, alive_since) == 0
        await purges.forget_process(connection, "p1")
        assert await purges.processes_behind(connection, 5, alive_since) == 1


def test_keys_are_split_into_headers_of_bounded_size() -> None:
    keys = [f"list:{n:04d}" for n in range(1000)] + ["index"]
    headers = key_headers(keys, budget=100)
    assert all(len(header) <= 100 for header in headers)
    assert " ".join(headers).split() == keys


def test_retries_back_off_to_five_seconds() -> None:
    delays = [retry_delay(attempts, 0.25) for attempts in range(1, 12)]
    assert 0.125 <= delays[0] <= 0.25
    assert all(2.5 <= delay <= 5 for delay in delays[6:])
