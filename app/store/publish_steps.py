"""The publish transaction in named steps (api.md "Admin endpoints"), run under the publish lock:
the publish time, the new list versions, the new relation versions, the feed and its webhook
batches, the change set marked published, and the announcement to readers and caches.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import partial
from typing import Any

import msgspec
import sqlalchemy as sa
from anyio import to_thread
from sqlalchemy.ext.asyncio import AsyncConnection

from app.domain.planning import PlannedList, effective_date
from app.domain.relation_planning import PlannedChangeSet, PlannedRelation, row_effective_date
from app.domain.surrogate_keys import list_tag, relation_tag
from app.domain.values import Value
from app.store import changesets, purges, subscriptions
from app.store.bulk import insert_many
from app.store.changesets import ChangeSetRecord
from app.store.queries import last_published_at, last_seq
from app.store.tables import (
    change,
    codelist,
    list_version,
    publish_lock,
    relation,
    relation_row,
    relation_version,
    value_revision,
)

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
    "relation",
    "target",
)
RELATION_ROW_COLUMNS = (
    "source",
    "target",
    "valid_from",
    "valid_to",
    "active",
    "qualifiers",
    "relation_id",
    "version_from",
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


@dataclass
class _Publication:
    """What one publish has written so far: its time, feed entries and new versions."""

    record: ChangeSetRecord
    now: datetime
    seq: int
    versions: dict[str, int] = field(default_factory=dict)
    feed: list[tuple[Any, ...]] = field(default_factory=list)
    # (seq, list key) for every feed entry: who a webhook subscription to a list must be sent.
    interested: list[tuple[int, str]] = field(default_factory=list)
    purge_keys: list[str] = field(default_factory=list)

    def entry(
        self,
        list_key: str,
        *fields: Any,
        relation: str | None = None,
        target: str | None = None,
        also: tuple[str, ...] = (),
    ) -> int:
        """Number the next feed entry (of list ``list_key``) and keep it; returns its seq.

        A relation row's entry names its relation and target code, and ``also`` its target
        list: subscriptions to either list receive it.
        """
        self.seq += 1
        self.feed.append((self.seq, list_key, *fields, relation, target))
        self.interested.append((self.seq, list_key))
        self.interested.extend((self.seq, key) for key in also)
        return self.seq


async def write(
    connection: AsyncConnection,
    record: ChangeSetRecord,
    planned: PlannedChangeSet,
    now: datetime,
    *,
    plan_stored: bool = False,
) -> None:
    """Publish in named steps, under the publish lock: the publish time, the new list
    versions with their value revisions and feed entries, the new relation versions with
    their row revisions and feed entries, the feed and its webhook batches, the change set
    marked published, and the announcement (generation, purges, NOTIFY)."""
    publication = _Publication(record, await _publish_time(connection, now), 0)
    publication.seq = await last_seq(connection)
    await _write_lists(connection, publication, planned.lists)
    await _write_relations(connection, publication, planned.relations)
    await _append_feed(connection, publication)
    await _mark_published(connection, publication, plan_stored=plan_stored)
    await _announce(connection, publication)


async def _publish_time(connection: AsyncConnection, now: datetime) -> datetime:
    """``now``, or the last publish time if that is later.

    ``now`` was read before the lock was granted (and perhaps on another machine's clock), so
    the publish time is never earlier than the last one: publish times never decrease along a
    list's versions or the feed's ``seq`` (api.md "Time and validity").
    """
    previous = await last_published_at(connection)
    if previous is not None and previous > now:
        return previous.astimezone(now.tzinfo)
    return now


async def _write_lists(
    connection: AsyncConnection, publication: _Publication, planned: Mapping[str, PlannedList]
) -> None:
    """A new version of every planned list, its value revisions, and its feed entries."""
    now = publication.now
    list_ids = await _list_ids(connection, sorted(planned))
    published_on = now.date()
    for key, item in sorted(planned.items()):
        plan, after = item.plan, item.after
        if key not in list_ids:
            list_ids[key] = await connection.scalar(
                sa.insert(codelist).values(key=key, created_at=now).returning(codelist.c.id)
            )
        list_id = list_ids[key]
        publication.versions[key] = plan.new_version
        publication.purge_keys.append(list_tag(key))
        await connection.execute(
            sa.insert(list_version).values(
                list_id=list_id,
                version=plan.new_version,
                name=after.name,
                description=after.description,
                source=after.source,
                attribute_schema=after.attribute_schema,
                changeset_id=publication.record.id,
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
        # Building a big list's rows takes a while: on a worker thread (issue 21).
        revisions, entries = await to_thread.run_sync(
            partial(_list_rows, item, list_id, publication.record.id, now, published_on)
        )
        await insert_many(connection, value_revision, REVISION_COLUMNS, revisions)
        for fields in entries:
            publication.entry(key, *fields)


def _list_rows(
    item: PlannedList, list_id: int, changeset_id: str, now: datetime, published_on: date
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The value-revision rows (``REVISION_COLUMNS``) and the change-feed fields after
    (seq, list) of one list's publish: a row per changed value, each."""
    version = item.plan.new_version
    stamp = (list_id, version)
    revisions = [msgspec.structs.astuple(t.after) + stamp for t in item.transitions]
    entries = [
        (
            t.after.code,
            t.kind,
            version,
            changeset_id,
            now,
            effective_date(t.before, t.after, published_on),
            t.after,  # structs: encoded straight to JSON by insert_many
            t.before,
        )
        for t in item.transitions
    ]
    return revisions, entries


async def _write_relations(
    connection: AsyncConnection,
    publication: _Publication,
    planned: Mapping[str, PlannedRelation],
) -> None:
    """A new version of every planned relation, its row revisions, and its feed entries (one
    per changed row, of the source list, naming the relation and the target code)."""
    if not planned:
        return
    now = publication.now
    rows = await connection.execute(
        sa.select(relation.c.key, relation.c.id).where(relation.c.key.in_(sorted(planned)))
    )
    ids = {row.key: row.id for row in rows}
    published_on = now.date()
    for key, item in sorted(planned.items()):
        plan, info = item.plan, item.after.info
        if key not in ids:
            ids[key] = await connection.scalar(
                sa.insert(relation).values(key=key, created_at=now).returning(relation.c.id)
            )
        relation_id = ids[key]
        publication.versions[f"relation:{key}"] = plan.new_version
        publication.purge_keys.append(relation_tag(key))
        await connection.execute(
            sa.insert(relation_version).values(
                relation_id=relation_id,
                version=plan.new_version,
                name=info.name,
                description=info.description,
                source=info.source,
                source_list=info.source_list,
                target_list=info.target_list,
                qualifier_list=info.qualifier_list,
                changeset_id=publication.record.id,
                published_at=now,
                row_count=len(item.after.rows),
                added=len(plan.added),
                changed=len(plan.changed),
            )
        )
        replaced = [t.after.pair for t in item.transitions if t.before is not None]
        for start in range(0, len(replaced), _CHUNK):
            await connection.execute(
                sa.update(relation_row)
                .where(
                    relation_row.c.relation_id == relation_id,
                    relation_row.c.version_to.is_(None),
                    sa.tuple_(relation_row.c.source, relation_row.c.target).in_(
                        replaced[start : start + _CHUNK]
                    ),
                )
                .values(version_to=plan.new_version)
            )
        stamp = (relation_id, plan.new_version)
        await insert_many(
            connection,
            relation_row,
            RELATION_ROW_COLUMNS,
            [
                (r.source, r.target, r.valid_from, r.valid_to, r.active, r.qualifiers, *stamp)
                for r in (t.after for t in item.transitions)
            ],
        )
        for transition in item.transitions:
            publication.entry(
                info.source_list,
                transition.after.source,
                transition.kind,
                plan.new_version,
                publication.record.id,
                now,
                row_effective_date(transition.before, transition.after, published_on),
                transition.after,
                transition.before,
                relation=key,
                target=transition.after.target,
                also=(info.target_list,),
            )


async def _append_feed(connection: AsyncConnection, publication: _Publication) -> None:
    """The publish's change-feed entries, and a webhook batch for every interested
    subscription."""
    await insert_many(connection, change, FEED_COLUMNS, publication.feed)
    await subscriptions.enqueue(connection, publication.interested, publication.now)


async def _mark_published(
    connection: AsyncConnection, publication: _Publication, *, plan_stored: bool
) -> None:
    record = publication.record
    record.status = "published"
    record.published_at = publication.now.astimezone(UTC)
    record.versions = publication.versions
    record.seq = publication.seq
    await changesets.mark_published(connection, record, plan_stored=plan_stored)


async def _announce(connection: AsyncConnection, publication: _Publication) -> None:
    """Tell readers: the next publish generation, the purges of shared caches, and (on
    PostgreSQL) a NOTIFY delivered on commit to every replica LISTENing."""
    if not publication.purge_keys:
        return
    await connection.execute(
        sa.update(publish_lock)
        .where(publish_lock.c.id == 1)
        .values(generation=publish_lock.c.generation + 1)
    )
    # In this transaction, so a crash between commit and purge loses no purge.
    await purges.enqueue(connection, publication.purge_keys, publication.now)
    if connection.dialect.name == "postgresql":
        await connection.execute(sa.select(sa.func.pg_notify(NOTIFY_CHANNEL, str(publication.seq))))
