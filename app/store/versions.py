"""Writing a publish: the new list versions, value revisions and change-feed entries of a
planned change set, in the caller's transaction under the publish lock (publish.py).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from functools import partial
from typing import Any

import msgspec
import sqlalchemy as sa
from anyio import to_thread
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.planning import PlannedList, effective_date
from app.domain.values import Value
from app.store import changesets, purges, subscriptions
from app.store.bulk import insert_many
from app.store.changesets import ChangeSetRecord
from app.store.queries import last_published_at, last_seq
from app.store.tables import change, codelist, list_version, publish_lock, value_revision

NOTIFY_CHANNEL = "codelists_published"
# A revision row is a Value's fields in their order, then the list and the version.
REVISION_COLUMNS = (*Value.__struct_fields__, "list_id", "version_from")
FEED_COLUMNS = (
    "seq",
    "list_key",
    "code",
    "kind",
    "version",
    "changeset_id",
    "published_at",
    "effective_date",
    "value",
    "previous",
)
_CHUNK = 500


async def _list_ids(connection: AsyncConnection, keys: Sequence[str]) -> dict[str, int]:
    rows = await connection.execute(
        sa.select(codelist.c.key, codelist.c.id).where(codelist.c.key.in_(list(keys)))
    )
    return {row.key: row.id for row in rows}


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


async def write_versions(
    connection: AsyncConnection,
    record: ChangeSetRecord,
    planned: Mapping[str, PlannedList],
    now: datetime,
    *,
    plan_stored: bool = False,
) -> None:
    """Append the new list versions, value revisions and change-feed entries; mark published.

    Runs under the publish lock. ``now`` was read before the lock was granted (and perhaps on
    another machine's clock), so the publish time is never earlier than the last one: publish
    times never decrease along a list's versions or the feed's ``seq`` (api.md "Time and
    validity").
    """
    previous = await last_published_at(connection)
    if previous is not None and previous > now:
        now = previous.astimezone(now.tzinfo)
    seq = await last_seq(connection)
    list_ids = await _list_ids(connection, sorted(planned))
    published_on = now.date()
    versions: dict[str, int] = {}
    feed: list[tuple[Any, ...]] = []
    for key, item in sorted(planned.items()):
        plan, after = item.plan, item.after
        if key not in list_ids:
            list_ids[key] = await connection.scalar(
                sa.insert(codelist).values(key=key, created_at=now).returning(codelist.c.id)
            )
        list_id = list_ids[key]
        versions[key] = plan.new_version
        await connection.execute(
            sa.insert(list_version).values(
                list_id=list_id,
                version=plan.new_version,
                name=after.name,
                description=after.description,
                source=after.source,
                attribute_schema=after.attribute_schema,
                changeset_id=record.id,
                published_at=now,
                value_count=len(after.values),
                added=len(plan.added),
                changed=len(plan.changed),
                deactivated=len(plan.deactivated),
                reactivated=len(plan.reactivated),
            )
        )
        replaced = [t.after.code for t in item.transitions if t.before is not None]
        for codes in _chunks(replaced):
            await connection.execute(
                sa.update(value_revision)
                .where(
                    value_revision.c.list_id == list_id,
                    value_revision.c.version_to.is_(None),
                    value_revision.c.code.in_(codes),
                )
                .values(version_to=plan.new_version)
            )
        revisions, entries = await to_thread.run_sync(
            partial(_rows, key, item, list_id, record.id, now, published_on, seq)
        )
        await insert_many(connection, value_revision, REVISION_COLUMNS, revisions)
        feed.extend(entries)
        seq += len(entries)
    await insert_many(connection, change, FEED_COLUMNS, feed)
    await subscriptions.enqueue(connection, [(row[0], row[1]) for row in feed], now)
    record.status = "published"
    record.published_at = now.astimezone(UTC)
    record.versions = versions
    record.seq = seq
    await changesets.mark_published(connection, record, plan_stored=plan_stored)
    if planned:
        await connection.execute(
            sa.update(publish_lock)
            .where(publish_lock.c.id == 1)
            .values(generation=publish_lock.c.generation + 1)
        )
        # In this transaction, so a crash between commit and purge loses no purge.
        await purges.enqueue(connection, sorted(planned), now)
        if connection.dialect.name == "postgresql":
            # Delivered on commit, to every replica LISTENing: their caches refresh at once.
            await connection.execute(sa.select(sa.func.pg_notify(NOTIFY_CHANNEL, str(seq))))


def _rows(
    key: str,
    item: PlannedList,
    list_id: int,
    changeset_id: str,
    now: datetime,
    published_on: date,
    seq: int,
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The value-revision rows (``REVISION_COLUMNS``) and change-feed rows (``FEED_COLUMNS``,
    numbered after ``seq``) of one list's publish: a row per changed value, each."""
    version = item.plan.new_version
    stamp = (list_id, version)
    revisions = [msgspec.structs.astuple(t.after) + stamp for t in item.transitions]
    feed = [
        (
            seq + number,
            key,
            transition.after.code,
            transition.kind,
            version,
            changeset_id,
            now,
            effective_date(transition.before, transition.after, published_on),
            transition.after,  # structs: encoded straight to JSON by insert_many
            transition.before,
        )
        for number, transition in enumerate(item.transitions, start=1)
    ]
    return revisions, feed
