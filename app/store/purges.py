"""The purge outbox and the registry of running service processes (api.md "Shared caches").

A publish that makes new list versions writes one ``purge`` row in its own transaction, so a
crash between commit and purge loses nothing. Each cache (by base URL) has a cursor: the last
purge it took. A worker leases a cursor with a conditional UPDATE (one process at a time sends
to a cache, on PostgreSQL and SQLite alike), sends every purge past it, and moves it on or
schedules a retry. Publishes are serialised by the publish lock, so purge ids grow in commit
order and a cursor never skips one.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.surrogate_keys import INDEX_KEY, list_tag
from app.store.tables import publish_lock, purge, purge_cursor, service_process

# A cache configured for the first time gets the purges of the last day (what it may still
# hold as stale-if-error answers), not the whole history.
NEW_CACHE_LOOKBACK = timedelta(days=1)
KEEP_PURGES = timedelta(days=2)


class PendingPurges(msgspec.Struct, frozen=True):
    last_id: int  # the newest purge included; the cursor moves here once sent
    generation: int  # the newest publish generation among them
    keys: tuple[str, ...]  # every surrogate key to purge, sorted, each once
    attempts: int  # failed attempts so far at this cache


async def enqueue(connection: AsyncConnection, lists: list[str], now: datetime) -> None:
    """Record, in the publishing transaction, that ``lists`` got new versions.

    Call after the publish generation was advanced: the row takes the new generation.
    """
    if not lists:
        return
    keys = [list_tag(key) for key in sorted(lists)] + [INDEX_KEY]
    generation = sa.select(publish_lock.c.generation).where(publish_lock.c.id == 1)
    await connection.execute(
        sa.insert(purge).values(generation=generation.scalar_subquery(), keys=keys, created_at=now)
    )


def _insert(connection: AsyncConnection, table: sa.Table) -> Any:
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


async def ensure_cursor(connection: AsyncConnection, url: str, now: datetime) -> None:
    """Create the cursor of a cache seen for the first time (a no-op when it exists)."""
    start = sa.select(sa.func.coalesce(sa.func.max(purge.c.id), 0)).where(
        purge.c.created_at < now - NEW_CACHE_LOOKBACK
    )
    await connection.execute(
        _insert(connection, purge_cursor)
        .from_select(
            ["url", "last_id", "attempts", "next_attempt_at"],
            sa.select(
                sa.literal(url),
                start.scalar_subquery(),
                sa.literal(0),
                sa.literal(now, purge_cursor.c.next_attempt_at.type),
            ),
        )
        .on_conflict_do_nothing(index_elements=["url"])
    )


async def claim(
    connection: AsyncConnection, url: str, now: datetime, lease: timedelta
) -> PendingPurges | None:
    """Lease the cache ``url`` and return what it has not taken yet; None when there is
    nothing due or another process holds the lease. Commit promptly: the lease is the lock."""
    newest = sa.select(sa.func.max(purge.c.id)).scalar_subquery()
    claimed = await connection.execute(
        sa.update(purge_cursor)
        .where(
            purge_cursor.c.url == url,
            purge_cursor.c.next_attempt_at <= now,
            sa.or_(purge_cursor.c.lease_until.is_(None), purge_cursor.c.lease_until < now),
            purge_cursor.c.last_id < sa.func.coalesce(newest, 0),
        )
        .values(lease_until=now + lease)
        .returning(purge_cursor.c.last_id, purge_cursor.c.attempts)
    )
    row = claimed.first()
    if row is None:
        return None
    rows = (
        await connection.execute(
            sa.select(purge.c.id, purge.c.generation, purge.c["keys"])  # c.keys: a method
            .where(purge.c.id > row.last_id)
            .order_by(purge.c.id)
            .limit(1000)
        )
    ).all()
    keys = sorted({key for found in rows for key in found[2]})
    return PendingPurges(
        last_id=rows[-1][0],
        generation=max(found[1] for found in rows),
        keys=tuple(keys),
        attempts=row.attempts,
    )


async def finish(
    connection: AsyncConnection,
    url: str,
    pending: PendingPurges,
    *,
    error: str | None,
    retry_at: datetime,
) -> None:
    """Release the lease: move the cursor on after a success, else schedule the retry."""
    values: dict[str, Any] = {"lease_until": None}
    if error is None:
        values |= {"last_id": pending.last_id, "attempts": 0, "last_error": None}
    else:
        values |= {
            "attempts": pending.attempts + 1,
            "last_error": error[:500],
            "next_attempt_at": retry_at,
        }
    await connection.execute(
        sa.update(purge_cursor).where(purge_cursor.c.url == url).values(**values)
    )


async def next_due(connection: AsyncConnection, urls: list[str]) -> datetime | None:
    """When the earliest scheduled retry among ``urls`` is due, if any has failed."""
    return await connection.scalar(  # type: ignore[no-any-return]
        sa.select(sa.func.min(purge_cursor.c.next_attempt_at)).where(
            purge_cursor.c.url.in_(urls), purge_cursor.c.attempts > 0
        )
    )


async def prune(connection: AsyncConnection, now: datetime) -> None:
    """Forget purges every cache has long taken, and processes long gone."""
    await connection.execute(
        sa.delete(purge).where(
            purge.c.created_at < now - KEEP_PURGES,
            purge.c.id <= sa.select(sa.func.min(purge_cursor.c.last_id)).scalar_subquery(),
        )
    )
    await connection.execute(
        sa.delete(service_process).where(service_process.c.seen_at < now - timedelta(hours=1))
    )


async def report_generation(
    connection: AsyncConnection, process: str, generation: int, now: datetime
) -> None:
    """Record that ``process`` answers from ``generation`` (and is alive at ``now``)."""
    statement = _insert(connection, service_process).values(
        id=process, generation=generation, seen_at=now
    )
    await connection.execute(
        statement.on_conflict_do_update(
            index_elements=["id"],
            set_={"generation": statement.excluded.generation, "seen_at": now},
        )
    )


async def forget_process(connection: AsyncConnection, process: str) -> None:
    await connection.execute(sa.delete(service_process).where(service_process.c.id == process))


async def processes_behind(
    connection: AsyncConnection, generation: int, alive_since: datetime
) -> int:
    """How many live processes (seen since ``alive_since``) answer from an older generation."""
    found = await connection.scalar(
        sa.select(sa.func.count())
        .select_from(service_process)
        .where(
            service_process.c.generation < generation,
            service_process.c.seen_at >= alive_since,
        )
    )
    return int(found or 0)
